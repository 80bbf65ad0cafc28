#!/usr/bin/env bash
# Debian's Chromium for the report page test (tests/test_run_report.py drives it headless).
# Installs only when /usr/bin/chromium is missing; needs root (apt-get), as on the CI machine.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: /usr/bin/chromium is missing; install Debian's 'chromium' package as root" >&2
  exit 1
fi
echo "Installing Debian's chromium (for the report page test)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
