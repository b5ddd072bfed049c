/**
 * The reconciler (the layer that carries decide()'s actions out) behind its narrow interfaces: an
 * in-memory API that answers create, get and the three kinds of PATCH the reconciler sends, real
 * informer caches filled by the reconciler's own writes, and a generator that answers at once.
 */
import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet } from "../api/index.ts";
import { ApplyPatch } from "../runtime/apply.ts";
import { JsonPatch, type KubeClient, MergePatch } from "../runtime/client.ts";
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from "../runtime/errors.ts";
import { Informer } from "../runtime/informer.ts";
import { noopLogger } from "../runtime/log.ts";
import { request, settings } from "./core.testkit.ts";
import type { GenerationOutcome, GenerationRequest, Generator } from "./generator.ts";
import { FIELD_MANAGER, Reconciler } from "./reconciler.ts";
import { SetAggregates } from "./setsview.ts";

type Obj = { metadata: { name: string; resourceVersion?: string }; status?: Record<string, unknown> };

/** FakeApi keeps objects by path and answers as the API server does for what the reconciler sends. */
class FakeApi {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  private rv = 1;
  /** failNext makes the next append of points fail as a JSON patch whose test failed. */
  failNextAppend = false;

  private stamp<T extends Obj>(o: T): T {
    o.metadata.resourceVersion = String(++this.rv);
    return structuredClone(o);
  }
  async create<T>(collection: string, body: Obj): Promise<T> {
    const path = `${collection}/${body.metadata.name}`;
    this.calls.push(`create ${body.metadata.name}`);
    if (this.objects.has(path)) throw new AlreadyExistsError(409, `${body.metadata.name} exists`);
    const o = structuredClone(body);
    this.objects.set(path, o);
    return this.stamp(o) as T;
  }
  async get<T>(path: string): Promise<T> {
    const o = this.objects.get(path);
    if (!o) throw new NotFoundError(404, `${path} not found`);
    return structuredClone(o) as T;
  }
  async request<T>(
    method: string,
    path: string,
    opts: { body?: unknown; contentType?: string; query?: Record<string, unknown> },
  ): Promise<T> {
    const key = path.replace(/\/status$/, "");
    const o = this.objects.get(key);
    if (method !== "PATCH" || !o) throw new NotFoundError(404, `${method} ${path}`);
    if (opts.contentType === MergePatch) {
      const body = opts.body as Obj;
      this.calls.push(`merge ${o.metadata.name}`);
      if (body.metadata.resourceVersion !== o.metadata.resourceVersion)
        throw new ConflictError(409, "changed");
      o.status = { ...o.status, ...body.status };
    } else if (opts.contentType === JsonPatch) {
      const ops = opts.body as { op: string; path: string; value: unknown }[];
      this.calls.push(`append ${o.metadata.name} ${ops.filter((x) => x.op === "add").length}`);
      const status = (o.status ?? {}) as { total?: number; points?: unknown[] };
      if (this.failNextAppend || ops[0]?.value !== status.total) {
        this.failNextAppend = false;
        throw new InvalidError(422, "the server rejected our request due to an error in our request");
      }
      for (const x of ops) if (x.op === "add") status.points = [...(status.points ?? []), x.value];
      status.total = ops.at(-1)?.value as number;
      o.status = status;
    } else if (opts.contentType === ApplyPatch) {
      this.calls.push(`apply ${o.metadata.name} as ${opts.query?.fieldManager}`);
      o.status = (opts.body as Obj).status;
    }
    return this.stamp(o) as T;
  }
}

/** answering is a generator that answers every generation at once with count points x = firstId.. */
function answering(): Generator & { asked: GenerationRequest[] } {
  const asked: GenerationRequest[] = [];
  return {
    asked,
    recordsIntent: false,
    async generate(g): Promise<GenerationOutcome> {
      asked.push(g);
      return {
        kind: "points",
        points: Array.from({ length: g.count }, (_, i) => ({ x: g.firstId + i })),
        warnings: [],
      };
    },
  };
}

