import { describe, expect, it } from "vitest";
import { gridAxes, gridMethod, shuffledOrder } from "./grid.ts";
import { pointKey } from "./points.ts";
import { compileSearchSpace } from "./space.ts";
import type { History, Params, SearchSpace } from "./types.ts";

function space(def: Record<string, unknown>): SearchSpace {
  const result = compileSearchSpace(def);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

const empty = (): History => ({ evaluated: [], pending: [], failed: [] });

describe("grid discretisation", () => {
  it("takes every choice, every step, and gridPoints values of a float or a wide int", () => {
    const axes = gridAxes(
      space({
        c: { type: "categorical", choices: ["a", "b"] },
        f: { type: "float", low: 0, high: 1 },
        i: { type: "int", low: 1, high: 4 },
        l: { type: "float", low: 1e-4, high: 1, log: true },
        s: { type: "float", low: 0, high: 1, step: 0.25 },
        w: { type: "int", low: 0, high: 100 },
      }),
      5,
    );
    expect(axes[0]).toEqual(["a", "b"]);
    expect(axes[1]).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(axes[2]).toEqual([1, 2, 3, 4]);
    expect((axes[3] as number[]).map((v) => Math.round(Math.log10(v) * 1e9) / 1e9)).toEqual([
      -4, -3, -2, -1, 0,
    ]);
    expect(axes[4]).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(axes[5]).toEqual([0, 25, 50, 75, 100]);
  });
});

describe("grid order", () => {
  it("is a seeded permutation", () => {
    for (const size of [1, 2, 7, 100, 1000]) {
      const order = shuffledOrder(size, 3);
      const seen = new Set(Array.from({ length: size }, (_, r) => order.at(r)));
      expect(seen.size).toBe(size);
      expect(Math.max(...seen)).toBe(size - 1);
    }
    const a = Array.from({ length: 20 }, (_, r) => shuffledOrder(1000, 1).at(r));
    const b = Array.from({ length: 20 }, (_, r) => shuffledOrder(1000, 2).at(r));
    expect(a).not.toEqual(b);
  });
});

describe("grid method", () => {
  const s = space({ a: { type: "int", low: 1, high: 3 }, b: { type: "categorical", choices: ["x", "y"] } });

  it("visits every grid point once across calls, resuming from the history, then returns []", () => {
    const history = empty();
    const seen: Params[] = [];
    for (let call = 0; call < 3; call++) {
      const points = gridMethod.suggest({
        space: s,
        history,
        count: 2,
        seed: 1,
        direction: "minimize",
      }).points;
      expect(points).toHaveLength(2);
      seen.push(...points);
      history.evaluated.push(...points.slice(0, 1).map((params) => ({ params, loss: 0 })));
      history.pending.push(...points.slice(1));
    }
    expect(new Set(seen.map((p) => pointKey(s, p))).size).toBe(6);
    expect(
      gridMethod.suggest({ space: s, history, count: 2, seed: 1, direction: "minimize" }).points,
    ).toEqual([]);
  });

  it("returns the last points when fewer remain than asked", () => {
    const history = empty();
    history.failed = gridMethod.suggest({
      space: s,
      history,
      count: 5,
      seed: 1,
      direction: "minimize",
    }).points;
    expect(
      gridMethod.suggest({ space: s, history, count: 5, seed: 1, direction: "minimize" }).points,
    ).toHaveLength(1);
  });

  it("walks in lexicographic order on request", () => {
    const points = gridMethod.suggest({
      space: s,
      history: empty(),
      count: 3,
      seed: 1,
      direction: "minimize",
      options: { order: "lexicographic" },
    }).points;
    expect(points).toEqual([
      { a: 1, b: "x" },
      { a: 1, b: "y" },
      { a: 2, b: "x" },
    ]);
  });

  it("is not blocked by off-grid points in the history", () => {
    const f = space({ f: { type: "float", low: 0, high: 1 } });
    const history = empty();
    history.evaluated = [0.1, 0.2, 0.3].map((v) => ({ params: { f: v }, loss: v }));
    const points = gridMethod.suggest({
      space: f,
      history,
      count: 20,
      seed: 1,
      direction: "minimize",
      options: { gridPoints: 3 },
    });
    expect(points.points.map((p) => p.f).sort()).toEqual([0, 0.5, 1]);
  });
});
