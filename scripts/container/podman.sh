#!/usr/bin/env bash
# podman as the container tests use it: our containers.conf, and the vfs storage driver, which
# works where overlay mounts are refused. Arguments are passed through.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CONTAINERS_CONF="$here/containers.conf"
exec podman --storage-driver vfs "$@"
