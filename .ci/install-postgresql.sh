#!/usr/bin/env bash
# Installs PostgreSQL, whose server the gryt-postgres tests start by hand (initdb/pg_ctl in a temp folder,
# as the unprivileged user `nobody` when they run as root). Does nothing when the binaries are present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-postgresql: need root or sudo to install postgresql" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi

${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends postgresql
# The package starts a cluster of its own; the tests start their own servers, so it only holds a port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postgresql 2>/dev/null; then
  ${sudo[@]+"${sudo[@]}"} systemctl stop postgresql || echo "install-postgresql: could not stop the postgresql service" >&2
fi
