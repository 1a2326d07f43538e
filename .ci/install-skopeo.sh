#!/usr/bin/env bash
# Installs skopeo, the registry client the gryt-oci tests use to check what was pushed (`skopeo inspect`,
# `skopeo copy` back to an OCI layout), from Debian's packages. Does nothing when it is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
source "$(dirname "$0")/lib.sh"

if command -v skopeo >/dev/null 2>&1; then
  exit 0
fi

apt_install install-skopeo skopeo
