import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet, Point } from "../api/index.ts";
import { InvalidArgumentError, OutcomeConflictError, UnknownPointError } from "./errors.ts";
import {
  checkLoss,
  checkReason,
  convergence,
  planReport,
  pointId,
  selectPoints,
  summarize,
} from "./model.ts";

const pt = (id: string, state: Point["state"], extra: Partial<Point> = {}): Point => ({
  id,
  params: { x: Number(id) / 10 },
  generation: 1,
  state,
  set: "r-1",
  ...extra,
});

const points: Point[] = [
  pt("10", "New"),
  pt("2", "Evaluated", { loss: 0.3 }),
  pt("1", "Evaluated", { loss: 0.5 }),
  pt("9", "Failed", { reason: "OOMKilled" }),
  pt("3", "New"),
];

describe("selectPoints", () => {
  it("filters by status, orders by numeric id and limits", () => {
    expect(selectPoints(points).map((p) => p.id)).toEqual(["1", "2", "3", "9", "10"]);
    expect(selectPoints(points, { status: "new" }).map((p) => p.id)).toEqual(["3", "10"]);
    expect(selectPoints(points, { status: "evaluated", limit: 1 }).map((p) => p.id)).toEqual(["1"]);
    expect(selectPoints(points, { status: "failed" }).map((p) => p.id)).toEqual(["9"]);
    expect(selectPoints(points, { limit: 0 })).toEqual([]);
  });

  it("refuses an unknown status or a bad limit", () => {
    expect(() => selectPoints(points, { status: "done" as never })).toThrow(
      'unknown status "done": use one of new, evaluated, failed',
    );
    for (const limit of [-1, 1.5, Number.NaN]) {
      expect(() => selectPoints(points, { limit })).toThrow(InvalidArgumentError);
    }
  });
});

