/**
 * The probe and metrics servers on real sockets: probes and metrics on one address or on two, the
 * content types Prometheus and the kubelet expect, and a clean close.
 */
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../src/runtime/metrics.ts";
import {
  AddressInUseError,
  healthz,
  metricsHandler,
  readyz,
  startHttpServer,
} from "../../src/runtime/server.ts";

const get = (port: number, path: string, init?: RequestInit) =>
  fetch(`http://127.0.0.1:${port}${path}`, init);

describe("startHttpServer", () => {
  it("serves probes and metrics on one free port", async () => {
    const metrics = createMetrics();
    metrics.pointsGenerated.inc({ method: "random" }, 3);
    let synced = false;
    const srv = await startHttpServer("127.0.0.1:0", {
      "/healthz": healthz(),
      "/readyz": readyz({ caches: () => synced }),
      "/metrics": metricsHandler(metrics.registry),
    });
    try {
      expect(srv.port).toBeGreaterThan(0);
      expect((await get(srv.port, "/healthz")).status).toBe(200);
      expect((await get(srv.port, "/readyz")).status).toBe(503);
      synced = true;
      expect((await get(srv.port, "/readyz?verbose")).status).toBe(200);
      const m = await get(srv.port, "/metrics");
      expect(m.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      const body = await m.text();
      expect(body).toContain('hpo_points_generated_total{method="random"} 3');
      expect(body).toContain("process_resident_memory_bytes");
      expect((await get(srv.port, "/nope")).status).toBe(404);
      expect((await get(srv.port, "/healthz", { method: "POST" })).status).toBe(405);
    } finally {
      await srv.close();
    }
    await expect(get(srv.port, "/healthz")).rejects.toThrow();
  });

  it("serves probes and metrics on two addresses, and starts nothing for an empty address", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const probes = await startHttpServer("127.0.0.1:0", { "/healthz": healthz() });
    const metricsSrv = await startHttpServer("127.0.0.1:0", { "/metrics": metricsHandler(metrics.registry) });
    const disabled = await startHttpServer("", { "/healthz": healthz() });
    try {
      expect(probes.port).not.toBe(metricsSrv.port);
      expect((await get(probes.port, "/metrics")).status).toBe(404);
      expect((await get(metricsSrv.port, "/metrics")).status).toBe(200);
      expect(disabled.port).toBe(0);
    } finally {
      await Promise.all([probes.close(), metricsSrv.close(), disabled.close()]);
    }
  });

  it("rejects when the port is taken", async () => {
    const first = await startHttpServer("127.0.0.1:0", {});
    try {
      const taken = startHttpServer(`127.0.0.1:${first.port}`, {});
      await expect(taken).rejects.toBeInstanceOf(AddressInUseError);
      await expect(taken).rejects.toThrow(
        `cannot listen on "127.0.0.1:${first.port}": the address is in use`,
      );
    } finally {
      await first.close();
    }
  });
});
