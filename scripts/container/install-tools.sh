#!/usr/bin/env bash
# Installs what the container test needs (podman, runc, debootstrap) when it is missing. Only with
# CI=true or SPEND_ALERTS_INSTALL=1: on a developer's machine it says what to install instead.
set -euo pipefail
missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ "${CI:-}" != "true" && "${SPEND_ALERTS_INSTALL:-}" != "1" ]]; then
  echo "container test: missing ${missing[*]}; run: apt-get update && apt-get install -y podman runc debootstrap" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq podman runc debootstrap >/dev/null
