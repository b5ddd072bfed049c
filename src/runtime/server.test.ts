import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";
import {
  AddressInUseError,
  type Handler,
  healthz,
  metricsHandler,
  parseAddress,
  readyz,
  startHttpServer,
} from "./server.ts";

/** call runs a handler against a recording response (no sockets). */
async function call(h: Handler): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const out = { status: 0, headers: {} as Record<string, unknown>, body: "" };
  const res = {
    headersSent: false,
    setHeader(k: string, v: unknown) {
      out.headers[k.toLowerCase()] = v;
    },
    writeHead(status: number, headers: Record<string, unknown> = {}) {
      out.status = status;
      for (const [k, v] of Object.entries(headers)) out.headers[k.toLowerCase()] = v;
      return res;
    },
    end(body?: string) {
      out.body += body ?? "";
    },
  };
  await h({ method: "GET", url: "/" } as IncomingMessage, res as unknown as ServerResponse);
  return out;
}

describe("parseAddress", () => {
  it("reads host:port, :port, a bare port, IPv6 and disabled", () => {
    expect(parseAddress("127.0.0.1:8081")).toEqual({ host: "127.0.0.1", port: 8081 });
    expect(parseAddress(":8080")).toEqual({ host: undefined, port: 8080 });
    expect(parseAddress("0")).toEqual({ host: undefined, port: 0 });
    expect(parseAddress("[::1]:9000")).toEqual({ host: "::1", port: 9000 });
    expect(parseAddress("")).toBeUndefined();
  });
  it("refuses malformed addresses", () => {
    expect(() => parseAddress("localhost")).toThrow(/invalid bind address/);
    expect(() => parseAddress(":99999")).toThrow(/invalid bind address/);
  });
});

describe("probe handlers", () => {
  it("healthz answers ok", async () => {
    expect(await call(healthz())).toMatchObject({ status: 200, body: "ok\n" });
  });

  it("readyz passes only when every check passes, and names each", async () => {
    let synced = false;
    const h = readyz({
      caches: () => synced,
      leader: async () => true,
      broken: () => {
        throw new Error("x");
      },
    });
    const bad = await call(h);
    expect(bad.status).toBe(503);
    expect(bad.body).toContain("[-]caches failed");
    expect(bad.body).toContain("[+]leader ok");
    expect(bad.body).toContain("[-]broken failed");
    synced = true;
    const good = await call(readyz({ caches: () => synced }));
    expect(good).toMatchObject({ status: 200, body: "[+]caches ok\nreadyz check passed\n" });
  });

  it("metrics serves the registry in the Prometheus text format", async () => {
    const m = createMetrics({ processMetrics: false });
    m.lossesRecorded.inc(7);
    const r = await call(metricsHandler(m.registry));
    expect(r.status).toBe(200);
    expect(String(r.headers["content-type"])).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain("hpo_losses_recorded_total 7");
  });
});

describe("startHttpServer", () => {
  it("refuses an address in use with an AddressInUseError that names it", async () => {
    const first = await startHttpServer("127.0.0.1:0", { "/healthz": healthz() });
    try {
      const address = `127.0.0.1:${first.port}`;
      const second = startHttpServer(address, { "/healthz": healthz() });
      await expect(second).rejects.toBeInstanceOf(AddressInUseError);
      await expect(second).rejects.toMatchObject({ address, message: expect.stringContaining("in use") });
    } finally {
      await first.close();
    }
  });
});
