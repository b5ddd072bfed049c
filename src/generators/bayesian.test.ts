import { describe, expect, it } from "vitest";
import { bayesianMethod, bayesianOptions, selectSubset } from "./bayesian.ts";
import { createRng } from "./rng.ts";
import type { History, Params, SearchSpace, SuggestResult } from "./types.ts";

const braninSpace: SearchSpace = {
  dims: [
    { name: "x1", kind: "float", low: -5, high: 10, log: false },
    { name: "x2", kind: "float", low: 0, high: 15, log: false },
  ],
};

function branin(p: Params): number {
  const x1 = p.x1 as number;
  const x2 = p.x2 as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  return (x2 - b * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}

function optimise(generations: number, count: number, options: Record<string, unknown> = {}): History {
  const history: History = { evaluated: [], pending: [], failed: [] };
  let state: unknown;
  for (let g = 0; g < generations; g++) {
    const result: SuggestResult = bayesianMethod.suggest({
      space: braninSpace,
      history,
      count,
      seed: 3,
      direction: "minimize",
      state,
      options,
    });
    state = result.state;
    for (const params of result.points) history.evaluated.push({ params, loss: branin(params) });
  }
  return history;
}

function ask(history: History, count: number, state?: unknown): SuggestResult {
  return bayesianMethod.suggest({
    space: braninSpace,
    history,
    count,
    seed: 1,
    direction: "minimize",
    state,
  });
}

describe("bayesian", () => {
  it("finds Branin's minimum (0.398) within 40 evaluations in batches of 5", () => {
    const history = optimise(8, 5);
    expect(Math.min(...history.evaluated.map((o) => o.loss))).toBeLessThan(0.45);
  });

  it("returns its fitted hyperparameters as state, and accepts them back", () => {
    const history = optimise(3, 5);
    const first = ask(history, 2);
    const theta = (first.state as { theta: number[] }).theta;
    expect(theta).toHaveLength(4);
    expect(theta.every(Number.isFinite)).toBe(true);
    const warm = ask(history, 2, first.state);
    expect(warm.points).toHaveLength(2);
  });

  it("spreads a batch out (kriging believer) instead of stacking it on one optimum", () => {
    const history = optimise(3, 5);
    const batch = ask(history, 6).points;
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < batch.length; i++)
      for (let j = 0; j < i; j++) {
        const a = batch[i] as Params;
        const b = batch[j] as Params;
        closest = Math.min(
          closest,
          Math.hypot((a.x1 as number) - (b.x1 as number), (a.x2 as number) - (b.x2 as number)),
        );
      }
    expect(closest).toBeGreaterThan(0.05);
  });

  it("starts with a quasi-random design until startupPoints observations exist", () => {
    expect(bayesianOptions({}, 2).startupPoints).toBe(6);
    expect(bayesianOptions({}, 6).startupPoints).toBe(10);
    const early = bayesianMethod.suggest({
      space: braninSpace,
      history: optimise(1, 3),
      count: 4,
      seed: 1,
      direction: "minimize",
    });
    expect(early.state).toBeUndefined();
  });

  it("caps the history it models and still proposes valid points", () => {
    const rng = createRng(5);
    const evaluated = Array.from({ length: 120 }, () => {
      const params = { x1: -5 + 15 * rng.next(), x2: 15 * rng.next() };
      return { params, loss: branin(params) };
    });
    const points = bayesianMethod.suggest({
      space: braninSpace,
      history: { evaluated, pending: [], failed: [] },
      count: 3,
      seed: 1,
      direction: "minimize",
      options: { maxModelPoints: 40, fitPoints: 20 },
    }).points;
    expect(points).toHaveLength(3);
  });

  it("fills a batch larger than its candidate pool", () => {
    const history = optimise(2, 5);
    const result = bayesianMethod.suggest({
      space: braninSpace,
      history,
      count: 150,
      seed: 1,
      direction: "minimize",
      options: { candidates: 16, localSearch: 5 },
    });
    expect(result.points).toHaveLength(150);
  });

  it("selectSubset keeps the best half and a random sample of the rest, in order", () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ id: i, loss: 10 - i }));
    const subset = selectSubset(items, 4, createRng(1));
    expect(subset).toHaveLength(4);
    expect(subset.map((o) => o.id)).toEqual([...subset.map((o) => o.id)].sort((a, b) => a - b));
    expect(subset.map((o) => o.id)).toContain(9);
    expect(subset.map((o) => o.id)).toContain(8);
    expect(selectSubset(items, 20, createRng(1))).toBe(items);
  });
});
