#!/usr/bin/env bash
# Prints a folder to put first on PATH so that `node` is Node.js >= 22.19 (the project's engines).
# When the system Node is older (these machines ship Node 20), it brings the official Node.js 24
# binary from the npm registry (package node-linux-<arch>) into a cache folder, once.
# Prints nothing when the system Node is new enough.
set -euo pipefail
NODE_VERSION=${HPO_NODE_VERSION:-24.21.0}
need_major=22 need_minor=19

if command -v node >/dev/null 2>&1; then
  v=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
  major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}
  if (( major > need_major || (major == need_major && minor >= need_minor) )); then exit 0; fi
fi

case "$(uname -m)" in
  x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; ppc64le) arch=ppc64le ;; s390x) arch=s390x ;;
  *) echo "ensure-node: no Node.js package for $(uname -m); install Node.js >= 22.19 yourself" >&2; exit 1 ;;
esac
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
dir="$cache_root/node-$NODE_VERSION-linux-$arch"
bin="$dir/node_modules/node-linux-$arch/bin"
if [[ ! -x "$bin/node" ]]; then
  command -v npm >/dev/null || { echo "ensure-node: npm is needed to fetch Node.js $NODE_VERSION" >&2; exit 1; }
  echo "ensure-node: system Node is ${v:-missing}; fetching Node.js $NODE_VERSION from the npm registry into $dir" >&2
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
    "node-linux-$arch@$NODE_VERSION" >&2
  "$bin/node" --version >/dev/null
fi
echo "$bin"
