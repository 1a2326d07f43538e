#!/usr/bin/env bash
# Installs skopeo, the registry client the gryt-oci tests use to check what was pushed (`skopeo inspect`,
# `skopeo copy` back to an OCI layout), from Debian's packages. Does nothing when it is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if command -v skopeo >/dev/null 2>&1; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-skopeo: need root or sudo to install skopeo" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi

${sudo[@]+"${sudo[@]}"} apt-get update -qq
${sudo[@]+"${sudo[@]}"} apt-get install -y -qq --no-install-recommends skopeo