describe("checks of a report", () => {
  it("pointId takes digits as a string or a number", () => {
    expect([pointId("7"), pointId(7), pointId(" 7 "), pointId("007")]).toEqual(["7", "7", "7", "7"]);
    for (const bad of ["seven", "-1", "1.5", "", "1e3", 1.5]) {
      expect(() => pointId(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("checkLoss takes finite numbers only", () => {
    expect([checkLoss(0), checkLoss(-0.5), checkLoss(1e300)]).toEqual([0, -0.5, 1e300]);
    expect(() => checkLoss(Number.NaN)).toThrow("the loss must be a finite number, not NaN");
    expect(() => checkLoss(Number.NEGATIVE_INFINITY)).toThrow("not -Infinity");
    expect(() => checkLoss("0.1")).toThrow('the loss must be a finite number, not "0.1"');
    expect(() => checkLoss(undefined)).toThrow(InvalidArgumentError);
  });

  it("checkReason takes 1 to 128 characters (spec.failed's limit)", () => {
    expect(checkReason("OOMKilled")).toBe("OOMKilled");
    expect(checkReason("x".repeat(128))).toBe("x".repeat(128));
    expect(() => checkReason("  ")).toThrow("a failure needs a reason, such as OOMKilled");
    expect(() => checkReason("x".repeat(129))).toThrow("the reason is 129 characters long; at most 128 fit");
  });
});

describe("planReport", () => {
  // Set r-1 holds ids 1-10; a point's state comes from the set's spec (losses, failed).
  const stored = Array.from({ length: 10 }, (_, i) => ({
    id: String(i + 1),
    params: { x: i },
    generation: 1,
  }));
  const set = (
    losses: Record<string, number> = {},
    failed: Record<string, string> = {},
  ): HyperParameterSet => ({
    metadata: { name: "r-1" },
    spec: {
      request: "r",
      firstId: 1,
      lastId: 10,
      losses: { "1": 0.5, "2": 0.3, ...losses },
      failed: { "9": "OOMKilled", ...failed },
    },
    status: { total: 10, points: stored },
  });

  it("patches a new outcome, and leaves a repeated one alone", () => {
    expect(planReport(set(), undefined, "r", "3", { loss: 0.1 })).toBe("patch");
    expect(planReport(set(), undefined, "r", "3", { reason: "OOMKilled" })).toBe("patch");
    expect(planReport(set(), undefined, "r", "2", { loss: 0.3 })).toBe("done");
    expect(planReport(set(), undefined, "r", "9", { reason: "OOMKilled" })).toBe("done");
    // a repeat of a report on the set
    expect(planReport(set({ "3": 0.7 }), undefined, "r", "3", { loss: 0.7 })).toBe("done");
    expect(planReport(set({}, { "3": "Evicted" }), undefined, "r", "3", { reason: "Evicted" })).toBe("done");
  });

  it("refuses an unknown id, naming the ids there are", () => {
    expect(() => planReport(set(), undefined, "r", "11", { loss: 1 })).toThrow(
      new UnknownPointError('HPORequest "r" has no point 11: r-1 holds ids 1-10', "11"),
    );
    expect(() => planReport(undefined, undefined, "r", "1", { loss: 1 })).toThrow(
      'HPORequest "r" has no point 1: the set that would hold it has no points',
    );
  });

  it("reads the loss of an initial point from the request's spec", () => {
    const s: HyperParameterSet = {
      metadata: { name: "r-1" },
      spec: { request: "r", firstId: 1, lastId: 10 },
      status: { total: 2, points: stored.slice(0, 2).map((q) => ({ ...q, generation: 0 })) },
    };
    const initial = [{ params: { x: 0 }, loss: 0.25 }, { params: { x: 1 } }];
    expect(planReport(s, initial, "r", "1", { loss: 0.25 })).toBe("done");
    expect(() => planReport(s, initial, "r", "1", { loss: 0.4 })).toThrow(
      'point 1 of "r" already has the loss 0.25; the first reported loss stands',
    );
    expect(planReport(s, initial, "r", "2", { loss: 0.4 })).toBe("patch");
  });

  it("refuses a second, different outcome: the first stands", () => {
    const conflicts: [HyperParameterSet, string, { loss: number } | { reason: string }, string][] = [
      [set(), "2", { loss: 0.4 }, 'point 2 of "r" already has the loss 0.3; the first reported loss stands'],
      [set({ "3": 0.7 }), "3", { loss: 0.4 }, 'point 3 of "r" already has the loss 0.7'],
      [set(), "9", { loss: 0.4 }, 'point 9 of "r" was reported failed (OOMKilled); it takes no loss'],
      [set({}, { "3": "Evicted" }), "3", { loss: 1 }, "was reported failed (Evicted)"],
      [set(), "9", { reason: "Evicted" }, 'point 9 of "r" was already reported failed (OOMKilled)'],
      [set(), "1", { reason: "Evicted" }, "already has the loss 0.5; an evaluated point cannot fail"],
    ];
    for (const [s, id, outcome, message] of conflicts) {
      expect(() => planReport(s, undefined, "r", id, outcome)).toThrow(OutcomeConflictError);
      expect(() => planReport(s, undefined, "r", id, outcome)).toThrow(message);
    }
  });
});

describe("summarize", () => {
  const req = (status: HPORequest["status"], generation = 1): HPORequest => ({
    metadata: { name: "r", namespace: "ns", generation },
    spec: { method: "tpe", maxPoints: 10, objective: { direction: "maximize" } },
    status,
  });

  it("says when the operator has not seen a request yet", () => {
    expect(summarize(req(undefined))).toMatchObject({
      phase: undefined,
      message: "waiting for the operator to pick up the request",
      observed: false,
      ended: false,
      points: { total: 0, evaluated: 0, unevaluated: 0, failed: 0 },
      direction: "maximize",
      maxPoints: 10,
      best: undefined,
    });
  });

  it("ends only in an ended phase of the current spec", () => {
    const done = { phase: "Finished" as const, observedGeneration: 1, best: { id: "3", loss: 0.9 } };
    expect(summarize(req(done))).toMatchObject({
      ended: true,
      observed: true,
      best: { id: "3", loss: 0.9, params: {} },
    });
    expect(summarize(req(done, 2))).toMatchObject({ ended: false, observed: false });
    expect(summarize(req({ phase: "Suspended", observedGeneration: 1 })).ended).toBe(false);
    expect(summarize(req({ phase: "Failed", observedGeneration: 1 })).ended).toBe(true);
  });
});

describe("convergence", () => {
  it("is the best loss so far over evaluated points in id order", () => {
    expect(convergence(points, "minimize")).toEqual([0.5, 0.3]);
    const more = [...points, pt("4", "Evaluated", { loss: 0.4 }), pt("5", "Evaluated", { loss: 0.1 })];
    expect(convergence(more, "minimize")).toEqual([0.5, 0.3, 0.3, 0.1]);
    expect(convergence(more, "maximize")).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(convergence([], "minimize")).toEqual([]);
  });
});
