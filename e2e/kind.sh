#!/usr/bin/env bash
# make test-e2e: the end-to-end specs on a kind cluster, for hosts with Docker (not these CI machines,
# which run the same specs on the local control plane in `make test`). Creates a cluster, builds and
# loads the image, installs the Helm chart, runs e2e/specs against it, and deletes the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in docker kind helm kubectl; do
  command -v "$tool" >/dev/null || { echo "test-e2e needs $tool on PATH (and a running Docker engine)" >&2; exit 1; }
done
cluster=${E2E_CLUSTER:-hpo-e2e}
image=${E2E_OPERATOR_IMAGE:-hpo-operator:e2e}
kubeconfig=$(mktemp)
trap 'kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; rm -f "$kubeconfig"' EXIT
kind create cluster --name "$cluster" --kubeconfig "$kubeconfig" --wait 120s
docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"
helm install hpo-operator charts/hpo-operator --kubeconfig "$kubeconfig" --namespace hpo-system --create-namespace \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never --wait --timeout 180s
KUBECONFIG=$kubeconfig USE_EXISTING_CLUSTER=1 E2E_KIND=1 E2E_OPERATOR_IMAGE=$image \
  node scripts/run-tests.ts --project integration e2e/specs
