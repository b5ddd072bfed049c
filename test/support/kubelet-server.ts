/**
 * The test kubelet's HTTPS API: `GET /containerLogs/{namespace}/{pod}/{container}` (what the API
 * server calls for `kubectl logs` and the pods/log subresource) and `/healthz`. Its certificate is
 * self-signed: the API server does not verify kubelet certificates unless
 * --kubelet-certificate-authority is set.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { FileCursor, Formatter, type LogQuery, parseQuery, tail } from "./kubelet-logs.ts";

/** LogSource is one container run's log file; done tells whether its process has ended. */
export interface LogSource {
  file: string;
  done(): boolean;
}

/** LogRefusal is why logs cannot be served, with the HTTP status the kubelet uses. */
export interface LogRefusal {
  status: number;
  message: string;
}

/** LogLookup finds the log of a container (its previous run when previous is set). */
export type LogLookup = (
  namespace: string,
  pod: string,
  container: string,
  previous: boolean,
) => LogSource | LogRefusal;

/** KubeletServer is the running HTTPS server. */
export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

/** selfSignedCertificate writes a key and a certificate for 127.0.0.1 into dir with openssl. */
export function selfSignedCertificate(dir: string, name: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, "kubelet.key");
  const cert = join(dir, "kubelet.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "30",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${name}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

const pollMs = 100;

async function streamLog(
  source: LogSource,
  q: LogQuery,
  res: import("node:http").ServerResponse,
  closed: () => boolean,
): Promise<void> {
  const cursor = new FileCursor(source.file);
  const f = new Formatter(q);
  res.write(f.format(tail(cursor.next(), q.tailLines)));
  while (q.follow && !f.full && !closed()) {
    // Read once more after the process ended so that its last output is not lost.
    const finished = source.done();
    const records = cursor.next();
    if (records.length) res.write(f.format(records));
    if (finished) break;
    if (!records.length) await new Promise((r) => setTimeout(r, pollMs));
  }
  res.end();
}

/** startKubeletServer serves container logs over HTTPS on a free loopback port. */
export async function startKubeletServer(
  tls: { key: Buffer; cert: Buffer },
  lookup: LogLookup,
  onError: (msg: string) => void,
): Promise<KubeletServer> {
  const server: Server = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const plain = (status: number, text: string) => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(text);
    };
    if (url.pathname === "/healthz") return plain(200, "ok");
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== "GET" || !m) return plain(404, "404 page not found\n");
    const [ns, pod, container] = [m[1], m[2], m[3]].map((s) => decodeURIComponent(s ?? ""));
    let q: LogQuery;
    try {
      q = parseQuery(url.searchParams);
    } catch (e) {
      return plain(400, (e as Error).message);
    }
    const source = lookup(ns ?? "", pod ?? "", container ?? "", url.searchParams.get("previous") === "true");
    if ("status" in source) return plain(source.status, source.message);
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    streamLog(source, q, res, () => closed).catch((e) => {
      onError(`serving logs of ${ns}/${pod}/${container}: ${(e as Error).message}`);
      res.destroy();
    });
  });
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(0, "127.0.0.1", () => res());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
