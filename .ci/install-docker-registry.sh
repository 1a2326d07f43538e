#!/usr/bin/env bash
# Installs the services the gryt-auth-docker tests start by hand: Debian's `docker-registry` (the
# distribution v2 registry) and `apache2-utils` (htpasswd). Does nothing when both are present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-docker-registry: need root or sudo to install ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi

${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package ships a system service; the tests start their own registries, so a running one only
# holds a port and is stopped when possible.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  ${sudo[@]+"${sudo[@]}"} systemctl stop docker-registry \
    || echo "install-docker-registry: could not stop the docker-registry service" >&2
fi
