/**
 * The transport against a real local HTTP server: Retry-After, the User-Agent, request metrics,
 * streams that never starve calls, credentials from client-node (token files, basic auth, exec
 * plugins with a timeout, dropped after a 401). TLS is tested against the real API server
 * (test/integration/credentials.test.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { KubeConfig, type User } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../test/support/kubeconfig-files.ts";
import { KubeClient, type KubeClientOptions, userAgent } from "./client.ts";
import { guardCredentials } from "./credentials-guard.ts";
import { type ApiError, CredentialError, UnavailableError } from "./errors.ts";
import { proxyEnv, retryDelay } from "./transport.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let url = "";
let handler: Handler = (_req, res) => res.end("{}");
const held: ServerResponse[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith("/watch")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("");
      held.push(res); // never ends: a watch
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** clientAs makes a client of the local server with this user (qps off unless options say). */
function clientAs(user: Omit<User, "name"> = {}, options: KubeClientOptions = {}): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ name: "c", server: url, skipTLSVerify: true }, { name: "u", ...user });
  return new KubeClient(kc, { qps: -1, ...options });
}

/** json answers with a JSON body and the given status and headers. */
const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

describe("retryDelay", () => {
  it.each([
    ["GET", 429, "3", 0, 3000],
    ["POST", 429, "1", 0, 1000], // a 429 was not processed: any method may be sent again
    ["GET", 503, "2", 0, 2000],
    ["POST", 503, "2", 0, undefined], // a 503 may have been processed: only idempotent methods
    ["PATCH", 503, "2", 0, undefined],
    ["DELETE", 503, "0", 0, 0],
    ["GET", 429, undefined, 0, undefined], // no Retry-After: the caller decides
    ["GET", 500, "1", 0, undefined],
    ["GET", 429, "soon", 0, undefined],
    ["GET", 429, "600", 0, 30_000], // capped
    ["GET", 429, "1", 10, undefined], // out of retries
  ] as const)("%s %d Retry-After %s (attempt %d) -> %s ms", (method, code, after, attempt, want) => {
    expect(retryDelay(method, code, after, attempt, 10)).toBe(want);
  });
});

describe("proxyEnv", () => {
  const env = { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: ".internal", http_proxy: "http://p2:8080" };
  it.each([
    ["https://api.example:6443", undefined, { HTTPS_PROXY: "http://proxy:3128", NO_PROXY: ".internal" }],
    ["http://api.example", undefined, { HTTP_PROXY: "http://p2:8080", NO_PROXY: ".internal" }],
    ["https://127.0.0.1:6443", undefined, undefined], // loopback is never proxied (Go's rule)
    ["https://[::1]:6443", undefined, undefined],
    ["https://localhost:6443", undefined, undefined],
    // The cluster's proxy-url is always used.
    [
      "https://127.0.0.1:6443",
      "http://mine:1",
      { HTTPS_PROXY: "http://mine:1", HTTP_PROXY: "http://mine:1" },
    ],
  ])("%s with proxy-url %s", (server, proxyUrl, want) => {
    expect(proxyEnv(new URL(server), proxyUrl, env)).toEqual(want);
  });
});

