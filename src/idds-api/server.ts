/**
 * The HTTPS server of `hpo-operator api`: it hands each request to the handler mounted at the
 * longest matching path prefix (`/idds` for the iDDS API by default; other handlers, such as a
 * dashboard, can be mounted beside it) and serves /healthz, /readyz and /metrics itself, without
 * authentication. The server is stateless: any number of replicas can run behind one Service.
 *
 * Extension point: a Mount is `{ prefix, handler }`; the handler gets the request, the response
 * and the path after the prefix (from "/"). Pass more mounts to startApiServer (see docs/idds-api.md).
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type Logger, noopLogger } from "../runtime/log.ts";
import { guarded, type Handler, listen, parseAddress } from "../runtime/server.ts";

/** MountHandler answers a request under its prefix; subpath is the path after the prefix ("/..."). */
export type MountHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  subpath: string,
) => void | Promise<void>;

/** Mount is a handler and the path prefix it serves ("/idds"). */
export interface Mount {
  prefix: string;
  handler: MountHandler;
}

/** ApiServerOptions configure startApiServer. */
export interface ApiServerOptions {
  address: string;
  /** tls: PEM files of the serving certificate and key; undefined serves plain HTTP. */
  tls?: { certFile: string; keyFile: string };
  mounts: Mount[];
  /** plain routes served as they are (/healthz, /readyz, /metrics). */
  routes: Record<string, Handler>;
  logger?: Logger;
}

/** ApiServer is a listening server. */
export interface ApiServer {
  readonly port: number;
  readonly scheme: "https" | "http";
  close(): Promise<void>;
}

/** normalisePrefix makes "idds/", "/idds" and "/idds/" all "/idds"; "/" and "" become "". */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

/** pickMount finds the mount of the longest prefix that path starts with, and the path after it. Pure. */
export function pickMount(
  mounts: readonly Mount[],
  path: string,
): { mount: Mount; subpath: string } | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const p = normalisePrefix(m.prefix);
    if (
      (path === p || path.startsWith(`${p}/`)) &&
      (!best || p.length > normalisePrefix(best.prefix).length)
    ) {
      best = m;
    }
  }
  if (!best) return undefined;
  const subpath = path.slice(normalisePrefix(best.prefix).length) || "/";
  return { mount: best, subpath };
}

/** startApiServer listens on options.address (HTTPS when tls is given) and serves the mounts. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const logger = options.logger ?? noopLogger;
  const bind = parseAddress(options.address);
  if (!bind) throw new Error("the API server needs a bind address (--bind-address)");
  const listener = guarded((req, res) => dispatch(options, req, res), logger);
  const server = options.tls
    ? createHttpsServer(
        { cert: readFileSync(options.tls.certFile), key: readFileSync(options.tls.keyFile) },
        listener,
      )
    : createHttpServer(listener);
  server.keepAliveTimeout = 65_000;
  const listening = await listen(server, options.address, bind);
  const scheme = options.tls ? "https" : "http";
  logger.info("Serving", {
    scheme,
    address: bind.host ?? "",
    port: listening.port,
    mounts: options.mounts.map((m) => normalisePrefix(m.prefix) || "/"),
  });
  return { ...listening, scheme };
}

async function dispatch(options: ApiServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const route = options.routes[path];
  if (route) return route(req, res);
  const hit = pickMount(options.mounts, path);
  if (!hit) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end(`not found: ${path} (the iDDS API is under ${options.mounts.map((m) => m.prefix).join(", ")})\n`);
    return;
  }
  await hit.mount.handler(req, res, hit.subpath);
}
