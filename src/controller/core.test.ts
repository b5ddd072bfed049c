import { describe, expect, it } from "vitest";
import type { HPORequest, HPORequestStatus, HyperParameterSet } from "../api/index.ts";
import { compileSearchSpace } from "../generators/space.ts";
import {
  type Action,
  type CoreSettings,
  type Decision,
  decide,
  type Finished,
  type Observed,
} from "./core.ts";
import { paramsBytesOf, pointsPerSet } from "./sizing.ts";

const settings: CoreSettings = {
  policy: { retries: 2, retryBaseMs: 5_000, retryMaxMs: 60_000 },
  setBytes: 8192,
  statusIntervalMs: 1_000,
  paramsBytesWithoutSpace: 1_024,
};
const now = new Date("2026-12-07T04:00:00Z");
const UID = "u-1";

/** request builds HPORequest r (one float parameter x) with spec and status overrides. */
function request(spec: Partial<HPORequest["spec"]> = {}, status?: HPORequestStatus): HPORequest {
  return {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name: "r", namespace: "ns", uid: UID, generation: 1 },
    spec: {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 100 } },
      pointsPerGeneration: 6,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/**
 * hps builds set r-k of perSet points per set, holding the points [id, generation] (params {x: id})
 * and the reports given.
 */
function hps(
  k: number,
  perSet: number,
  points: [number, number][],
  reports: { losses?: Record<string, number>; failed?: Record<string, string> } = {},
): HyperParameterSet {
  return {
    metadata: {
      name: `r-${k}`,
      namespace: "ns",
      ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: "r", uid: UID }],
    },
    spec: { request: "r", firstId: (k - 1) * perSet + 1, lastId: k * perSet, ...reports },
    status: {
      total: points.length,
      points: points.map(([id, generation]) => ({ id: String(id), params: { x: id }, generation })),
    },
  };
}

/** ids makes [id, generation] pairs for ids from..to. */
const ids = (from: number, to: number, generation: number): [number, number][] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, generation]);

function observe(req: HPORequest, sets: HyperParameterSet[], extra: Partial<Observed> = {}): Observed {
  return { request: req, sets, recordsIntent: false, now, ...extra };
}

/** kinds shows a decision's actions briefly: "createSet r-2", "storePoints r-2 @0 [5..8]", ... */
function kinds(d: Decision): string[] {
  return d.actions.map((a) => {
    if (a.kind === "createSet") return `createSet ${a.name} ${a.firstId}-${a.lastId}`;
    if (a.kind === "storePoints")
      return `storePoints ${a.name} @${a.stored} [${a.points.map((p) => p.id).join(",")}]`;
    if (a.kind === "generate") return `generate #${a.number} ${a.count}@${a.firstId} try ${a.attempt}`;
    if (a.kind === "settle") return `settle #${a.number}`;
    return "applyStatus";
  });
}

const statusOf = (d: Decision): HPORequestStatus | undefined =>
  (
    d.actions.filter((a) => a.kind === "applyStatus").at(-1) as
      | Extract<Action, { kind: "applyStatus" }>
      | undefined
  )?.status;

const reasons = (d: Decision) => d.events.map((e) => `${e.type}/${e.reason}`);

const points = (n: number, warnings: string[] = []): Finished => ({
  kind: "points",
  points: Array.from({ length: n }, (_, i) => ({ x: 50 + i })),
  warnings,
});

/** settled is the request with the status a decision applied (what the next reconcile reads). */
function settled(req: HPORequest, d: Decision): HPORequest {
  const s = statusOf(d);
  return s ? { ...req, status: s } : req;
}

