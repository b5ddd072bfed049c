import { describe, expect, it } from "vitest";
import type { HPORequest, HPORequestStatus, HyperParameterSet, Point } from "../api/index.ts";
import { SetAggregates } from "../controller/setsview.ts";
import type { KubeClient } from "../runtime/client.ts";
import type { ReconcileContext } from "../runtime/controller.ts";
import { Informer } from "../runtime/informer.ts";
import { noopLogger } from "../runtime/log.ts";
import { Announcer, type AnnouncerDeps } from "./announcer.ts";
import { BrokerUnavailableError } from "./errors.ts";
import type { Outgoing } from "./messages.ts";
import type { Publisher } from "./publisher.ts";

const p = (id: number, generation: number): Point => ({
  id: String(id),
  params: { x: id },
  generation,
  state: "New",
  set: "r-1",
});

/** Applied is one server-side apply the fake API server received. */
interface Applied {
  path: string;
  contentType: string | undefined;
  query: Record<string, unknown> | undefined;
  body: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string };
    status: HPORequestStatus;
  };
}

/**
 * world is an announcer over unstarted informers, a fake API server that takes only a server-side
 * apply of the request's status (it merges the applied fields as the API server does for the
 * announcer's two fields: notification replaced, conditions merged by type) and a fake broker.
 */
function world(opts: { failAt?: number; connected?: boolean } = {}) {
  const uid = "0000000a-0000-0000-0000-000000000000";
  const req: HPORequest = {
    metadata: { name: "r", namespace: "n", uid, generation: 1, resourceVersion: "1" },
    spec: { method: "random" },
    status: {
      phase: "Waiting",
      generations: 2,
      lastGeneration: { number: 2, state: "Succeeded" },
      conditions: [
        { type: "Ready", status: "True", reason: "Waiting", message: "", lastTransitionTime: "t0" },
      ],
    },
  };
  const set: HyperParameterSet = {
    metadata: {
      name: "r-1",
      namespace: "n",
      ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: "r", uid }],
    },
    spec: { request: "r", firstId: 1, lastId: 10 },
    status: { total: 3, points: [p(1, 1), p(2, 1), p(3, 2)] },
  };
  const applied: Applied[] = [];
  let stored = req;
  const client = {
    async request(
      method: string,
      path: string,
      o: { body?: unknown; contentType?: string; query?: Record<string, unknown> } = {},
    ) {
      if (method !== "PATCH" || o.contentType !== "application/apply-patch+yaml")
        throw new Error(`the fake API server takes only a server-side apply, not ${method} ${o.contentType}`);
      const a = { path, contentType: o.contentType, query: o.query, body: o.body as Applied["body"] };
      applied.push(a);
      const mine = a.body.status.conditions ?? [];
      const others = (stored.status?.conditions ?? []).filter((c) => !mine.some((m) => m.type === c.type));
      stored = {
        ...stored,
        metadata: { ...stored.metadata, resourceVersion: String(applied.length + 1) },
        status: {
          ...stored.status,
          notification: a.body.status.notification,
          conditions: [...others, ...mine],
        },
      };
      return stored;
    },
  };
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
  const deps: AnnouncerDeps = {
    client: client as unknown as KubeClient,
    requests,
    sets,
    aggregates: new SetAggregates().follow(sets),
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
  };
  const announcer = new Announcer(deps);
  const ctx = { log: noopLogger, signal: new AbortController().signal, reconcileID: "t" } as ReconcileContext;
  return { announcer, deps, ctx, sent, applied, events, counts, stored: () => stored };
}

describe("Announcer.reconcile", () => {
  it("sends every batch in order and moves the watermark after the receipts", async () => {
    const w = world();
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({});
    expect(w.sent.map((m) => m.id)).toEqual([
      "0000000a-0000-0000-0000-000000000000/batch/1",
      "0000000a-0000-0000-0000-000000000000/batch/2",
    ]);
    expect(w.applied).toHaveLength(1);
    expect(w.stored().status?.notification).toMatchObject({
      confirmedGeneration: 2,
      unconfirmedBatches: 0,
      requestId: 0xa00000,
    });
    expect(w.stored().status?.conditions?.find((c) => c.type === "Announced")).toMatchObject({
      type: "Announced",
      status: "True",
    });
    expect(w.counts).toEqual({ sent: 2, failed: 0, backlog: 0 });
    // Nothing left: a second look sends and writes nothing.
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({});
    expect(w.sent).toHaveLength(2);
    expect(w.applied).toHaveLength(1);
  });

  it("stops at the first failure, keeps what was confirmed, says why once, and asks for a retry", async () => {
    const w = world({ failAt: 1 });
    expect(await w.announcer.reconcile("n/r", w.ctx)).toEqual({ requeue: true });
    expect(w.stored().status?.notification).toMatchObject({
      confirmedGeneration: 1,
      unconfirmedBatches: 1,
      lastError: "broker down",
    });
    expect(w.stored().status?.conditions?.find((c) => c.type === "Announced")).toMatchObject({
      status: "False",
      reason: "BrokerUnavailable",
    });
    expect(w.events).toEqual(["Warning/AnnounceFailed"]);
    expect(w.counts).toMatchObject({ sent: 1, failed: 1, backlog: 1 });
  });

  it("applies only status.notification and the Announced condition, under its own field manager", async () => {
    const w = world();
    await w.announcer.reconcile("n/r", w.ctx);
    expect(w.applied).toHaveLength(1);
    const a = w.applied[0] as Applied;
    expect(a.path).toBe("/apis/hpo.dev/v1alpha1/namespaces/n/hporequests/r/status");
    expect(a.query).toEqual({ fieldManager: "hpo-announcer", force: true });
    expect(a.body).toMatchObject({
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: { name: "r", namespace: "n" },
    });
    // Nothing of the reconciler's: no phase, no counts, no Ready condition (applying them would take them over).
    expect(Object.keys(a.body.status).sort()).toEqual(["conditions", "notification"]);
    expect(a.body.status.conditions?.map((c) => c.type)).toEqual(["Announced"]);
    expect(w.stored().status).toMatchObject({ phase: "Waiting", generations: 2 });
    expect(w.stored().status?.conditions?.map((c) => c.type)).toEqual(["Ready", "Announced"]);
  });

  it("applies its fields with messaging off too, and nothing when they would not change", async () => {
    const w = world();
    const off = new Announcer({ ...w.deps, publisher: undefined });
    await off.reconcile("n/r", w.ctx);
    expect(w.applied.map((a) => Object.keys(a.body.status).sort())).toEqual([["conditions", "notification"]]);
    expect(w.applied[0]?.body.status).toMatchObject({
      notification: { enabled: false, requestId: 0xa00000 },
      conditions: [{ type: "Announced", status: "False", reason: "MessagingDisabled" }],
    });
    expect(w.events).toEqual(["Normal/MessagingDisabled"]);
    await off.reconcile("n/r", w.ctx);
    expect(w.applied).toHaveLength(1);
  });

  it("waits for the first connection right after start instead of reporting a failure", async () => {
    const w = world({ connected: false });
    w.announcer.controller.queue.shutDown();
    w.announcer.start();
    expect((await w.announcer.reconcile("n/r", w.ctx)).requeueAfterMs).toBeGreaterThan(0);
    expect(w.applied).toHaveLength(0);
  });
});
