#!/usr/bin/env bash
# Makes sure at least two CPython versions among 3.10-3.13 are installed, for the gryt-python tests (one
# environment per Python version; a version that is missing is skipped with a reason). Looks where
# gryt-python looks: python3.X on PATH, pyenv's versions folder and uv's managed interpreters. With fewer
# than two, installs Debian's python3 with venv support (the second one the tests need then has to come
# from pyenv: interpreter downloads from elsewhere are not allowed here). Does nothing when two are present.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
uv_root="${UV_PYTHON_INSTALL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/uv/python}"
found=0
for minor in 10 11 12 13; do
  for candidate in "python3.$minor" "$pyenv_root"/versions/3."$minor".*/bin/python3 "$uv_root"/cpython-3."$minor".*/bin/python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.implementation.name != "cpython")' >/dev/null 2>&1; then
      found=$((found + 1))
      break
    fi
  done
done
if [ "$found" -ge 2 ]; then
  exit 0
fi

apt_install install-pythons python3 python3-venv
echo "install-pythons: found $found of CPython 3.10-3.13 before installing Debian's python3; the gryt-python" \
  "tests skip the versions that are missing" >&2
