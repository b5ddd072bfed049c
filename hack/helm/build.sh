#!/usr/bin/env bash
# Builds the helm CLI from the Go module pinned in go.mod (the `tool` directive) into a cache folder
# keyed by the pinned version and a hash of go.mod/go.sum, and reuses it when it is already there.
# Prints the folder holding the binary on its last line.
#
#   hack/helm/build.sh                    # build when missing, print the bin folder
#   HPO_CACHE_DIR=/somewhere build.sh     # cache root (default: ~/.cache/hpo-operator)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

helm_version=$(awk '$1=="helm.sh/helm/v3" {print $2}' go.mod)
sum=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
out="$cache_root/helm/helm-${helm_version}_${sum}"

if [[ -x "$out/bin/helm" ]]; then
  echo "helm: cached in $out/bin" >&2
  echo "$out/bin"
  exit 0
fi

echo "helm: building ${helm_version} into $out/bin (first time only; a few minutes on 2 cores)" >&2
mkdir -p "$out"
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# As helm's Makefile does: its version, and the Kubernetes version `helm template` and `helm lint`
# assume (from the client-go it is built with: v0.N.x is Kubernetes 1.N).
client_go=$(awk '$1=="k8s.io/client-go" {print $2}' go.mod)
kube_minor=$(echo "$client_go" | cut -d. -f2)
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${helm_version}"
ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${kube_minor}"
done
export CGO_ENABLED=0 GOFLAGS=-mod=mod
start=$(date +%s)
go build -trimpath -ldflags "$ldflags" -o "$tmp/helm" helm.sh/helm/v3/cmd/helm
rm -rf "$out/bin" && mv "$tmp" "$out/bin"
trap - EXIT
echo "helm: built in $(( $(date +%s) - start )) s" >&2
echo "$out/bin"
