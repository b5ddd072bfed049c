/**
 * serveDashboard runs the dashboard on a local address with one kubeconfig's credentials: what
 * `kubectl hpo dashboard` does (and `make demo`, the tests and the benchmark).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeClient } from "../runtime/client.ts";
import { createDashboardHandler, type DashboardHandler } from "./handler.ts";
import { DashboardReader } from "./reader.ts";

/** ServeOptions choose the credentials and the address. */
export interface ServeOptions {
  kube: KubeClient;
  /** The namespaces to serve, exactly (default: every namespace the user may list requests in). */
  namespaces?: string[];
  /** Namespaces to show when the user may list requests in none it can find (default: the context's). */
  fallbackNamespaces?: string[];
  /** Port on 127.0.0.1 (0, the default, picks a free one). */
  port?: number;
  host?: string;
}

/** LocalDashboard is a running dashboard. */
export interface LocalDashboard {
  /** url is the page's address, such as http://127.0.0.1:8484/. */
  url: string;
  port: number;
  handler: DashboardHandler;
  close(): Promise<void>;
}

/** PortInUseError says the chosen port is taken. */
export class PortInUseError extends Error {}

/** serveDashboard starts the dashboard and resolves once it listens. */
export async function serveDashboard(options: ServeOptions): Promise<LocalDashboard> {
  const host = options.host ?? "127.0.0.1";
  const reader = new DashboardReader(options.kube);
  // Filled in once the port is known: only the printed address is served (no DNS rebinding).
  const allowedHosts: string[] = [];
  const handler = createDashboardHandler({
    reader,
    namespaces: options.namespaces,
    fallbackNamespaces: options.fallbackNamespaces,
    allowedHosts,
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        e.code === "EADDRINUSE"
          ? new PortInUseError(`port ${options.port} on ${host} is in use: choose another with --port`)
          : e,
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts.push(`${host}:${port}`, `localhost:${port}`);
  return {
    url: `http://${host}:${port}/`,
    port,
    handler,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await handler.close();
    },
  };
}
