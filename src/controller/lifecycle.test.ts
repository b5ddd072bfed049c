import { describe, expect, it } from "vitest";
import type { HPORequest, Point } from "../api/index.ts";
import {
  batchSize,
  buildStatus,
  idleReason,
  invalidStatus,
  type Policy,
  phaseOf,
  planGeneration,
  type StatusInput,
} from "./lifecycle.ts";
import { countPoints, type Summary, summarize } from "./points.ts";

const policy: Policy = { retries: 3, retryBaseMs: 5000, retryMaxMs: 300_000 };
const now = new Date("2026-11-28T10:00:00Z");

function req(spec: Partial<HPORequest["spec"]> = {}, status: HPORequest["status"] = {}): HPORequest {
  return {
    metadata: { name: "r", namespace: "ns", uid: "u1", generation: 2 },
    spec: {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 1 } },
      pointsPerGeneration: 10,
      ...spec,
    },
    status,
  };
}

function pts(states: string): Point[] {
  // "EENF" -> evaluated, evaluated, new, failed with ids 1..n
  return [...states].map((s, i) => ({
    id: String(i + 1),
    params: { x: i / 100 },
    generation: 0, // initial points: no generation has run
    state: s === "E" ? "Evaluated" : s === "F" ? "Failed" : "New",
    ...(s === "E" ? { loss: 1 - i / 100 } : {}),
    set: "r-1",
  }));
}

/** sum is the summary planGeneration and buildStatus read (minimize). */
const sum = (points: readonly Point[], direction: "minimize" | "maximize" = "minimize"): Summary =>
  summarize(points, direction);

describe("batchSize", () => {
  it.each([
    [{ pointsPerGeneration: 10 }, 0, 10],
    [{ pointsPerGeneration: 10, maxPoints: 25 }, 20, 5],
    [{ pointsPerGeneration: 10, maxPoints: 25 }, 25, 0],
    [{ pointsPerGeneration: 10, maxPoints: 20 }, 25, 0],
  ])("%j with %i points asks for %i", (spec, total, want) => {
    expect(batchSize(req(spec), total)).toBe(want);
  });
});

