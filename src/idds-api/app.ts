/**
 * The wiring of `hpo-operator api`: one Kubernetes client (the server's own service account), the
 * request cache, the authoriser, the coalescing loss writer, the iDDS service mounted at its prefix,
 * and the HTTPS server with /healthz, /readyz and /metrics.
 */
import { Registry } from "prom-client";
import { HpoClient } from "../client/index.ts";
import { KubeClient, loadKubeConfig } from "../runtime/client.ts";
import type { Logger } from "../runtime/log.ts";
import { healthz, metricsHandler, readyz } from "../runtime/server.ts";
import { Authorizer } from "./auth.ts";
import type { ApiConfig } from "./config.ts";
import { createApiMetrics, iddsHandler } from "./handler.ts";
import { RequestLookup } from "./lookup.ts";
import { requestRoutes } from "./requests.ts";
import { type ApiServer, type Mount, startApiServer } from "./server.ts";
import { IddsService } from "./service.ts";
import { LossWriter } from "./writer.ts";

/** RunningApi is a started API server. */
export interface RunningApi {
  server: ApiServer;
  stop(): Promise<void>;
}

/**
 * ApiExtras are more handlers to mount beside the iDDS API, each under its own prefix (such as a
 * dashboard under /dashboard): the extension point of docs/idds-api.md.
 */
export interface ApiExtras {
  mounts?: Mount[];
}

/** startApi starts the API server of cfg; it resolves once it listens and its request cache is filled. */
export async function startApi(cfg: ApiConfig, log: Logger, extras: ApiExtras = {}): Promise<RunningApi> {
  const kube = new KubeClient(loadKubeConfig(cfg.kubeconfig, cfg.context), {
    qps: cfg.kubeApiQps,
    burst: cfg.kubeApiBurst,
  });
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const lookup = new RequestLookup(kube, cfg.namespaces, log);
  const service = new IddsService({
    auth: new Authorizer(kube, { cacheTtlMs: cfg.authCacheTtlMs }),
    lookup,
    client: new HpoClient({ kube }),
    writer: new LossWriter(kube, { onBatch: (n) => metrics.batch.observe(n) }),
    requests: requestRoutes({ kube, lookup, requestNamespace: cfg.requestNamespace }),
    onError: (err, route) => {
      metrics.errors.inc({ route });
      log.error("iDDS API request failed", { err, route });
    },
  });
  const synced = lookup.start();
  const server = await startApiServer({
    address: cfg.bindAddress,
    tls: { certFile: cfg.tlsCertFile, keyFile: cfg.tlsKeyFile },
    mounts: [{ prefix: cfg.prefix, handler: iddsHandler(service, metrics) }, ...(extras.mounts ?? [])],
    routes: {
      "/healthz": healthz(),
      "/readyz": readyz({ "request-cache": () => lookup.synced() }),
      "/metrics": metricsHandler(registry),
    },
    logger: log,
  });
  await synced;
  return {
    server,
    async stop() {
      await server.close();
      await lookup.stop();
      kube.close();
    },
  };
}
