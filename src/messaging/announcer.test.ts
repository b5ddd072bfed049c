import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet, Point } from "../api/index.ts";
import type { KubeClient } from "../runtime/client.ts";
import type { ReconcileContext } from "../runtime/controller.ts";
import { ConflictError } from "../runtime/errors.ts";
import { Informer } from "../runtime/informer.ts";
import { noopLogger } from "../runtime/log.ts";
import { Announcer } from "./announcer.ts";
import { BrokerUnavailableError } from "./errors.ts";
import type { Outgoing } from "./messages.ts";
import type { Publisher } from "./publisher.ts";

const p = (id: number, generation: number): Point => ({
  id: String(id),
  params: { x: id },
  generation,
  state: "New",
});

/** world is an announcer over unstarted informers, a fake API (with an optional conflict) and a fake broker. */
function world(opts: { failAt?: number; conflicts?: number; connected?: boolean } = {}) {
  const fake = { metadata: { resourceVersion: "1" } };
  const req: HPORequest = {
    metadata: {
      name: "r",
      namespace: "n",
      uid: "0000000a-0000-0000-0000-000000000000",
      generation: 1,
      ...fake.metadata,
    },
    spec: { method: "random" },
    status: { phase: "Waiting", generations: 2, conditions: [] },
  };
  const set: HyperParameterSet = {
    metadata: { name: "r", namespace: "n" },
    spec: { request: "r" },
    status: { points: [p(1, 1), p(2, 1), p(3, 2)] },
  };
  const client = { get: undefined as unknown, replace: undefined as unknown } as Record<string, unknown>;
  const requests = new Informer<HPORequest>({
    client: client as unknown as KubeClient,
    apiVersion: "hpo.dev/v1alpha1",
    plural: "hporequests",
    log: noopLogger,
  });
  const sets = new Informer<HyperParameterSet>({
    client: client as unknown as KubeClient,
    apiVersion: "hpo.dev/v1alpha1",
    plural: "hyperparametersets",
    log: noopLogger,
  });
  requests.upsert(req);
  sets.upsert(set);
  let stored = req;
  let conflicts = opts.conflicts ?? 0;
  const writes: HPORequest[] = [];
  client.replace = async (_path: string, body: HPORequest) => {
    if (conflicts-- > 0) {
      // someone else wrote meanwhile: the reconciler moved the phase on
      stored = {
        ...stored,
        status: { ...stored.status, phase: "Finished" },
        metadata: { ...stored.metadata, resourceVersion: "2" },
      };
      throw new ConflictError(409, "conflict");
    }
    writes.push(body);
    stored = body;
    return body;
  };
  client.get = async () => stored;
  const sent: Outgoing[] = [];
  const publisher: Publisher = {
    connected: opts.connected ?? true,
    async send(m) {
      if (opts.failAt !== undefined && sent.length >= opts.failAt)
        throw new BrokerUnavailableError("broker down");
      sent.push(m);
    },
  };
  const events: string[] = [];
  const counts = { sent: 0, failed: 0, backlog: 0 };
  const announcer = new Announcer({
    client: client as unknown as KubeClient,
    requests,
    sets,
    publisher,
    recorder: { record: (_t, type, reason) => events.push(`${type}/${reason}`) },
    metrics: {
      sent: () => counts.sent++,
      failed: () => counts.failed++,
      backlog: (_k, n) => {
        counts.backlog = n ?? 0;
      },
      connected: () => {},
    },
    logger: noopLogger,
    destination: "/topic/hpo.points",
    ttlMs: 0,
  });
  const ctx = { log: noopLogger, signal: new AbortController().signal, reconcileID: "t" } as ReconcileContext;
  return { announcer, ctx, sent, writes, events, counts, stored: () => stored };
}

describe("Announcer.reconcile", () => {
  it("sends every batch in order and moves the watermark after the receipts", async () => {
    const w = world();
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({});
    expect(w.sent.map((m) => m.id)).toEqual([
      "0000000a-0000-0000-0000-000000000000/batch/1",
      "0000000a-0000-0000-0000-000000000000/batch/2",
    ]);
    expect(w.writes).toHaveLength(1);
    expect(w.stored().status?.notification).toMatchObject({
      confirmedGeneration: 2,
      unconfirmedBatches: 0,
      requestId: 0xa00000,
    });
    expect(w.stored().status?.conditions?.[0]).toMatchObject({ type: "Announced", status: "True" });
    expect(w.counts).toEqual({ sent: 2, failed: 0, backlog: 0 });
    // Nothing left: a second look sends and writes nothing.
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({});
    expect(w.sent).toHaveLength(2);
    expect(w.writes).toHaveLength(1);
  });

  it("stops at the first failure, keeps what was confirmed, says why once, and asks for a retry", async () => {
    const w = world({ failAt: 1 });
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({ requeue: true });
    expect(w.stored().status?.notification).toMatchObject({
      confirmedGeneration: 1,
      unconfirmedBatches: 1,
      lastError: "broker down",
    });
    expect(w.stored().status?.conditions?.[0]).toMatchObject({
      status: "False",
      reason: "BrokerUnavailable",
    });
    expect(w.events).toEqual(["Warning/AnnounceFailed"]);
    expect(w.counts).toMatchObject({ sent: 1, failed: 1, backlog: 1 });
  });

  it("re-applies its fields on a fresh copy after a conflict, keeping the other controller's", async () => {
    const w = world({ conflicts: 1 });
    await w.announcer.reconcile("n/r", w.ctx);
    expect(w.stored().status?.phase).toBe("Finished");
    expect(w.stored().status?.notification?.confirmedGeneration).toBe(2);
  });

  it("waits for the first connection right after start instead of reporting a failure", async () => {
    const w = world({ connected: false });
    w.announcer.controller.queue.shutDown();
    w.announcer.start();
    expect((await w.announcer.reconcile("n/r", w.ctx)).requeueAfterMs).toBeGreaterThan(0);
    expect(w.writes).toHaveLength(0);
  });
});
