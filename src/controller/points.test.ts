import { describe, expect, it } from "vitest";
import type { Point } from "../api/index.ts";
import { acceptBatch, pointKey } from "./generator.ts";
import {
  appendBatch,
  bestPoint,
  countPoints,
  historyOf,
  initialPoints,
  mergeReports,
  nextId,
} from "./points.ts";

const now = "2026-11-28T10:00:00.000Z";
const p = (id: string, state: Point["state"] = "New", extra: Partial<Point> = {}): Point => ({
  id,
  params: { x: Number(id) },
  generation: 1,
  state,
  ...extra,
});

describe("initialPoints", () => {
  it("numbers initial points from 1; those with a loss are evaluated", () => {
    const got = initialPoints({
      method: "random",
      initialPoints: [{ params: { x: 1 }, loss: 0.5 }, { params: { x: 2 } }],
    });
    expect(got).toEqual([
      {
        id: "1",
        params: { x: 1 },
        generation: 0,
        state: "Evaluated",
        loss: 0.5,
      },
      { id: "2", params: { x: 2 }, generation: 0, state: "New" },
    ]);
  });
});

describe("mergeReports", () => {
  it("records losses and failures of new points", () => {
    const r = mergeReports(
      [p("1"), p("2"), p("3")],
      { request: "r", losses: { "1": 0.5 }, failed: { "2": "OOMKilled" } },
      now,
    );
    expect(r.points[0]).toMatchObject({ state: "Evaluated", loss: 0.5, evaluatedAt: now });
    expect(r.points[1]).toMatchObject({ state: "Failed", reason: "OOMKilled", evaluatedAt: now });
    expect(r.points[2]?.state).toBe("New");
    expect([r.evaluated, r.failed, r.changed, r.messages]).toEqual([1, 1, true, []]);
  });
  it("changes nothing when the reports are already recorded", () => {
    const r = mergeReports([p("1", "Evaluated", { loss: 0.5 })], { request: "r", losses: { "1": 0.5 } }, now);
    expect([r.changed, r.messages]).toEqual([false, []]);
  });
  it("names the id of every report it ignores, and the first outcome stands", () => {
    const points = [p("1", "Evaluated", { loss: 0.5 }), p("2", "Failed", { reason: "OOMKilled" }), p("3")];
    const r = mergeReports(
      points,
      { request: "r", losses: { "1": 0.7, "2": 0.1, "9": 0.2 }, failed: { "1": "lost", "42": "x" } },
      now,
    );
    expect(r.messages).toEqual([
      "a second, different loss 0.7 for point 1 ignored: the first recorded loss 0.5 stands",
      "loss 0.1 for point 2 ignored: the point is marked failed (OOMKilled)",
      "loss 0.2 for point 9 ignored: there is no point 9 (ids run from 1 to 3)",
      'failure "lost" for point 1 ignored: the point already has the loss 0.5',
      'failure "x" for point 42 ignored: there is no point 42 (ids run from 1 to 3)',
    ]);
    expect(r.points).toEqual(points);
  });
  it("prefers a loss over a failure reported for the same new point in one merge", () => {
    const r = mergeReports([p("1")], { request: "r", losses: { "1": 0.3 }, failed: { "1": "timeout" } }, now);
    expect(r.points[0]).toMatchObject({ state: "Evaluated", loss: 0.3 });
    expect(r.messages).toEqual(['failure "timeout" for point 1 ignored: the point already has the loss 0.3']);
  });
});

describe("counting and the best point", () => {
  const points = [
    p("1", "Evaluated", { loss: 0.3 }),
    p("2", "Evaluated", { loss: 0.1 }),
    p("3", "Evaluated", { loss: 0.1 }),
    p("4", "Failed"),
    p("5"),
  ];
  it("counts by state", () => {
    expect(countPoints(points)).toEqual({ total: 5, evaluated: 3, unevaluated: 1, failed: 1 });
  });
  it("finds the lowest loss, the lower id on ties, or the highest for maximize", () => {
    expect(bestPoint(points, "minimize")?.id).toBe("2");
    expect(bestPoint(points, "maximize")?.id).toBe("1");
    expect(bestPoint([p("1")], "minimize")).toBeUndefined();
  });
  it("continues ids after the highest and never reuses one", () => {
    expect(nextId([])).toBe(1);
    expect(nextId([p("1"), p("7"), p("3")])).toBe(8);
    expect(appendBatch([p("1")], [{ x: 9 }, { x: 10 }], 2, 5, now).map((q) => [q.id, q.generation])).toEqual([
      ["1", 1],
      ["5", 2],
      ["6", 2],
    ]);
  });
  it("splits the history by state", () => {
    const h = historyOf(points);
    expect(h.evaluated.map((o) => o.loss)).toEqual([0.3, 0.1, 0.1]);
    expect(h.failed).toEqual([{ x: 4 }]);
    expect(h.pending).toEqual([{ x: 5 }]);
  });
});

describe("acceptBatch", () => {
  const space = { dims: [{ name: "x", kind: "float" as const, low: 0, high: 10, log: false }] };
  it("drops duplicates of existing points and repeats within the batch, and keeps at most count", () => {
    const r = acceptBatch([{ x: 1 }, { x: 2 }, { x: 2 }, { x: 3 }, { x: 4 }], space, [p("1")], 2);
    expect(r).toMatchObject({ ok: true, points: [{ x: 2 }, { x: 3 }] });
    if (r.ok)
      expect(r.warnings).toEqual([
        'dropped 2 duplicate point(s), such as {"x":1}, {"x":2}',
        "the generator proposed 5 points; kept 2",
      ]);
  });
  it("fails the batch on a point outside the space, naming it", () => {
    const r = acceptBatch([{ x: 1 }, { x: 11 }], space, [], 2);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^point 2 of the batch is not in the search space: parameter "x"/);
  });
  it("compares points whatever their key order", () => {
    expect(pointKey({ a: 1, b: 2 })).toBe(pointKey({ b: 2, a: 1 }));
  });
});
