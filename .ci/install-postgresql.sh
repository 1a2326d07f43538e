#!/usr/bin/env bash
# Installs PostgreSQL, whose server the gryt-postgres tests start by hand (initdb/pg_ctl in a temp folder,
# as the unprivileged user `nobody` when they run as root). Does nothing when the binaries are present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
source "$(dirname "$0")/lib.sh"

if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  exit 0
fi

apt_install install-postgresql postgresql
# The package starts a cluster of its own; the tests start their own servers, so it only holds a port.
stop_service install-postgresql postgresql