describe("decide: initial points", () => {
  it("stores initial points across the sets they need, set by set in id order, and looks again", () => {
    const initial = Array.from({ length: 10 }, (_, i) => ({
      params: { x: i },
      ...(i < 2 ? { loss: i } : {}),
    }));
    const d = decide(observe(request({ initialPoints: initial }, { pointsPerSet: 4 }), []), settings);
    expect(kinds(d)).toEqual([
      "createSet r-1 1-4",
      "storePoints r-1 @0 [1,2,3,4]",
      "createSet r-2 5-8",
      "storePoints r-2 @0 [5,6,7,8]",
      "createSet r-3 9-12",
      "storePoints r-3 @0 [9,10]",
      "applyStatus",
    ]);
    const store = d.actions.filter((a) => a.kind === "storePoints");
    expect(store[0]).toMatchObject({ points: [{ id: "1", params: { x: 0 }, generation: 0 }, {}, {}, {}] });
    expect(reasons(d)).toEqual(["Normal/SetCreated"]);
    expect(d.events[0]?.message).toContain("each set holds 4 points");
    expect(d.requeue).toBe(true);
    expect(d.actions.some((a) => a.kind === "generate")).toBe(false);
    expect(statusOf(d)).toMatchObject({ pointsPerSet: 4, sets: 3 });
  });

  it("computes the points per set from the search space on the first reconcile, and records it", () => {
    const d = decide(observe(request({ initialPoints: [{ params: { x: 1 } }] }), []), settings);
    const space = compileSearchSpace({ x: { type: "float", low: 0, high: 100 } });
    if (!space.ok) throw new Error(space.error);
    const n = pointsPerSet(paramsBytesOf(space.value), settings.setBytes, 1000);
    expect(n).toBeGreaterThan(1);
    expect(d.actions[0]).toEqual({ kind: "createSet", name: "r-1", firstId: 1, lastId: n });
    expect(statusOf(d)?.pointsPerSet).toBe(n);
  });

  it("stores only the initial points a set does not hold yet", () => {
    const initial = Array.from({ length: 6 }, (_, i) => ({ params: { x: i + 1 } }));
    const d = decide(
      observe(request({ initialPoints: initial }, { pointsPerSet: 4 }), [hps(1, 4, ids(1, 2, 0))]),
      settings,
    );
    expect(kinds(d).filter((k) => k !== "applyStatus")).toEqual([
      "storePoints r-1 @2 [3,4]",
      "createSet r-2 5-8",
      "storePoints r-2 @0 [5,6]",
    ]);
  });
});

describe("decide: starting a generation", () => {
  const evaluated = hps(1, 4, ids(1, 2, 0));
  const req = request(
    {
      initialPoints: [
        { params: { x: 1 }, loss: 1 },
        { params: { x: 2 }, loss: 2 },
      ],
    },
    { pointsPerSet: 4 },
  );

  it("asks a built-in generator for points without writing an intent first", () => {
    const d = decide(observe(req, [evaluated]), settings);
    const gen = kinds(d).indexOf("generate #1 6@3 try 1");
    expect(gen).toBeGreaterThanOrEqual(0);
    // no status before the generate, and no status saying Running at all
    expect(kinds(d).slice(0, gen)).not.toContain("applyStatus");
    expect(statusOf(d)?.lastGeneration).toBeUndefined();
    expect(reasons(d)).not.toContain("Normal/GenerationStarted");
  });

  it("records a Job generator's intent (lastGeneration Running) before it starts", () => {
    const d = decide(observe(req, [evaluated], { recordsIntent: true }), settings);
    expect(kinds(d).slice(0, 2)).toEqual(["applyStatus", "generate #1 6@3 try 1"]);
    expect(d.actions[0]).toMatchObject({
      status: {
        phase: "Generating",
        lastGeneration: {
          number: 1,
          requested: 6,
          firstId: 3,
          state: "Running",
          attempts: 1,
          startedAt: now.toISOString(),
        },
      },
    });
    expect(reasons(d)).toContain("Normal/GenerationStarted");
    expect(d.phase).toBe("Generating");
  });

  it("resumes a Running generation of a Job with the same ids, without a second intent", () => {
    const running = {
      number: 1,
      requested: 6,
      firstId: 3,
      state: "Running" as const,
      attempts: 1,
      startedAt: "t",
    };
    const d = decide(
      observe(request(req.spec, { pointsPerSet: 4, lastGeneration: running }), [evaluated], {
        recordsIntent: true,
      }),
      settings,
    );
    expect(kinds(d)[0]).toBe("generate #1 6@3 try 1");
    expect(reasons(d)).not.toContain("Normal/GenerationStarted");
  });
});

