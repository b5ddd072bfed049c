import { describe, expect, it } from "vitest";
import { compileSearchSpace } from "../generators/space.ts";
import {
  hps,
  ids,
  kinds,
  now,
  observe,
  points,
  reasons,
  request,
  settings,
  settled,
  statusOf,
} from "./core.testkit.ts";
import { decide, type Finished } from "./core.ts";
import { paramsBytesOf, pointsPerSet } from "./sizing.ts";

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
