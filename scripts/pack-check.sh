#!/usr/bin/env bash
# The package as a new user gets it: `npm pack`, install the tarball into a fresh folder from the
# registry, then run `lava --version` and `lava quickstart` there. Fails when the package is broken,
# when an optional driver or cloud SDK is installed by default, or when a CLI command needs one.
# Prints what the install cost: packages, MB of node_modules, seconds.
#
#   bash scripts/pack-check.sh              # from anywhere in the repository
#   PACK_CHECK_KEEP=1 bash scripts/pack-check.sh   # keep the folder to look at it
#   PACK_CHECK_APP=DIR bash scripts/pack-check.sh   # also leave the installed folder at DIR (the image
#                                                  # test builds from it: scripts/container-build.sh --app)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lava-pack-check.XXXXXX")
if [ -z "${PACK_CHECK_KEEP:-}" ]; then trap 'rm -rf "$work"' EXIT; else echo "pack-check: keeping $work"; fi

# Packages that only some users need: never installed by default (peerDependenciesMeta optional).
optional=(@aws-sdk mysql2 oracledb tedious dockerode ssh2)

echo "pack-check: npm pack (builds dist/)"
tgz=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
[ -f "$work/$tgz" ] || { echo "pack-check: npm pack made no tarball" >&2; exit 1; }
echo "pack-check: $tgz is $(du -k "$work/$tgz" | cut -f1) kB"

app="$work/app"
mkdir -p "$app"
cd "$app"
printf '{ "name": "lava-pack-check", "private": true }\n' >package.json
t0=$(date +%s%N)
npm install --no-audit --no-fund --loglevel=error "$work/$tgz"
t1=$(date +%s%N)
seconds=$(((t1 - t0) / 1000000000))

packages=$(node -e '
  const lock = require("./package-lock.json");
  console.log(Object.keys(lock.packages).filter((k) => k.startsWith("node_modules/")).length);
')
mb=$(du -sm node_modules | cut -f1)
scripts=$(node -e '
  const lock = require("./package-lock.json");
  const names = Object.entries(lock.packages).filter(([, v]) => v.hasInstallScript).map(([k]) => k.replace(/^.*node_modules\//, ""));
  console.log(names.join(" ") || "none");
')
echo "pack-check: install: $packages packages, $mb MB in node_modules, $seconds s (npm $(npm --version), node $(node --version))"
echo "pack-check: packages with install scripts: $scripts"

status=0
for p in "${optional[@]}"; do
  if [ -e "node_modules/$p" ]; then
    echo "pack-check: FAIL: node_modules/$p is installed by default; it must be an optional peer dependency" >&2
    status=1
  fi
done

version=$(npx --no-install lava --version)
echo "pack-check: lava --version: $version"
if ! printf '%s' "$version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{12}'; then
  echo "pack-check: FAIL: lava --version does not name the build's commit" >&2
  status=1
fi

npx --no-install lava quickstart --dir "$work/quickstart" >"$work/quickstart.out" 2>&1 || {
  cat "$work/quickstart.out" >&2
  echo "pack-check: FAIL: lava quickstart failed in the installed package" >&2
  exit 1
}
grep -Eq 'demo/hello +[0-9a-f-]{36} +complete' "$work/quickstart.out" || {
  cat "$work/quickstart.out" >&2
  echo "pack-check: FAIL: lava quickstart did not complete demo/hello" >&2
  exit 1
}

# A feature whose package is missing says which one to install (and does not crash at start).
aws_out=$(npx --no-install lava --backend 'aws://?region=eu-west-1' aws bootstrap --realm x 2>&1) && {
  echo "pack-check: FAIL: the AWS backend opened without the AWS SDK installed" >&2
  status=1
}
case "$aws_out" in
  *LAVA_MISSING_PACKAGE*'npm install @aws-sdk/client-dynamodb'*) ;;
  *) echo "pack-check: FAIL: the AWS backend without its SDK said: $aws_out" >&2; status=1 ;;
esac

if [ "$status" -eq 0 ] && [ -n "${PACK_CHECK_APP:-}" ]; then
  rm -rf "$PACK_CHECK_APP" && mkdir -p "$(dirname "$PACK_CHECK_APP")" && cp -a "$app" "$PACK_CHECK_APP"
  echo "pack-check: installed folder copied to $PACK_CHECK_APP"
fi
[ "$status" -eq 0 ] && echo "pack-check: OK"
exit "$status"