describe("decide: a finished generation", () => {
  // Set r-1 (ids 1-4) holds the two initial points, evaluated.
  const initial = [
    { params: { x: 1 }, loss: 1 },
    { params: { x: 2 }, loss: 2 },
  ];
  const base = request({ initialPoints: initial }, { pointsPerSet: 4 });
  const outcome = (result: Finished, number = 1, attempt = 1, firstId = 3) => ({
    number,
    attempt,
    firstId,
    result,
  });

  it("stores a batch that spans several sets, set by set in id order, and records it", () => {
    const d = decide(observe(base, [hps(1, 4, ids(1, 2, 0))], { outcome: outcome(points(6)) }), settings);
    // settled only once stored: a store cut short finds the outcome again (Generator.kept)
    expect(kinds(d)).toEqual([
      "storePoints r-1 @2 [3,4]",
      "createSet r-2 5-8",
      "storePoints r-2 @0 [5,6,7,8]",
      "settle #1",
      "applyStatus",
    ]);
    const s = statusOf(d);
    expect(s?.lastGeneration).toMatchObject({
      number: 1,
      firstId: 3,
      state: "Succeeded",
      added: 6,
      requested: 6,
      completedAt: now.toISOString(),
      message: "added 6 points (ids 3-8)",
    });
    expect(s).toMatchObject({
      sets: 2,
      generations: 1,
      points: { total: 8, evaluated: 2, unevaluated: 6, failed: 0 },
    });
    expect(reasons(d)).toEqual(["Normal/GenerationFinished"]);
    expect(d).toMatchObject({ requeue: true, generated: 6 });
    const stored = d.actions.filter((a) => a.kind === "storePoints").flatMap((a) => a.points);
    expect(stored.map((p) => [p.id, p.generation])).toEqual(ids(3, 8, 1).map(([i, g]) => [String(i), g]));
    expect(stored[0]?.params).toEqual({ x: 50 });
  });

  it("stores at most the points asked for, and quotes the generator's warnings", () => {
    const o = points(9, ["dropped 1 duplicate point(s)"]);
    const d = decide(observe(base, [hps(1, 4, ids(1, 2, 0))], { outcome: outcome(o) }), settings);
    expect(d.generated).toBe(6);
    expect(statusOf(d)?.lastGeneration?.message).toBe(
      "added 6 points (ids 3-8); dropped 1 duplicate point(s)",
    );
  });

  it("never stores an id twice: a batch partly stored already is completed with the missing ids only", () => {
    // The operator stored ids 3-4 of generation 1 in r-1, then stopped before r-2 was written.
    const sets = [hps(1, 4, [...ids(1, 2, 0), ...ids(3, 4, 1)])];
    const d = decide(observe(base, sets, { outcome: outcome(points(6)) }), settings);
    const stored = d.actions.filter((a) => a.kind === "storePoints");
    expect(stored.flatMap((a) => a.points.map((p) => p.id))).toEqual(["5", "6", "7", "8"]);
    expect(kinds(d)).toContain("createSet r-2 5-8");
    expect(statusOf(d)?.lastGeneration).toMatchObject({
      number: 1,
      state: "Succeeded",
      added: 6,
      firstId: 3,
    });
    // counted once: 2 initial points, 2 stored before, 4 stored now
    expect(statusOf(d)?.points).toMatchObject({ total: 8, unevaluated: 6 });
    expect(d.generated).toBe(4);
  });

  it("stores nothing again when the whole batch is stored", () => {
    const sets = [hps(1, 4, [...ids(1, 2, 0), ...ids(3, 4, 1)]), hps(2, 4, ids(5, 8, 1))];
    const d = decide(observe(base, sets, { outcome: outcome(points(6)) }), settings);
    expect(d.actions.filter((a) => a.kind === "storePoints" || a.kind === "createSet")).toEqual([]);
  });

  it("records a failed generation, with a Warning, and looks again (to retry after the backoff)", () => {
    const d = decide(
      observe(base, [hps(1, 4, ids(1, 2, 0))], {
        outcome: outcome({ kind: "failed", message: "worker timed out" }),
      }),
      settings,
    );
    expect(kinds(d)).toEqual(["settle #1", "applyStatus"]);
    expect(statusOf(d)?.lastGeneration).toMatchObject({
      number: 1,
      state: "Failed",
      added: 0,
      message: "worker timed out",
      attempts: 1,
    });
    expect(d.events).toContainEqual({
      type: "Warning",
      reason: "GenerationFailed",
      message: "generation 1 failed (attempt 1): worker timed out",
    });
    expect(d).toMatchObject({ failedGeneration: true, requeue: true });
    // The next look waits for the backoff, then retries generation 1 from the same id.
    const next = settled(request(base.spec, statusOf(d)), d);
    expect(decide(observe(next, [hps(1, 4, ids(1, 2, 0))]), settings).requeueAfterMs).toBe(5_000);
    const later = decide(
      observe(next, [hps(1, 4, ids(1, 2, 0))], { now: new Date(now.getTime() + 5_000) }),
      settings,
    );
    expect(kinds(later)).toContain("generate #1 6@3 try 2");
  });

  it("fails the request once a generation failed past its retries", () => {
    const lg = {
      number: 1,
      state: "Failed" as const,
      attempts: 2,
      firstId: 3,
      completedAt: now.toISOString(),
    };
    const req = request(base.spec, { pointsPerSet: 4, lastGeneration: lg });
    const d = decide(
      observe(req, [hps(1, 4, ids(1, 2, 0))], {
        outcome: outcome({ kind: "failed", message: "boom" }, 1, 3),
        now: new Date(now.getTime() + 60_000),
      }),
      settings,
    );
    expect(statusOf(d)?.lastGeneration).toMatchObject({ state: "Failed", attempts: 3 });
    expect(d.phase).toBe("SubFinished");
    expect(reasons(d)).toEqual(["Warning/GenerationFailed", "Normal/SubFinished"]);
  });

  it("records an exhausted generator: no more generations, and the request ends", () => {
    const d = decide(
      observe(base, [hps(1, 4, ids(1, 2, 0))], { outcome: outcome({ kind: "exhausted" }) }),
      settings,
    );
    expect(statusOf(d)).toMatchObject({
      exhausted: true,
      phase: "Finished",
      lastGeneration: { state: "Succeeded", added: 0 },
    });
    expect(reasons(d)).toEqual(["Normal/GeneratorExhausted", "Normal/Finished"]);
    const next = decide(observe(settled(base, d), [hps(1, 4, ids(1, 2, 0))]), settings);
    expect(next.actions.filter((a) => a.kind === "generate")).toEqual([]);
  });

  it("ignores an outcome of another generation or attempt", () => {
    const d = decide(
      observe(base, [hps(1, 4, ids(1, 2, 0))], { outcome: outcome(points(6), 1, 2) }),
      settings,
    );
    expect(kinds(d)).toContain("generate #1 6@3 try 1");
    expect(d.actions.some((a) => a.kind === "storePoints")).toBe(false);
  });

  it("refuses a batch without a search space whose point is too big for a set", () => {
    const req = request(
      { method: "container", searchSpace: undefined, initialPoints: undefined },
      { pointsPerSet: 4 },
    );
    const big: Finished = { kind: "points", points: [{ x: 1 }, { blob: "y".repeat(2_000) }], warnings: [] };
    const d = decide(observe(req, [], { outcome: outcome(big, 1, 1, 1), recordsIntent: true }), settings);
    expect(statusOf(d)?.lastGeneration).toMatchObject({ state: "Failed" });
    expect(statusOf(d)?.lastGeneration?.message).toMatch(
      /^point 2 of the batch takes 2011 bytes of parameters; at most 1024 fit/,
    );
    expect(d.actions.some((a) => a.kind === "storePoints")).toBe(false);
  });
});

