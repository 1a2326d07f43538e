#!/usr/bin/env bash
# Installs Verdaccio (a private npm registry) for the gryt-npm tests, which start it on 127.0.0.1: the
# version pinned in .ci/verdaccio/package.json, exactly as locked in .ci/verdaccio/package-lock.json
# (`npm ci`), into a cache folder the tests look in:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/gryt-ci/verdaccio-<version>
# The package.json's `overrides` make the install work with Node.js 20. Installs Node.js and npm with
# apt-get when npm is missing. Does nothing when that version is already installed there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
source "$(dirname "$0")/lib.sh"

source_dir="$(cd "$(dirname "$0")" && pwd)/verdaccio"

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  apt_install install-verdaccio nodejs npm
fi

version="$(node -p 'require(process.argv[1]).dependencies.verdaccio' "$source_dir/package.json")"
target="${XDG_CACHE_HOME:-$HOME/.cache}/gryt-ci/verdaccio-$version"
if [ -x "$target/node_modules/.bin/verdaccio" ] && cmp -s "$source_dir/package-lock.json" "$target/package-lock.json"; then
  exit 0
fi

mkdir -p "$(dirname "$target")"
work="$(mktemp -d "$(dirname "$target")/.verdaccio-$version.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$source_dir/package.json" "$source_dir/package-lock.json" "$work/"
(cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
rm -rf "$target"
mv "$work" "$target"
trap - EXIT
"$target/node_modules/.bin/verdaccio" --version >/dev/null
echo "install-verdaccio: verdaccio $version in $target"
