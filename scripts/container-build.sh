#!/usr/bin/env bash
# Build the lava container image (Containerfile): pack lava into a fresh build context, then build.
#
#   bash scripts/container-build.sh [--tag NAME] [--base IMAGE] [--host-install | --app DIR] [-- BUILD-ARGS…]
#
#   --tag NAME       image name (default lava:<version>)
#   --base IMAGE     base image (default the Containerfile's node:20-bookworm-slim)
#   --host-install   install lava's dependencies on this host (npm install of the packed tarball) instead
#                    of in the build stage; only for a host with the base's Debian release and Node major
#   --app DIR        use DIR, a folder where the packed tarball is installed already (node_modules/lava-ts)
#
# The engine is podman, else docker (CONTAINER_ENGINE=… to choose). Prints the image name last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').version")
tag="lava:$version"
base=""
mode=build
app=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --host-install) mode=host; shift ;;
    --app) mode=app; app=$(cd "$2" && pwd); shift 2 ;;
    --) shift; break ;;
    *) echo "container-build: unknown option $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
engine=${CONTAINER_ENGINE:-$(command -v podman >/dev/null && echo podman || echo docker)}

ctx=$(mktemp -d "${TMPDIR:-/tmp}/lava-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/context"
cp "$root/Containerfile" "$ctx/Containerfile"
(cd "$root" && npm pack --silent --pack-destination "$ctx/context" >/dev/null)
case "$mode" in
  host)
    mkdir -p "$ctx/context/app"
    (cd "$ctx/context/app" && printf '{ "name": "lava-image", "private": true }\n' >package.json &&
      npm install --omit=dev --no-audit --no-fund --loglevel=error ../lava-ts-*.tgz) >&2
    ;;
  app)
    [ -f "$app/node_modules/lava-ts/package.json" ] || { echo "container-build: $app has no node_modules/lava-ts" >&2; exit 2; }
    cp -a "$app" "$ctx/context/app"
    ;;
esac
"$engine" build ${base:+--build-arg "BASE=$base"} -t "$tag" -f "$ctx/Containerfile" "$@" "$ctx" >&2
echo "$tag"
