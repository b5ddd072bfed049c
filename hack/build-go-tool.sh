#!/usr/bin/env bash
# Builds the small Go program of a module folder in hack/ (hack/kstatus, hack/luahealth) with the
# Go module proxy into a cache folder keyed by a hash of its go.mod, go.sum and sources, and reuses
# it when it is already there. Prints the binary's path on its last line.
#
#   hack/build-go-tool.sh kstatus             # build when missing, print the binary
#   HPO_CACHE_DIR=/somewhere build-go-tool.sh  # cache root (default: ~/.cache/hpo-operator)
set -euo pipefail
name=${1:?usage: build-go-tool.sh <folder in hack/, such as kstatus>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src="$here/$name"
[[ -f "$src/go.mod" ]] || { echo "build-go-tool.sh: no Go module in $src" >&2; exit 2; }
cd "$src"
sum=$(cat go.mod go.sum ./*.go "$here/build-go-tool.sh" | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
out="$cache_root/$name/$sum"
if [[ -x "$out/$name" ]]; then
  echo "$name: cached in $out" >&2
  echo "$out/$name"
  exit 0
fi
command -v go >/dev/null || { echo "$name: needs Go (https://go.dev/dl) to build hack/$name" >&2; exit 1; }
echo "$name: building into $out (first time only)" >&2
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$tmp/$name" .
mv "$tmp/$name" "$out/$name"
echo "$out/$name"
