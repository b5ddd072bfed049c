import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient } from "./client.ts";
import { UnavailableError } from "./errors.ts";

// A real HTTP server that answers /fast at once and never answers /slow.
let server: Server;
let client: KubeClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith("/fast")) {
      res.setHeader("content-type", "application/json");
      res.end('{"ok":true}');
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true },
    { name: "u" },
  );
  client = new KubeClient(kc);
});
afterAll(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("KubeClient.bound", () => {
  it("makes the same calls while its signal is live", async () => {
    const ac = new AbortController();
    expect(await client.bound(ac.signal).get("/fast")).toEqual({ ok: true });
  });

  it("stops a call in flight when its signal aborts (a reconcile's timeout), as an UnavailableError", async () => {
    const ac = new AbortController();
    const call = client.bound(ac.signal).get("/slow", { timeoutMs: 60_000 });
    setTimeout(() => ac.abort(new Error("reconcile timed out")), 50);
    await expect(call).rejects.toBeInstanceOf(UnavailableError);
  });

  it("keeps the caller's own signal too", async () => {
    const mine = new AbortController();
    const call = client
      .bound(new AbortController().signal)
      .get("/slow", { signal: mine.signal, timeoutMs: 60_000 });
    mine.abort();
    await expect(call).rejects.toBeInstanceOf(UnavailableError);
  });
});
