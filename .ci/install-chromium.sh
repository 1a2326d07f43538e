#!/usr/bin/env bash
# Installs Debian's `chromium`, which the `gryt report` tests start headless (--dump-dom, --screenshot) to
# check the HTML report in a real browser. Does nothing when /usr/bin/chromium is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-chromium: need root or sudo to install chromium" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi

${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
