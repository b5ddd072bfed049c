# syntax=docker/dockerfile:1
# The hpo-operator image. One image, five commands (the entrypoint is `hpo-operator`):
#   run        the operator (the Helm chart and config/manager run this)
#   validate   check HPORequest/HyperParameterSet manifests offline (CI, pre-commit hooks)
#   generate   a built-in method as an iDDS steering container
#   stage-in   (generator Jobs) copy idds_input.json into the shared working folder
#   stage-out  (generator Jobs) check the generator's output and print it framed to the log
# Node.js runs the TypeScript sources directly (type stripping): there is no build step, only the
# production dependencies. Runs as 65532:65532 (the user the operator's generator Jobs ask for) and
# writes nothing to its root filesystem, so it runs with readOnlyRootFilesystem.
# Its structure, the entrypoint commands and hadolint are tested by test/integration/image.test.ts.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="hpo-operator" \
      org.opencontainers.image.description="Hyperparameter optimisation as a Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# No package managers at run time: fewer files, fewer scanner findings.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# `hpo-operator` on PATH is src/cli/main.ts itself (its #!/usr/bin/env node line), as npm links a bin.
RUN chmod 0755 /app/src/cli/main.ts && ln -s /app/src/cli/main.ts /usr/local/bin/hpo-operator
USER 65532:65532
ENTRYPOINT ["hpo-operator"]
CMD ["run"]