describe("Transport against a local server", () => {
  it("sends again after 429 with Retry-After, and after 503 with Retry-After on idempotent calls only", async () => {
    const client = clientAs();
    const seen: string[] = [];
    let answers: [number, Record<string, string>][] = [];
    handler = (req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const [code, headers] = answers.shift() ?? [200, {}];
      json(res, code, { code }, headers);
    };
    try {
      answers = [
        [429, { "retry-after": "0" }],
        [429, { "retry-after": "0" }],
      ];
      expect(await client.get("/a")).toEqual({ code: 200 });
      expect(seen).toEqual(["GET /a", "GET /a", "GET /a"]);
      seen.length = 0;
      answers = [[503, { "retry-after": "0" }]];
      const refused = await client.create("/b", {}).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UnavailableError);
      expect((refused as ApiError).statusCode).toBe(503);
      expect(seen).toEqual(["POST /b"]);
      seen.length = 0;
      answers = [[429, {}]]; // without Retry-After: the typed error, at once
      await expect(client.get("/c")).rejects.toBeInstanceOf(UnavailableError);
      expect(seen).toEqual(["GET /c"]);
    } finally {
      client.close();
    }
  });

  it("sends a User-Agent and counts each request in the metrics", async () => {
    const observed: [string, string, string][] = [];
    const client = clientAs({}, { metrics: { observe: (m, host, code) => observed.push([m, host, code]) } });
    handler = (req, res) => json(res, req.url === "/missing" ? 404 : 200, { ua: req.headers["user-agent"] });
    try {
      const { ua } = await client.get<{ ua: string }>("/ua");
      expect(ua).toBe(userAgent());
      expect(ua).toMatch(/^hpo-operator\/\d+\.\d+\.\d+ \(linux\/\w+\) node\/v\d+/);
      await client.get("/missing").catch(() => undefined);
      const host = new URL(url).host;
      expect(observed).toEqual([
        ["GET", host, "200"],
        ["GET", host, "404"],
      ]);
    } finally {
      client.close();
    }
  });

  it("keeps calls going while more watches are open than a calls agent has sockets", async () => {
    const client = clientAs();
    handler = (_req, res) => json(res, 200, { ok: true });
    const ac = new AbortController();
    try {
      const streams = Array.from({ length: 80 }, (_, i) =>
        client.lines(`/watch/${i}`, { signal: ac.signal }),
      );
      // Start each stream (the first next() sends the request) and wait until the server holds all.
      const pending = streams.map((s) => s.next().catch(() => undefined));
      const deadline = Date.now() + 10_000;
      while (held.length < 80 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      expect(held.length).toBe(80);
      expect(await client.get("/call", { signal: AbortSignal.timeout(5_000) })).toEqual({ ok: true });
      ac.abort();
      await Promise.all(pending);
    } finally {
      client.close();
      for (const r of held.splice(0)) r.destroy();
    }
  });

  it("sends a token file's token, trimmed, and basic auth", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "file-token\n");
    handler = (req, res) => json(res, 200, { auth: req.headers.authorization });
    const file = clientAs({ authProvider: { name: "tokenFile", config: { tokenFile: join(dir, "token") } } });
    const basic = clientAs({ username: "jane", password: "secret" });
    try {
      expect(await file.get("/")).toEqual({ auth: "Bearer file-token" });
      expect(await basic.get("/")).toEqual({
        auth: `Basic ${Buffer.from("jane:secret").toString("base64")}`,
      });
    } finally {
      file.close();
      basic.close();
    }
  });
});

describe("exec credential plugins (real processes)", () => {
  /** plugin writes a script that counts its runs and prints a token (or hangs with `hang`). */
  function plugin(dir: string, body: string): { command: string; apiVersion: string } {
    const command = join(dir, "plugin.sh");
    writeFileSync(
      command,
      `#!/bin/sh\nn=$(($(cat "${dir}/runs" 2>/dev/null || echo 0) + 1)); echo "$n" > "${dir}/runs"\necho $$ > "${dir}/pid"\n${body}\n`,
      { mode: 0o755 },
    );
    return { command, apiVersion: "client.authentication.k8s.io/v1" };
  }
  const credential = (token: string) =>
    `echo '${JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token, expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
    })}'`;

  it("client-node's authenticators have the shape guardCredentials hooks into", () => {
    const kc = new KubeConfig();
    expect(guardCredentials(kc, 1000).execTimeout).toBe(true);
  });

  it("caches the plugin's token until it expires, and runs the plugin again after a 401", async () => {
    const dir = tempDir();
    const client = clientAs({ exec: plugin(dir, credential("exec-token")) });
    let refuse = true;
    handler = (req, res) => {
      if (refuse) {
        refuse = false;
        json(res, 401, { kind: "Status", code: 401, message: "Unauthorized" });
      } else json(res, 200, { auth: req.headers.authorization });
    };
    try {
      const e = await client.get("/").catch((err: unknown) => err);
      expect((e as ApiError).statusCode).toBe(401);
      expect(await client.get("/")).toEqual({ auth: "Bearer exec-token" });
      expect(await client.get("/")).toEqual({ auth: "Bearer exec-token" });
      expect(readFileSync(join(dir, "runs"), "utf8").trim()).toBe("2");
    } finally {
      client.close();
    }
  });

  it("gives up on a plugin that hangs after the timeout, with a CredentialError, and kills it", async () => {
    const dir = tempDir();
    const client = clientAs({ exec: plugin(dir, "exec sleep 60") }, { execTimeoutMs: 300 });
    try {
      const started = Date.now();
      const e = await client.get("/").catch((err: unknown) => err);
      expect(e).toBeInstanceOf(CredentialError);
      expect((e as Error).message).toBe(
        'cannot get the credentials of user "u": no credentials within 0.3 s (an exec plugin that hangs?)',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
      const deadline = Date.now() + 5_000;
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive()).toBe(false);
    } finally {
      client.close();
    }
  });

  it("says which plugin failed and why", async () => {
    const dir = tempDir();
    const client = clientAs({ exec: plugin(dir, "echo 'token expired, run login' >&2; exit 3") });
    try {
      await expect(client.get("/")).rejects.toThrow(
        'cannot get the credentials of user "u": token expired, run login',
      );
    } finally {
      client.close();
    }
  });
});