function setup(req: HPORequest) {
  const api = new FakeApi();
  api.objects.set("/apis/hpo.dev/v1alpha1/namespaces/ns/hporequests/r", structuredClone(req) as Obj);
  const inf = { client: api as unknown as KubeClient, log: noopLogger, apiVersion: "hpo.dev/v1alpha1" };
  const requests = new Informer<HPORequest>({ ...inf, plural: "hporequests" });
  const sets = new Informer<HyperParameterSet>({
    ...inf,
    plural: "hyperparametersets",
  });
  requests.upsert(req);
  const gen = answering();
  const events: string[] = [];
  const reconciler = new Reconciler({
    client: api as unknown as KubeClient,
    requests,
    sets,
    aggregates: new SetAggregates().follow(sets),
    generatorFor: () => gen,
    recorder: { record: (_t, type, reason) => events.push(`${type} ${reason}`) },
    metrics: {
      pointsGenerated() {},
      lossesRecorded() {},
      generationDuration() {},
      generationFailed() {},
      phase() {},
    },
    settings,
    now: () => new Date("2026-12-07T04:00:00Z"),
  });
  const run = () => reconciler.reconcile("ns/r", noopLogger);
  const stored = (name: string) =>
    (
      api.objects.get(`/apis/hpo.dev/v1alpha1/namespaces/ns/hyperparametersets/${name}`)?.status?.points as
        | { id: string }[]
        | undefined
    )?.map((p) => Number(p.id));
  return { api, requests, sets, gen, events, run, stored };
}

describe("Reconciler", () => {
  it("creates the sets a batch needs, stores it in id order and applies the status as hpo-reconciler", async () => {
    // pointsPerGeneration 6 with one float parameter: more points per set than that, so use 3 per set.
    const w = setup(request({ pointsPerGeneration: 6 }, { pointsPerSet: 3 }));
    const result = await w.run();
    expect(w.gen.asked.map((g) => [g.number, g.count, g.firstId])).toEqual([[1, 6, 1]]);
    // The status says Generating first; the batch comes back at once and is stored, then recorded.
    const apply = `apply r as ${FIELD_MANAGER}`;
    expect(w.api.calls).toEqual([apply, "create r-1", "create r-2", "merge r-1", "merge r-2", apply]);
    expect([w.stored("r-1"), w.stored("r-2")]).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(result.requeue).toBe(true);
    expect(w.events).toContain("Normal GenerationFinished");
    // The caches hold the reconciler's own writes: the next look stores nothing twice.
    w.api.calls.length = 0;
    await w.run();
    expect(w.api.calls.filter((c) => !c.startsWith("apply"))).toEqual([]);
  });

  it("appends to a set that holds points with a JSON patch conditional on what it held", async () => {
    const w = setup(request({ pointsPerGeneration: 2, maxPoints: 4 }, { pointsPerSet: 3 }));
    await w.run();
    const fresh = w.requests.get("ns", "r") as HPORequest;
    // Every point evaluated: the next generation comes, ids 3 and 4, across r-1 and r-2.
    const set = w.sets.get("ns", "r-1") as HyperParameterSet;
    w.sets.upsert({
      ...set,
      metadata: { ...set.metadata, resourceVersion: "1000" },
      spec: { ...set.spec, losses: { "1": 0.5, "2": 0.25 } },
    });
    w.requests.upsert(fresh);
    w.api.calls.length = 0;
    await w.run();
    expect(w.api.calls.slice(0, 3)).toEqual(["create r-2", "append r-1 1", "merge r-2"]);
    expect([w.stored("r-1"), w.stored("r-2")]).toEqual([[1, 2, 3], [4]]);
  });

  it("after an append refused as stale, reads the set again and looks again: no point stored twice", async () => {
    const w = setup(request({ pointsPerGeneration: 2, maxPoints: 4 }, { pointsPerSet: 3 }));
    await w.run();
    const set = w.sets.get("ns", "r-1") as HyperParameterSet;
    w.sets.upsert({
      ...set,
      metadata: { ...set.metadata, resourceVersion: "1000" },
      spec: { ...set.spec, losses: { "1": 0.5, "2": 0.25 } },
    });
    w.api.failNextAppend = true;
    expect(await w.run()).toEqual({ requeue: true });
    // The stored outcome is asked again (the generator keeps none here): the same ids, once each.
    await w.run();
    await w.run();
    expect([w.stored("r-1"), w.stored("r-2")]).toEqual([[1, 2, 3], [4]]);
  });

  it("forgets a request that is gone", async () => {
    const w = setup(request());
    w.requests.upsert({
      ...request(),
      metadata: { ...request().metadata, deletionTimestamp: "2026-12-07T00:00:00Z", resourceVersion: "99" },
    });
    expect(await w.run()).toEqual({});
    expect(w.api.calls).toEqual([]);
  });
});
