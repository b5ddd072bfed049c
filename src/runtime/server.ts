/**
 * The operator's HTTP endpoints: liveness (/healthz), readiness (/readyz) and Prometheus metrics
 * (/metrics), on one address or two, with node:http and exact-path routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { type Logger, noopLogger } from "./log.ts";

/** Handler answers one request. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Routes map exact paths ("/healthz") to handlers; only GET and HEAD are served. */
export type Routes = Record<string, Handler>;

/** HttpServer is a started server: the port it listens on (0 when disabled) and how to close it. */
export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** HealthCheck passes by returning true (or resolving true); false or throwing fails it. */
export type HealthCheck = () => boolean | Promise<boolean>;

/**
 * parseAddress reads a bind address: "host:port", ":port" (all interfaces), "port" ("0" picks a free
 * port), "[::1]:port"; "" means disabled and returns undefined.
 */
export function parseAddress(address: string): { host: string | undefined; port: number } | undefined {
  const a = address.trim();
  if (a === "") return undefined;
  const colon = a.lastIndexOf(":");
  const host = colon < 0 ? "" : a.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const portText = a.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new Error(`invalid bind address "${address}": use host:port, :port, a port, or "" to disable`);
  }
  return { host: host || undefined, port };
}

/** AddressInUseError is a bind address that another process (or server) already listens on. */
export class AddressInUseError extends Error {
  /** address is the bind address as configured, e.g. ":8081". */
  readonly address: string;
  constructor(address: string, options?: ErrorOptions) {
    super(`cannot listen on ${JSON.stringify(address)}: the address is in use`, options);
    this.name = "AddressInUseError";
    this.address = address;
  }
}

/** startHttpServer listens on address and serves routes; address "" starts nothing and returns port 0. */
export async function startHttpServer(
  address: string,
  routes: Routes,
  logger: Logger = noopLogger,
): Promise<HttpServer> {
  const bind = parseAddress(address);
  if (!bind) return { port: 0, close: async () => {} };
  const server = createServer(guarded((req, res) => serve(routes, req, res), logger));
  const listening = await listen(server, address, bind);
  logger.info("Serving HTTP", { address: bind.host ?? "", port: listening.port, paths: Object.keys(routes) });
  return listening;
}

/** guarded wraps a request handler so that a failure is logged and answered 500, never thrown. */
export function guarded(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error("HTTP handler failed", { err, path: req.url });
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    });
  };
}

/**
 * listen starts server on bind (address as configured, for the AddressInUseError) and returns its
 * port and a close that also ends kept-alive connections.
 */
export async function listen(
  server: Server,
  address: string,
  bind: { host: string | undefined; port: number },
): Promise<HttpServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new AddressInUseError(address, { cause: e }) : e),
    );
    server.listen(bind.port, bind.host, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const handler = routes[path];
  if (!handler) return text(res, 404, "not found\n");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return text(res, 405, "method not allowed\n");
  }
  await handler(req, res);
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  res.end(body);
}

/** healthz answers 200 "ok" while the process can serve requests at all (liveness). */
export function healthz(): Handler {
  return (_req, res) => text(res, 200, "ok\n");
}

/**
 * readyz runs every named check and answers 200 when all pass, 503 otherwise, listing each check as
 * `[+]name ok` or `[-]name failed` like the Kubernetes components do.
 */
export function readyz(checks: Record<string, HealthCheck>): Handler {
  return async (_req, res) => {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of Object.entries(checks)) {
      const passed = await Promise.resolve()
        .then(check)
        .then(
          (v) => v === true,
          () => false,
        );
      ok &&= passed;
      lines.push(`[${passed ? "+" : "-"}]${name} ${passed ? "ok" : "failed"}`);
    }
    text(res, ok ? 200 : 503, `${lines.join("\n")}\nreadyz check ${ok ? "passed" : "failed"}\n`);
  };
}

/** metricsHandler serves the registry in the Prometheus text format. */
export function metricsHandler(registry: Registry): Handler {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.writeHead(200, { "content-type": registry.contentType });
    res.end(body);
  };
}
