/**
 * A recording proxy in front of the test API server, for tests that must know exactly which API
 * calls a client made and how each was answered (the chart's RBAC test). It listens on plain HTTP
 * on loopback and forwards every request to the API server over TLS with the client's own
 * credentials (its Authorization header) and nothing of the admin's, so RBAC sees the client.
 * Streams (watches, logs) are piped through as they come.
 *
 * It can answer chosen calls with a 409 Conflict instead of forwarding them (once each), so that a
 * client's conflict paths run, and their permissions are used, on purpose rather than by chance.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import type { AddressInfo } from "node:net";
import { loadKubeConfig } from "../../src/runtime/client.ts";

/** ApiCall is one request as the proxy saw it, with the RBAC attributes the API server derives. */
export interface ApiCall {
  method: string;
  path: string;
  query: string;
  /** status is the HTTP status of the answer (0 when the upstream call failed). */
  status: number;
  /** injected is true when the proxy answered with a conflict itself. */
  injected: boolean;
  /** verb, group, resource (with /subresource), namespace and name: as RBAC sees the call. */
  verb: string;
  group: string;
  resource: string;
  namespace: string;
  name: string;
  /** blockOwnerDeletion: a create whose object has an owner reference with blockOwnerDeletion. */
  blockOwnerDeletion: boolean;
}

/** Injection answers the first call matching method and path with 409 Conflict. */
export interface Injection {
  method: string;
  path: RegExp;
}

/** RecordingProxy is a running proxy. */
export interface RecordingProxy {
  /** url is the proxy's address, to be used as a kubeconfig's server. */
  url: string;
  calls: ApiCall[];
  close(): Promise<void>;
}

/**
 * permissionsNeeded are the RBAC permissions ("group|resource|verb") a call stands for. A streaming
 * list (a watch with sendInitialEvents=true) is authorised as a watch, but it is the list of an
 * informer, which lists with a plain list where the API server refuses streaming lists (1.30, 1.31,
 * 1.33): it needs list as well.
 */
export function permissionsNeeded(c: ApiCall): string[] {
  const base = `${c.group}|${c.resource}`;
  const streamingList =
    c.verb === "watch" && new URLSearchParams(c.query).get("sendInitialEvents") === "true";
  return streamingList ? [`${base}|watch`, `${base}|list`] : [`${base}|${c.verb}`];
}

/** attributes derives RBAC's request attributes from an API path and method. */
export function attributes(
  method: string,
  path: string,
  query: URLSearchParams,
): Pick<ApiCall, "verb" | "group" | "resource" | "namespace" | "name"> {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let group = "";
  let rest: string[];
  if (parts[0] === "api") rest = parts.slice(2);
  else if (parts[0] === "apis") {
    group = parts[1] ?? "";
    rest = parts.slice(3);
  } else
    return {
      verb: method.toLowerCase(),
      group: "",
      resource: `nonResource:${path}`,
      namespace: "",
      name: "",
    };
  let namespace = "";
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1] ?? "";
    rest = rest.slice(2);
  }
  const [plural = "", name = "", sub] = rest;
  const resource = sub ? `${plural}/${sub}` : plural;
  const watch = query.get("watch") === "true" || query.get("watch") === "1";
  const verb =
    method === "GET" || method === "HEAD"
      ? watch
        ? "watch"
        : name
          ? "get"
          : "list"
      : method === "POST"
        ? "create"
        : method === "PUT"
          ? "update"
          : method === "PATCH"
            ? "patch"
            : method === "DELETE"
              ? name
                ? "delete"
                : "deletecollection"
              : method.toLowerCase();
  return { verb, group, resource, namespace, name };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** startRecordingProxy forwards to the API server of adminKubeconfig (its CA only, never its credentials). */
export async function startRecordingProxy(
  adminKubeconfig: string,
  inject: Injection[] = [],
): Promise<RecordingProxy> {
  const kc = loadKubeConfig(adminKubeconfig);
  const upstream = new URL(kc.getCurrentCluster()?.server ?? "");
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls); // the admin's CA (its credentials are not used)
  const agent = new Agent({ keepAlive: true, ca: tls.ca });
  const pending = [...inject];
  const calls: ApiCall[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://proxy");
      const method = req.method ?? "GET";
      const body = await readBody(req);
      const call: ApiCall = {
        method,
        path: url.pathname,
        query: url.search,
        status: 0,
        injected: false,
        ...attributes(method, url.pathname, url.searchParams),
        blockOwnerDeletion:
          method === "POST" && /"blockOwnerDeletion"\s*:\s*true/.test(body.toString("utf8")),
      };
      calls.push(call);
      const i = pending.findIndex((x) => x.method === method && x.path.test(url.pathname));
      if (i >= 0) {
        pending.splice(i, 1);
        call.status = 409;
        call.injected = true;
        res.writeHead(409, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            kind: "Status",
            apiVersion: "v1",
            status: "Failure",
            reason: "Conflict",
            code: 409,
            message:
              "Operation cannot be fulfilled: the object has been modified (injected by the test proxy)",
          }),
        );
        return;
      }
      const headers = { ...req.headers, host: upstream.host };
      const up = httpsRequest(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method,
          path: url.pathname + url.search,
          headers,
          agent,
        },
        (answer) => {
          call.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on("error", (e) => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
        res.end(`proxy: ${e.message}`);
      });
      res.on("close", () => up.destroy());
      up.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