describe("planGeneration", () => {
  it("never reuses an id the status records as handed out, even when the set lost its points", () => {
    const lastGeneration = { number: 3, firstId: 21, added: 10, state: "Succeeded" as const };
    expect(planGeneration(req({}, { lastGeneration }), sum([]), now, policy)).toEqual({
      kind: "start",
      number: 4,
      count: 10,
      firstId: 31,
      attempt: 1,
    });
    // With the points there, the floor changes nothing.
    const pts30 = Array.from({ length: 30 }, (_, i) => ({
      id: String(i + 1),
      params: { x: i / 100 },
      generation: Math.ceil((i + 1) / 10),
      state: "Evaluated" as const,
      loss: i,
      set: "r-1",
    }));
    expect(planGeneration(req({}, { lastGeneration }), sum(pts30), now, policy)).toMatchObject({
      firstId: 31,
    });
    // A failed attempt handed out nothing: its retry starts at the same id.
    const failed = {
      number: 2,
      firstId: 11,
      added: 0,
      state: "Failed" as const,
      attempts: 1,
      completedAt: "2026-11-28T09:00:00Z",
    };
    expect(
      planGeneration(req({}, { lastGeneration: failed }), sum(pts("EEEEEEEEEE")), now, policy),
    ).toMatchObject({
      kind: "retry",
      firstId: 11,
    });
  });
  it("starts generation 1 with ids after the initial points", () => {
    expect(planGeneration(req(), sum(pts("E")), now, policy)).toEqual({
      kind: "start",
      number: 1,
      count: 10,
      firstId: 2,
      attempt: 1,
    });
  });
  it("waits while more points are unevaluated than the threshold", () => {
    expect(planGeneration(req({ minUnevaluatedPoints: 1 }), sum(pts("ENN")), now, policy)).toEqual({
      kind: "none",
      reason: "WaitingForLosses",
    });
    expect(planGeneration(req({ minUnevaluatedPoints: 2 }), sum(pts("ENN")), now, policy).kind).toBe("start");
  });
  it("counts failed points as done", () => {
    expect(planGeneration(req(), sum(pts("EF")), now, policy).kind).toBe("start");
  });
  it.each([
    ["the cap is reached", req({ maxPoints: 3 }), "MaxPointsReached"],
    ["the generator is exhausted", req({}, { exhausted: true }), "Exhausted"],
    ["the request is suspended", req({ suspend: true }), "Suspended"],
    [
      "generation failed past its retries",
      req(
        {},
        { lastGeneration: { number: 2, state: "Failed", attempts: 4, completedAt: now.toISOString() } },
      ),
      "GenerationFailed",
    ],
  ])("does not generate when %s", (_why, r, reason) => {
    expect(planGeneration(r, sum(pts("EEE")), now, policy)).toEqual({ kind: "none", reason });
  });
  it("never starts a second generation while one is Running: it resumes it with the same ids", () => {
    const r = req(
      {},
      { lastGeneration: { number: 3, requested: 10, firstId: 21, state: "Running", attempts: 2 } },
    );
    expect(planGeneration(r, sum(pts("EEE")), now, policy)).toEqual({
      kind: "resume",
      number: 3,
      count: 10,
      firstId: 21,
      attempt: 2,
    });
  });
  it("completes a Running generation whose points are already stored (the operator died after storing)", () => {
    const stored = [
      ...pts("EE"),
      { id: "3", params: { x: 0.5 }, generation: 2, state: "New" as const, set: "r-1" },
    ];
    const r = req(
      {},
      { lastGeneration: { number: 2, requested: 1, firstId: 3, state: "Running", attempts: 1 } },
    );
    expect(planGeneration(r, sum(stored), now, policy)).toEqual({
      kind: "complete",
      number: 2,
      added: 1,
      firstId: 3,
    });
  });
  it("records a stored batch the status does not know, instead of generating it again", () => {
    // A built-in batch is stored before the request's status is written: a kill in between.
    const stored = [
      ...pts("EE"),
      ...[3, 4].map((id) => ({
        id: String(id),
        params: { x: id },
        generation: 2,
        state: "New" as const,
        set: "r-1",
      })),
    ];
    const r = req({}, { lastGeneration: { number: 1, state: "Succeeded", attempts: 1 } });
    expect(planGeneration(r, sum(stored), now, policy)).toEqual({
      kind: "complete",
      number: 2,
      added: 2,
      firstId: 3,
    });
    const next = req({}, { lastGeneration: { number: 2, state: "Succeeded" } });
    const evaluated = stored.map((p) => ({ ...p, state: "Evaluated" as const, loss: 1 }));
    expect(planGeneration(next, sum(evaluated), now, policy)).toMatchObject({
      kind: "start",
      number: 3,
      firstId: 5,
    });
  });
  it("retries a failed generation after its backoff, with the same number", () => {
    const failedAt = new Date(now.getTime() - 3000).toISOString();
    const r = req({}, { lastGeneration: { number: 2, state: "Failed", attempts: 1, completedAt: failedAt } });
    expect(planGeneration(r, sum(pts("EE")), now, policy)).toEqual({ kind: "wait", afterMs: 2000 });
    const later = new Date(now.getTime() + 2000);
    expect(planGeneration(r, sum(pts("EE")), later, policy)).toEqual({
      kind: "retry",
      number: 2,
      count: 10,
      firstId: 3,
      attempt: 2,
    });
  });
  it("doubles the backoff per attempt, capped", () => {
    const r = req(
      {},
      { lastGeneration: { number: 2, state: "Failed", attempts: 3, completedAt: now.toISOString() } },
    );
    expect(planGeneration(r, sum(pts("E")), now, policy)).toEqual({ kind: "wait", afterMs: 20_000 });
  });
  it("honours spec.generator.retries", () => {
    const r = req(
      { generator: { retries: 0 } },
      { lastGeneration: { number: 1, state: "Failed", attempts: 1 } },
    );
    expect(planGeneration(r, sum([]), now, policy)).toEqual({ kind: "none", reason: "GenerationFailed" });
  });
  it.each([
    ["nothing stops it", req(), "E", undefined],
    ["the cap is reached", req({ maxPoints: 1 }), "E", "MaxPointsReached"],
    ["a loss is missing", req(), "N", "WaitingForLosses"],
  ])("idleReason when %s", (_why, r, states, want) => {
    expect(idleReason(r, countPoints(pts(states)), policy)).toBe(want);
  });
});

