#!/usr/bin/env bash
# Installs the services the gryt-auth-docker tests start by hand: Debian's `docker-registry` (the
# distribution v2 registry) and `apache2-utils` (htpasswd). Does nothing when both are present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
source "$(dirname "$0")/lib.sh"

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

apt_install install-docker-registry "${missing[@]}"
# The package ships a system service; the tests start their own registries, so a running one only
# holds a port and is stopped when possible.
stop_service install-docker-registry docker-registry
