/**
 * The iDDS API as a MountHandler: it reads the HTTP request for IddsService, writes the Reply, and
 * records each request's route, code and duration in Prometheus metrics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Histogram, type Registry } from "prom-client";
import { badRequest } from "./envelope.ts";
import type { MountHandler } from "./server.ts";
import type { IddsService } from "./service.ts";

/** MAX_BODY_BYTES bounds a request body (an add_request): 4 MiB. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** ApiMetrics are the API server's own metrics. */
export interface ApiMetrics {
  requests: Histogram<"route" | "code">;
  batch: Histogram;
  errors: Counter<"route">;
}

/** createApiMetrics registers the API server's metrics in registry. */
export function createApiMetrics(registry: Registry): ApiMetrics {
  return {
    requests: new Histogram({
      name: "hpo_idds_api_request_duration_seconds",
      help: "Time to answer an iDDS API request, by route and HTTP status",
      labelNames: ["route", "code"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    batch: new Histogram({
      name: "hpo_idds_api_loss_batch_size",
      help: "Loss reports carried by one merge patch of a HyperParameterSet",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
      registers: [registry],
    }),
    errors: new Counter({
      name: "hpo_idds_api_internal_errors_total",
      help: "iDDS API requests answered with a server error (500), by route",
      labelNames: ["route"],
      registers: [registry],
    }),
  };
}

/** readBody reads a request body up to MAX_BODY_BYTES (a 400 BadRequest beyond). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw badRequest(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** iddsHandler mounts service; each answer is observed in metrics. */
export function iddsHandler(service: IddsService, metrics?: ApiMetrics): MountHandler {
  return async (req: IncomingMessage, res: ServerResponse, subpath: string) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const { reply, route } = await service.handle({
      method: req.method ?? "GET",
      path: subpath,
      search: url.searchParams,
      headers: req.headers,
      body: () => readBody(req),
    });
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
    metrics?.requests.observe({ route, code: String(reply.status) }, (performance.now() - started) / 1000);
  };
}