describe("decide: a stored batch the status does not record", () => {
  it("records it as complete and never generates it again", () => {
    const initial = [
      { params: { x: 1 }, loss: 1 },
      { params: { x: 2 }, loss: 2 },
    ];
    const sets = [hps(1, 4, [...ids(1, 2, 0), ...ids(3, 4, 1)]), hps(2, 4, ids(5, 8, 1))];
    const req = request({ initialPoints: initial }, { pointsPerSet: 4, sets: 2 });
    const d = decide(observe(req, sets), settings);
    expect(kinds(d)).toEqual(["settle #1", "applyStatus"]);
    expect(statusOf(d)?.lastGeneration).toMatchObject({
      number: 1,
      firstId: 3,
      added: 6,
      state: "Succeeded",
    });
    // With all losses in, the next generation is number 2 from id 9.
    const reported = [
      hps(1, 4, [...ids(1, 2, 0), ...ids(3, 4, 1)], { losses: { "3": 1, "4": 1 } }),
      hps(2, 4, ids(5, 8, 1), { losses: { "5": 1, "6": 1, "7": 1, "8": 1 } }),
    ];
    const next = decide(observe(settled(req, d), reported), settings);
    expect(kinds(next)).toContain("generate #2 6@9 try 1");
  });
});

describe("decide: a set deleted by hand", () => {
  const lg = { number: 2, state: "Succeeded" as const, firstId: 5, added: 4, attempts: 1 };
  const req = request(
    { pointsPerGeneration: 3 },
    { pointsPerSet: 4, sets: 2, lastGeneration: lg, generations: 2 },
  );
  const set1 = hps(1, 4, ids(1, 4, 1), { losses: { "1": 1, "2": 2, "3": 3, "4": 4 } });

  it("warns once, records it in deletedSets, and puts new ids in a set made again", () => {
    const d = decide(observe(req, [set1]), settings);
    expect(d.events.filter((e) => e.reason === "SetDeleted")).toEqual([
      {
        type: "Warning",
        reason: "SetDeleted",
        message:
          "HyperParameterSet r-2 was deleted: its points (ids 5-8) and their losses are gone; their ids are not handed out again, new ids continue after 8",
      },
    ]);
    expect(statusOf(d)?.deletedSets).toEqual([2]);
    // New ids continue after 8: set 3, never set 2 again.
    expect(kinds(d)).toContain("generate #3 3@9 try 1");
    const again = decide(observe(settled(req, d), [set1]), settings);
    expect(again.events.filter((e) => e.reason === "SetDeleted")).toEqual([]);
    const stored = decide(
      observe(settled(req, d), [set1], { outcome: { number: 3, attempt: 1, firstId: 9, result: points(3) } }),
      settings,
    );
    expect(kinds(stored)).toEqual([
      "createSet r-3 9-12",
      "storePoints r-3 @0 [9,10,11]",
      "settle #3",
      "applyStatus",
    ]);
    expect(statusOf(stored)).toMatchObject({ sets: 3, deletedSets: [2] });
  });

  it("stores the initial points again when their set goes before the first generation, and says so", () => {
    const initial = [{ params: { x: 1 }, loss: 0.5 }, { params: { x: 2 } }];
    const r = request({ initialPoints: initial }, { pointsPerSet: 4, sets: 1 });
    const d = decide(observe(r, []), settings);
    expect(kinds(d)).toEqual(["createSet r-1 1-4", "storePoints r-1 @0 [1,2]", "applyStatus"]);
    expect(d.events.find((e) => e.reason === "SetDeleted")?.message).toBe(
      "HyperParameterSet r-1 was deleted: its points (ids 1-4) and their losses are gone; the initial points among them (ids 1-2) are stored again from spec.initialPoints, no other id is handed out again, new ids continue after 2",
    );
    expect(statusOf(d)?.deletedSets).toEqual([1]);
  });

  it("creates a deleted set again only for new ids that fall in it", () => {
    // Set r-2 (ids 5-8) held only ids 5-6 when it was deleted: ids 7-8 still go into a new r-2.
    const lg6 = { number: 2, state: "Succeeded" as const, firstId: 5, added: 2, attempts: 1 };
    const r = request(
      { pointsPerGeneration: 3 },
      { pointsPerSet: 4, sets: 2, lastGeneration: lg6, generations: 2 },
    );
    const d = decide(
      observe(r, [set1], { outcome: { number: 3, attempt: 1, firstId: 7, result: points(3) } }),
      settings,
    );
    expect(kinds(d)).toEqual([
      "createSet r-2 5-8",
      "storePoints r-2 @0 [7,8]",
      "createSet r-3 9-12",
      "storePoints r-3 @0 [9]",
      "settle #3",
      "applyStatus",
    ]);
  });
});

