#!/usr/bin/env bash
# A local stand-in for node:20-bookworm-slim, for machines that reach Debian's apt but no container
# registry (the image test, CI): Debian 12 made with debootstrap, with the database clients already in
# it, plus this host's node binary (Node 20 is not in Debian 12's apt; the host is Debian 12 too, so
# the binary fits the base's glibc). Imported into podman as $LAVA_BASE_IMAGE.
#
#   bash scripts/container-base.sh        # prints the image name; cached under .cache/container-base/
#
# Needs root, debootstrap and podman. The rootfs tarball is kept, so a second run only re-imports it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
image=${LAVA_BASE_IMAGE:-localhost/lava-base:bookworm}
cache="$root/.cache/container-base"
tarball="$cache/rootfs.tar"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$cache"

if podman image exists "$image" 2>/dev/null; then echo "$image"; exit 0; fi

if [ ! -s "$tarball" ]; then
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "container-base: debootstrap bookworm into $rootfs (a few minutes the first time)" >&2
  debootstrap --variant=minbase \
    --include=ca-certificates,postgresql-client,default-mysql-client,sqlite3,libstdc++6 \
    bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -n 30 "$cache/debootstrap.log" >&2
    exit 1
  }
  install -m 0755 "$(readlink -f "$(command -v node)")" "$rootfs/usr/local/bin/node"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
podman import -q "$tarball" "$image" >/dev/null
echo "$image"
