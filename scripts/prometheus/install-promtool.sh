#!/usr/bin/env bash
# Installs Debian's prometheus package for its promtool (checks and unit tests of
# examples/prometheus-rules.yaml) when promtool is missing. Only with CI=true or
# SPEND_ALERTS_INSTALL=1: on a developer's machine it says what to install instead.
set -euo pipefail
command -v promtool >/dev/null 2>&1 && exit 0
if [[ "${CI:-}" != "true" && "${SPEND_ALERTS_INSTALL:-}" != "1" ]]; then
  echo "rule checks: missing promtool; run: apt-get update && apt-get install -y --no-install-recommends prometheus" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
