import { describe, expect, it } from "vitest";
import type { HyperParameterSet } from "./generated/types.ts";
import { pointsOfSet, pointsOfSets } from "./points.ts";

/** set builds HyperParameterSet r-k holding the given (id, generation) points and reports. */
function set(
  k: number,
  points: [number, number][],
  reports: { losses?: Record<string, number>; failed?: Record<string, string> } = {},
): HyperParameterSet {
  return {
    metadata: { name: `r-${k}` },
    spec: { request: "r", firstId: (k - 1) * 10 + 1, lastId: k * 10, ...reports },
    status: {
      total: points.length,
      points: points.map(([id, generation]) => ({ id: String(id), params: { x: id }, generation })),
    },
  };
}

describe("pointsOfSet", () => {
  const initial = [{ params: { x: 1 }, loss: 0.9 }, { params: { x: 2 } }];
  it.each([
    ["no report: New", set(1, [[3, 1]]), undefined, { state: "New" }],
    [
      "a loss: Evaluated",
      set(1, [[3, 1]], { losses: { "3": 0.5 } }),
      undefined,
      { state: "Evaluated", loss: 0.5 },
    ],
    [
      "a loss of 0 counts",
      set(1, [[3, 1]], { losses: { "3": 0 } }),
      undefined,
      { state: "Evaluated", loss: 0 },
    ],
    [
      "a failure: Failed with its reason",
      set(1, [[3, 1]], { failed: { "3": "OOMKilled" } }),
      undefined,
      { state: "Failed", reason: "OOMKilled" },
    ],
    [
      "a report for another id changes nothing",
      set(1, [[3, 1]], { losses: { "4": 0.5 }, failed: { "5": "x" } }),
      undefined,
      { state: "New" },
    ],
    ["an initial point given with a loss", set(1, [[1, 0]]), initial, { state: "Evaluated", loss: 0.9 }],
    ["an initial point given without a loss", set(1, [[2, 0]]), initial, { state: "New" }],
    [
      "an initial point reported later",
      set(1, [[2, 0]], { losses: { "2": 0.3 } }),
      initial,
      { state: "Evaluated", loss: 0.3 },
    ],
    ["a generated point is not read from the initial points", set(1, [[1, 1]]), initial, { state: "New" }],
  ])("%s", (_what, s, init, want) => {
    const [p] = pointsOfSet(s, init);
    expect(p).toMatchObject({ ...want, set: "r-1" });
    if (want.state !== "Evaluated") expect(p?.loss).toBeUndefined();
    if (want.state !== "Failed") expect(p?.reason).toBeUndefined();
  });

  it("is memoised per set object and per initial points", () => {
    const s = set(
      1,
      [
        [1, 0],
        [2, 1],
      ],
      { losses: { "2": 0.1 } },
    );
    const a = pointsOfSet(s, undefined);
    expect(pointsOfSet(s, undefined)).toBe(a);
    const initial = [{ params: { x: 1 }, loss: 0.4 }];
    const b = pointsOfSet(s, initial);
    expect(b).not.toBe(a);
    expect(b[0]).toMatchObject({ state: "Evaluated", loss: 0.4 });
    // A new object (the informer replaces a changed set) is read afresh.
    const changed = { ...s, spec: { ...s.spec, losses: { "2": 0.1 }, failed: { "1": "lost" } } };
    expect(pointsOfSet(changed, undefined)[0]).toMatchObject({ state: "Failed", reason: "lost" });
  });

  it("gives no points for a set whose status is not written yet", () => {
    expect(
      pointsOfSet({ metadata: { name: "r-1" }, spec: { request: "r", firstId: 1, lastId: 10 } }),
    ).toEqual([]);
  });
});

describe("pointsOfSets", () => {
  it("lists the points of several sets in id order, each with its set", () => {
    const sets = [
      set(
        2,
        [
          [11, 2],
          [12, 2],
        ],
        { losses: { "12": 1 } },
      ),
      set(1, [
        [9, 1],
        [10, 1],
      ]),
    ];
    expect(pointsOfSets(sets).map((p) => [p.id, p.set, p.state])).toEqual([
      ["9", "r-1", "New"],
      ["10", "r-1", "New"],
      ["11", "r-2", "New"],
      ["12", "r-2", "Evaluated"],
    ]);
  });
});
