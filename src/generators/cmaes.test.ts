import { describe, expect, it } from "vitest";
import { cmaesMethod } from "./cmaes.ts";
import type { History, Params, SearchSpace, SuggestResult } from "./types.ts";

const cube: SearchSpace = {
  dims: ["a", "b", "c"].map((name) => ({ name, kind: "float" as const, low: -5, high: 5, log: false })),
};

function sphere(p: Params): number {
  return ((p.a as number) - 1.2) ** 2 + ((p.b as number) + 2) ** 2 + ((p.c as number) - 0.3) ** 2;
}

function run(
  generations: number,
  f: (p: Params) => number,
  withState: boolean,
): { history: History; last: SuggestResult } {
  const history: History = { evaluated: [], pending: [], failed: [] };
  let last: SuggestResult = { points: [] };
  for (let g = 0; g < generations; g++) {
    last = cmaesMethod.suggest({
      space: cube,
      history,
      count: 8,
      seed: 4,
      direction: "minimize",
      state: withState ? last.state : undefined,
    });
    for (const params of last.points) history.evaluated.push({ params, loss: f(params) });
  }
  return { history, last };
}

describe("cmaes", () => {
  it("converges on a shifted sphere, one generation per call", () => {
    const { history } = run(40, sphere, true);
    expect(Math.min(...history.evaluated.map((o) => o.loss))).toBeLessThan(1e-3);
  });

  it("rebuilds the same strategy from the history alone (no state), as the CLI does", () => {
    expect(run(12, sphere, false).last.points).toEqual(run(12, sphere, true).last.points);
  });

  it("proposes a population of count points and remembers lambda", () => {
    const { last } = run(1, sphere, true);
    expect(last.points).toHaveLength(8);
    expect(last.state).toEqual({ lambda: 8 });
  });

  it("restarts instead of collapsing on a flat function", () => {
    const { history } = run(60, () => 1, true);
    const lastGeneration = history.evaluated.slice(-8).map((o) => o.params.a as number);
    const spread = Math.max(...lastGeneration) - Math.min(...lastGeneration);
    expect(spread).toBeGreaterThan(0.01);
  });
});