describe("phaseOf", () => {
  const input = (r: HPORequest, points: Point[], extra: { exhausted?: boolean } = {}): StatusInput => ({
    req: r,
    summary: sum(points),
    lastGeneration: r.status?.lastGeneration,
    exhausted: extra.exhausted ?? false,
    pointsPerSet: 10,
    sets: 1,
    deletedSets: [],
    seed: 1,
    now,
    policy,
  });
  it.each([
    ["no points yet", req(), "", {}, "Pending"],
    ["points out", req({ maxPoints: 3 }), "ENN", {}, "Waiting"],
    ["cap reached, all evaluated", req({ maxPoints: 3 }), "EEE", {}, "Finished"],
    ["cap reached, one failed", req({ maxPoints: 3 }), "EEF", {}, "SubFinished"],
    ["cap reached, one still out", req({ maxPoints: 3 }), "EEN", {}, "Waiting"],
    ["exhausted, all evaluated", req(), "EE", { exhausted: true }, "Finished"],
    ["suspended", req({ suspend: true }), "EN", {}, "Suspended"],
    ["finished even if suspended afterwards", req({ maxPoints: 2, suspend: true }), "EE", {}, "Finished"],
    [
      "generation failed, nothing evaluated",
      req({}, { lastGeneration: { number: 1, state: "Failed", attempts: 4 } }),
      "",
      {},
      "Failed",
    ],
    [
      "generation failed after some evaluations",
      req({}, { lastGeneration: { number: 2, state: "Failed", attempts: 4 } }),
      "EE",
      {},
      "SubFinished",
    ],
    ["generating", req({}, { lastGeneration: { number: 1, state: "Running" } }), "", {}, "Generating"],
  ])("%s -> %s", (_what, r, states, extra, want) => {
    const points = pts(states as string);
    expect(phaseOf(input(r as HPORequest, points, extra), countPoints(points))).toBe(want);
  });
});

describe("buildStatus", () => {
  it("reports counts, the best point, observedGeneration and the five conditions", () => {
    const r = req({ maxPoints: 3 });
    const s = buildStatus({
      req: r,
      summary: sum(pts("EEE")),
      lastGeneration: { number: 1, state: "Succeeded", added: 3 },
      exhausted: false,
      pointsPerSet: 10,
      sets: 1,
      deletedSets: [],
      seed: 9,
      now,
      policy,
    });
    expect(s.phase).toBe("Finished");
    expect(s.points).toEqual({ total: 3, evaluated: 3, unevaluated: 0, failed: 0 });
    expect(s.best).toEqual({ id: "3", params: { x: 0.02 }, loss: 0.98 });
    expect(s.observedGeneration).toBe(2);
    expect(s.seed).toBe(9);
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", "Finished"],
      ["SpecValid", "True", "Valid"],
      ["Generating", "False", "Idle"],
      ["Complete", "True", "Finished"],
      ["Failed", "False", "NotFailed"],
      ["Reconciling", "False", "NotApplicable"],
      ["Stalled", "False", "NotApplicable"],
    ]);
    expect(s.message).toContain("maxPoints (3) reached");
    expect([s.pointsPerSet, s.sets, s.deletedSets]).toEqual([10, 1, undefined]);
  });
  it("records the sets: points per set, how many there were, and the ones deleted by hand", () => {
    const s = buildStatus({
      req: req(),
      summary: sum(pts("EN")),
      lastGeneration: { number: 1, state: "Succeeded", added: 2, firstId: 1 },
      exhausted: false,
      pointsPerSet: 13,
      sets: 3,
      deletedSets: [2],
      seed: 1,
      now,
      policy,
    });
    expect(s).toMatchObject({
      pointsPerSet: 13,
      sets: 3,
      deletedSets: [2],
      phase: "Waiting",
      generations: 1,
    });
  });
  it("keeps lastTransitionTime when a condition's status does not change", () => {
    const before = "2026-01-01T00:00:00.000Z";
    const r = req(
      {},
      {
        conditions: [
          { type: "Ready", status: "True", reason: "Waiting", message: "", lastTransitionTime: before },
        ],
      },
    );
    const s = buildStatus({
      req: r,
      summary: sum(pts("N")),
      lastGeneration: undefined,
      exhausted: false,
      pointsPerSet: 10,
      sets: 1,
      deletedSets: [],
      seed: 1,
      now,
      policy,
    });
    expect(s.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime).toBe(before);
    expect(s.conditions?.find((c) => c.type === "Complete")?.lastTransitionTime).toBe(now.toISOString());
  });
  it("uses the highest loss for maximize", () => {
    const s = buildStatus({
      req: req({ objective: { direction: "maximize" } }),
      summary: sum(pts("EEE"), "maximize"),
      lastGeneration: undefined,
      exhausted: false,
      pointsPerSet: 10,
      sets: 1,
      deletedSets: [],
      seed: 1,
      now,
      policy,
    });
    expect(s.best?.id).toBe("1");
  });
});

describe("invalidStatus", () => {
  it("fails the request with SpecValid=False and the problem", () => {
    const s = invalidStatus(req(), 'spec.searchSpace: parameter "x": low must be below high', now);
    expect(s.phase).toBe("Failed");
    const specValid = s.conditions?.find((c) => c.type === "SpecValid");
    expect(specValid).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(specValid?.message).toContain('parameter "x"');
    expect(s.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    expect(s.conditions?.find((c) => c.type === "Stalled")).toMatchObject({
      status: "True",
      reason: "InvalidSpec",
    });
  });
});