describe("decide: invalid specs", () => {
  it.each([
    [
      "a search space that does not compile",
      request({ searchSpace: { x: { type: "float", low: 2, high: 1 } } }),
      /invalid spec: spec.searchSpace: .*x/,
    ],
    [
      "initial points outside the space",
      request({ initialPoints: [{ params: { x: 1000 } }] }),
      /invalid spec: spec.initialPoints\[0\]/,
    ],
    [
      "a point too big for any set (no set could hold one)",
      request({
        searchSpace: Object.fromEntries(
          Array.from({ length: 30 }, (_, i) => [
            `p${i}`,
            { type: "categorical" as const, choices: ["c".repeat(20_000)] },
          ]),
        ),
      }),
      /invalid spec: one point of this search space can take \d+ bytes, more than a HyperParameterSet can hold \(at most \d+ bytes of parameters\): use fewer parameters, shorter parameter names or shorter categorical choices/,
    ],
  ])("%s: Failed, a Warning, nothing created", (_what, req, message) => {
    const d = decide(observe(req, []), settings);
    expect(kinds(d)).toEqual(["applyStatus"]);
    expect(statusOf(d)?.message).toMatch(message);
    expect(statusOf(d)?.conditions?.find((c) => c.type === "SpecValid")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
    });
    expect(reasons(d)).toEqual(["Warning/InvalidSpec"]);
    expect(d.phase).toBe("Failed");
    // Told once: the same status again is left alone.
    const again = decide(observe(settled(req, d), []), settings);
    expect([again.actions, again.events]).toEqual([[], []]);
  });
});

