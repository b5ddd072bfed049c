import { describe, expect, it } from "vitest";
import { axisOf, buildEstimator, logPdfEstimator, optunaWeights } from "./parzen.ts";
import { gamma, tpeMethod } from "./tpe.ts";
import type { History, Params, SearchSpace } from "./types.ts";

const line: SearchSpace = { dims: [{ name: "x", kind: "float", low: 0, high: 1, log: false }] };

function observed(n: number): History {
  const evaluated = Array.from({ length: n }, (_, i) => {
    const x = (i + 0.5) / n;
    return { params: { x }, loss: (x - 0.7) ** 2 };
  });
  return { evaluated, pending: [], failed: [] };
}

function meanDistance(points: Params[], to: number): number {
  return points.reduce((s, p) => s + Math.abs((p.x as number) - to), 0) / points.length;
}

describe("tpe building blocks", () => {
  it("splits like Optuna: gamma(n) = min(ceil(n / 10), 25), weights ramp for old points past 25", () => {
    expect([1, 10, 11, 100, 250, 1000].map(gamma)).toEqual([1, 1, 2, 10, 25, 25]);
    expect(optunaWeights(3)).toEqual([1, 1, 1]);
    const w = optunaWeights(30);
    expect(w).toHaveLength(30);
    expect(w[0]).toBeCloseTo(1 / 30, 12);
    expect(w[4]).toBeCloseTo(1, 12);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });

  it("gives a density that integrates to one on a bounded axis", () => {
    const axes = line.dims.map(axisOf);
    const est = buildEstimator(axes, [[0.1], [0.15], [0.9]], [1, 1, 1]);
    let integral = 0;
    for (let i = 0; i < 10000; i++) integral += Math.exp(logPdfEstimator(est, [(i + 0.5) / 10000])) / 10000;
    expect(integral).toBeCloseTo(1, 3);
  });

  it("gives a probability mass that sums to one on an int axis", () => {
    const axes = [axisOf({ name: "n", kind: "int", low: 1, high: 6, log: true })];
    const est = buildEstimator(axes, [[2], [3]], [1, 1]);
    let total = 0;
    for (let v = 1; v <= 6; v++) total += Math.exp(logPdfEstimator(est, [v]));
    expect(total).toBeCloseTo(1, 10);
  });
});

function propose(history: History, count: number, seed: number, options?: Record<string, unknown>): Params[] {
  return tpeMethod.suggest({ space: line, history, count, seed, direction: "minimize", options }).points;
}

describe("tpe method", () => {
  it("samples at random until startupPoints observations exist, then concentrates near the best", () => {
    const early = propose(observed(5), 20, 1);
    const late = propose(observed(60), 20, 1);
    expect(meanDistance(early, 0.7)).toBeGreaterThan(0.15);
    expect(meanDistance(late, 0.7)).toBeLessThan(0.1);
  });

  it("moves away from pending points near the best (constant liar)", () => {
    const history = observed(60);
    const alone = propose(history, 10, 2);
    history.pending = [0.69, 0.695, 0.7, 0.705, 0.71, 0.685, 0.715, 0.68, 0.72].map((x) => ({ x }));
    const crowded = propose(history, 10, 2);
    expect(meanDistance(crowded, 0.7)).toBeGreaterThan(1.5 * meanDistance(alone, 0.7));
  });

  it("also works univariate", () => {
    const points = propose(observed(60), 10, 1, { multivariate: false });
    expect(meanDistance(points, 0.7)).toBeLessThan(0.1);
  });
});
