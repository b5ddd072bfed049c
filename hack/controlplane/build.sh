#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from the Go modules pinned in
# go.mod into a cache folder keyed by the pinned versions and a hash of go.mod/go.sum, and reuses
# them when they are already there. Prints the folder holding the binaries on its last line.
#
#   hack/controlplane/build.sh            # build when missing, print the bin folder
#   HPO_CACHE_DIR=/somewhere build.sh     # cache root (default: ~/.cache/hpo-operator)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

kube_version=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' go.mod)
etcd_version=$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3}' go.mod)
sum=$(cat go.mod go.sum etcd/main.go build.sh | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
out="$cache_root/controlplane/kube-${kube_version}_etcd-${etcd_version}_${sum}"
bins=(etcd kube-apiserver kube-controller-manager kubectl)

complete=1
for b in "${bins[@]}"; do [[ -x "$out/bin/$b" ]] || complete=0; done
if [[ $complete == 1 ]]; then
  echo "control plane binaries: cached in $out/bin" >&2
  echo "$out/bin"
  exit 0
fi

echo "control plane binaries: building kube ${kube_version}, etcd ${etcd_version} into $out/bin (first time only; ~15-30 min on 2 cores)" >&2
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
minor=$(echo "$kube_version" | cut -d. -f2)
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$kube_version -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" ./etcd
rm -rf "$out/bin" && mv "$tmp" "$out/bin"
trap - EXIT
echo "control plane binaries: built in $(( $(date +%s) - start )) s" >&2
echo "$out/bin"
