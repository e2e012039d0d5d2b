#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (npm run test:browser) when it is missing. Only
# with CI=true or SPEND_ALERTS_INSTALL=1: on a developer's machine it says what to install instead.
set -euo pipefail
chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$chromium" ]] && exit 0
if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  echo "browser tests: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file" >&2
  exit 1
fi
if [[ "${CI:-}" != "true" && "${SPEND_ALERTS_INSTALL:-}" != "1" ]]; then
  echo "browser tests: missing $chromium; run: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
