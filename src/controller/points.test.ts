import { describe, expect, it } from "vitest";
import type { HyperParameterSet, Point } from "../api/index.ts";
import { acceptBatch, pointKey } from "./generator.ts";
import {
  bestPoint,
  combine,
  countPoints,
  initialPoints,
  latestOf,
  type Summary,
  storedBatch,
  summarize,
  summaryOfSet,
} from "./points.ts";

const p = (id: string, state: Point["state"] = "New", extra: Partial<Point> = {}): Point => ({
  id,
  params: { x: Number(id) },
  generation: 1,
  state,
  set: "r-1",
  ...extra,
});

describe("initialPoints", () => {
  it("numbers initial points from 1 as generation 0; their losses stay in the request's spec", () => {
    const got = initialPoints({
      method: "random",
      initialPoints: [{ params: { x: 1 }, loss: 0.5 }, { params: { x: 2 } }],
    });
    expect(got).toEqual([
      { id: "1", params: { x: 1 }, generation: 0 },
      { id: "2", params: { x: 2 }, generation: 0 },
    ]);
    expect(initialPoints({ method: "random" })).toEqual([]);
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
  it("numbers a stored batch from its first id, with its generation", () => {
    expect(storedBatch([{ x: 9 }, { x: 10 }], 2, 5)).toEqual([
      { id: "5", params: { x: 9 }, generation: 2 },
      { id: "6", params: { x: 10 }, generation: 2 },
    ]);
    expect(storedBatch([], 2, 5)).toEqual([]);
  });
});

describe("summaries", () => {
  const g = (id: number, generation: number) => ({ id: String(id), generation });
  it.each([
    ["no points", [], { number: 0, added: 0, firstId: 0 }],
    ["initial points only", [g(1, 0), g(2, 0)], { number: 0, added: 0, firstId: 0 }],
    ["one batch after initial points", [g(1, 0), g(2, 1), g(3, 1)], { number: 1, added: 2, firstId: 2 }],
    [
      "the highest generation wins",
      [g(2, 1), g(3, 2), g(4, 2), g(5, 2)],
      { number: 2, added: 3, firstId: 3 },
    ],
    ["whatever the order", [g(5, 2), g(3, 2), g(2, 1)], { number: 2, added: 2, firstId: 3 }],
  ])("latestOf: %s", (_what, points, want) => {
    expect(latestOf(points)).toEqual(want);
  });

  it("summarize counts, finds the best point and the highest id", () => {
    const s = summarize(
      [p("1", "Evaluated", { loss: 2 }), p("7", "Evaluated", { loss: 1 }), p("3", "Failed")],
      "minimize",
    );
    expect(s).toEqual({
      counts: { total: 3, evaluated: 2, unevaluated: 0, failed: 1 },
      best: { id: "7", params: { x: 7 }, loss: 1 },
      maxId: 7,
      latest: { number: 1, added: 3, firstId: 1 },
    });
    expect(summarize([], "minimize")).toMatchObject({ maxId: 0, best: undefined });
  });

  const part = (over: Partial<Summary>): Summary => ({
    counts: { total: 0, evaluated: 0, unevaluated: 0, failed: 0 },
    best: undefined,
    maxId: 0,
    latest: { number: 0, added: 0, firstId: 0 },
    ...over,
  });
  it.each([
    ["nothing", [], "minimize", part({})],
    [
      "adds counts and keeps the highest id",
      [
        part({ counts: { total: 3, evaluated: 1, unevaluated: 1, failed: 1 }, maxId: 3 }),
        part({ counts: { total: 2, evaluated: 0, unevaluated: 2, failed: 0 }, maxId: 5 }),
      ],
      "minimize",
      part({ counts: { total: 5, evaluated: 1, unevaluated: 3, failed: 1 }, maxId: 5 }),
    ],
    [
      "joins a generation that spans two sets",
      [
        part({ latest: { number: 2, added: 2, firstId: 9 } }),
        part({ latest: { number: 2, added: 3, firstId: 11 } }),
        part({ latest: { number: 1, added: 8, firstId: 1 } }),
      ],
      "minimize",
      part({ latest: { number: 2, added: 5, firstId: 9 } }),
    ],
    [
      "keeps the best point of any set (lower loss, lower id on ties)",
      [
        part({ best: { id: "12", params: {}, loss: 0.1 } }),
        part({ best: { id: "3", params: {}, loss: 0.1 } }),
        part({ best: { id: "1", params: {}, loss: 0.5 } }),
      ],
      "minimize",
      part({ best: { id: "3", params: {}, loss: 0.1 } }),
    ],
    [
      "keeps the highest loss for maximize",
      [
        part({ best: { id: "3", params: {}, loss: 0.1 } }),
        part({ best: { id: "12", params: {}, loss: 0.5 } }),
      ],
      "maximize",
      part({ best: { id: "12", params: {}, loss: 0.5 } }),
    ],
  ] as const)("combine: %s", (_what, parts, direction, want) => {
    expect(combine(parts, direction)).toEqual(want);
  });

  it("summaryOfSet derives states from the set's reports, and is cached per set object", () => {
    const set: HyperParameterSet = {
      metadata: { name: "r-1" },
      spec: { request: "r", firstId: 1, lastId: 10, losses: { "2": 0.4 }, failed: { "3": "OOMKilled" } },
      status: {
        total: 3,
        points: [
          { id: "1", params: { x: 1 }, generation: 0 },
          { id: "2", params: { x: 2 }, generation: 1 },
          { id: "3", params: { x: 3 }, generation: 1 },
        ],
      },
    };
    const initial = [{ params: { x: 1 }, loss: 0.2 }];
    const s = summaryOfSet(set, initial, "minimize");
    expect(s.counts).toEqual({ total: 3, evaluated: 2, unevaluated: 0, failed: 1 });
    expect(s.best).toEqual({ id: "1", params: { x: 1 }, loss: 0.2 });
    expect(summaryOfSet(set, initial, "minimize")).toBe(s);
    expect(summaryOfSet(set, initial, "maximize").best?.id).toBe("2");
    expect(summaryOfSet(set, undefined, "minimize").counts.unevaluated).toBe(1);
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