describe("decide: status writes", () => {
  const initial = [{ params: { x: 1 } }, { params: { x: 2 } }];
  const req0 = request({ initialPoints: initial, minUnevaluatedPoints: 0 }, { pointsPerSet: 4 });
  /** steady is the request with the status the core writes for these sets (nothing more to write). */
  const steady = (sets: HyperParameterSet[]) => {
    const d = decide(observe(req0, sets), settings);
    const req = settled(req0, d);
    expect(statusOf(decide(observe(req, sets), settings))).toBeUndefined();
    return req;
  };
  const before = [hps(1, 4, ids(1, 2, 0), { losses: {} })];

  it.each([
    ["a loss moved only the counts, just after a write: held back", 200, false, 800],
    ["a loss moved only the counts, the interval has passed", 1_000, true, undefined],
    ["a loss moved only the counts, never written before", undefined, true, undefined],
  ])("%s", (_what, since, written, requeueAfterMs) => {
    // minUnevaluatedPoints 0 with one point out: no generation starts; only the counts move.
    const req = steady(before);
    const after = [hps(1, 4, ids(1, 2, 0), { losses: { "1": 0.5 } })];
    const d = decide(observe(req, after, since === undefined ? {} : { sinceStatusWriteMs: since }), settings);
    expect(d.actions.some((a) => a.kind === "applyStatus")).toBe(written);
    expect(d.requeueAfterMs).toBe(requeueAfterMs);
    if (written) expect(statusOf(d)?.points).toMatchObject({ evaluated: 1, unevaluated: 1 });
  });

  it("writes a significant change at once, even just after a write", () => {
    const req = steady(before);
    const outcome = { number: 1, attempt: 1, firstId: 3, result: { kind: "exhausted" } as Finished };
    const all = [hps(1, 4, ids(1, 2, 0), { losses: { "1": 0.5, "2": 0.7 } })];
    const d = decide(observe(req, all, { sinceStatusWriteMs: 10, outcome }), settings);
    expect(statusOf(d)).toMatchObject({ phase: "Finished", exhausted: true });
    expect(d.requeueAfterMs).toBeUndefined();
  });

  it("writes nothing when nothing changed", () => {
    const req = steady(before);
    const d = decide(observe(req, before, { sinceStatusWriteMs: 10 }), settings);
    expect([d.actions, d.events, d.requeueAfterMs]).toEqual([[], [], undefined]);
  });
});

describe("decide: phase events", () => {
  const initial = [{ params: { x: 1 } }, { params: { x: 2 } }];
  it.each([
    ["Finished (cap reached, all evaluated)", { maxPoints: 2 }, { "1": 1, "2": 2 }, {}, "Normal/Finished"],
    [
      "SubFinished (cap reached, one failed)",
      { maxPoints: 2 },
      { "1": 1 },
      { "2": "OOMKilled" },
      "Normal/SubFinished",
    ],
    ["Suspended", { suspend: true }, { "1": 1 }, {}, "Normal/Suspended"],
    ["Waiting: no event", { maxPoints: 3, minUnevaluatedPoints: 0 }, { "1": 1 }, {}, undefined],
  ])("%s", (_what, spec, losses, failed, event) => {
    const req = request(
      { initialPoints: initial, ...spec },
      { pointsPerSet: 4, phase: "Waiting", lastGeneration: { number: 0, state: "Succeeded" } },
    );
    const d = decide(observe(req, [hps(1, 4, ids(1, 2, 0), { losses, failed })]), settings);
    const phaseEvents = reasons(d).filter((r) => !r.includes("Generation"));
    expect(phaseEvents).toEqual(event ? [event] : []);
    if (event) {
      // told once: the status it wrote carries the phase
      const again = decide(observe(settled(req, d), [hps(1, 4, ids(1, 2, 0), { losses, failed })]), settings);
      expect(again.events).toEqual([]);
    }
  });
});
