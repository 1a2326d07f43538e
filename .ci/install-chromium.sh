#!/usr/bin/env bash
# Installs Debian's `chromium`, which the `gryt report` tests start headless (--dump-dom, --screenshot) to
# check the HTML report in a real browser. Does nothing when /usr/bin/chromium is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
source "$(dirname "$0")/lib.sh"

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

apt_install install-chromium chromium fonts-dejavu-core
