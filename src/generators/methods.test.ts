/**
 * Properties every built-in method must have, checked on each of them.
 */
import { describe, expect, it } from "vitest";
import { builtinMethodNames, getMethod } from "./methods.ts";
import { createPointSet, pointKey } from "./points.ts";
import { createRng } from "./rng.ts";
import { canonicalisePoint, compileSearchSpace } from "./space.ts";
import type { History, Method, Params, SearchSpace, SuggestInput } from "./types.ts";

function space(def: Record<string, unknown>): SearchSpace {
  const result = compileSearchSpace(def);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

const mixed = space({
  lr: { type: "float", low: 1e-5, high: 0.1, log: true },
  layers: { type: "int", low: 1, high: 8 },
  units: { type: "int", low: 16, high: 1024, log: true },
  drop: { type: "float", low: 0, high: 0.5, step: 0.05 },
  mom: { type: "float", low: 0, high: 1 },
  opt: { type: "categorical", choices: ["adam", "sgd", 3, true] },
});

const small = space({ a: { type: "int", low: 1, high: 4 }, b: { type: "categorical", choices: ["x", "y"] } });

function loss(p: Params): number {
  const lr = Math.log10(p.lr as number) + 3;
  return lr * lr + ((p.layers as number) - 4) ** 2 / 10 + (p.mom as number) + (p.opt === "sgd" ? 0 : 0.5);
}

function randomPoints(s: SearchSpace, n: number, seed: number): Params[] {
  const method = getMethod("random") as Method;
  return method.suggest({
    space: s,
    history: { evaluated: [], pending: [], failed: [] },
    count: n,
    seed,
    direction: "minimize",
  }).points;
}

function historyOf(points: Params[], pending: Params[] = [], failed: Params[] = []): History {
  return { evaluated: points.map((params) => ({ params, loss: loss(params) })), pending, failed };
}

function ask(name: string, overrides: Partial<SuggestInput> = {}): Params[] {
  const input: SuggestInput = {
    space: mixed,
    history: historyOf(randomPoints(mixed, 30, 1)),
    count: 8,
    seed: 7,
    direction: "minimize",
    ...overrides,
  };
  return (getMethod(name) as Method).suggest(input).points;
}

describe.each(builtinMethodNames.map((name) => [name]))("method %s", (name) => {
  it("proposes count points, each canonical and inside the space", () => {
    const points = ask(name);
    expect(points).toHaveLength(8);
    for (const p of points) {
      expect(canonicalisePoint(mixed, p)).toEqual({ ok: true, value: p });
      expect(Number.isInteger(p.layers)).toBe(true);
      expect(Number.isInteger(p.units)).toBe(true);
    }
  });

  it("is reproducible: same history and seed, same points; another seed, other points", () => {
    expect(ask(name)).toEqual(ask(name));
    expect(ask(name, { seed: 8 })).not.toEqual(ask(name));
  });

  it("never proposes a point of the history (evaluated, pending, failed) or one twice", () => {
    const all = randomPoints(small, 8, 3);
    const history = historyOf(all.slice(0, 3), [all[3] as Params], [all[4] as Params]);
    const points = (getMethod(name) as Method).suggest({
      space: small,
      history,
      count: 5,
      seed: 1,
      direction: "minimize",
    }).points;
    const keys = points.map((p) => pointKey(small, p)).sort();
    expect(keys).toEqual(
      all
        .slice(5)
        .map((p) => pointKey(small, p))
        .sort(),
    );
  });

  it("returns [] once every point of a finite space has been seen", () => {
    const all = randomPoints(small, 8, 3);
    const history = historyOf(all.slice(0, 5), all.slice(5, 7), all.slice(7));
    expect(
      (getMethod(name) as Method).suggest({ space: small, history, count: 3, seed: 1, direction: "minimize" })
        .points,
    ).toEqual([]);
  });

  it("takes pending points into account: it never repeats them and proposes other points", () => {
    const base = ask(name, { count: 4 });
    const history = historyOf(randomPoints(mixed, 30, 1), base);
    const next = ask(name, { count: 4, history });
    const pending = createPointSet(mixed, base);
    expect(next.some((p) => pending.has(p))).toBe(false);
    expect(next).not.toEqual(base);
  });

  it("treats maximize as minimising the negated loss", () => {
    const points = randomPoints(mixed, 30, 1);
    const negated: History = {
      evaluated: points.map((params) => ({ params, loss: -loss(params) })),
      pending: [],
      failed: [],
    };
    expect(ask(name, { history: negated, direction: "maximize" })).toEqual(ask(name));
  });

  it.each([
    [
      "all losses equal",
      {
        evaluated: randomPoints(mixed, 15, 2).map((params) => ({ params, loss: 1 })),
        pending: [],
        failed: [],
      },
    ],
    ["one evaluated point", historyOf(randomPoints(mixed, 1, 2))],
    ["only failed points", { evaluated: [], pending: [], failed: randomPoints(mixed, 6, 2) }],
    ["no history", { evaluated: [], pending: [], failed: [] }],
  ])("copes with a degenerate history: %s", (_label, history: History) => {
    const points = ask(name, { history });
    expect(points).toHaveLength(8);
    const seen = createPointSet(mixed, [...history.evaluated.map((o) => o.params), ...history.failed]);
    for (const p of points) {
      expect(canonicalisePoint(mixed, p).ok).toBe(true);
      expect(seen.has(p)).toBe(false);
    }
    expect(createPointSet(mixed, points).size).toBe(8);
  });

  it("covers a categorical-only space exactly, then stops", () => {
    const cats = space({
      c: { type: "categorical", choices: ["a", "b", "c"] },
      d: { type: "categorical", choices: [true, false] },
    });
    const history = historyOf([
      { c: "a", d: true },
      { c: "c", d: false },
    ]);
    history.evaluated = history.evaluated.map((o, i) => ({ ...o, loss: i }));
    const method = getMethod(name) as Method;
    const points = method.suggest({ space: cats, history, count: 10, seed: 4, direction: "minimize" }).points;
    expect(points).toHaveLength(4);
    expect(createPointSet(cats, [...points, { c: "a", d: true }, { c: "c", d: false }]).size).toBe(6);
  });

  it("proposes the single point of a one-point space once, then []", () => {
    const one = space({ k: { type: "int", low: 3, high: 3 }, o: { type: "categorical", choices: ["only"] } });
    const method = getMethod(name) as Method;
    const empty: History = { evaluated: [], pending: [], failed: [] };
    expect(
      method.suggest({ space: one, history: empty, count: 5, seed: 1, direction: "minimize" }).points,
    ).toEqual([{ k: 3, o: "only" }]);
    const done: History = {
      evaluated: [{ params: { k: 3, o: "only" }, loss: 0.5 }],
      pending: [],
      failed: [],
    };
    expect(
      method.suggest({ space: one, history: done, count: 5, seed: 1, direction: "minimize" }).points,
    ).toEqual([]);
  });

  it("returns plain, structured-cloneable data", () => {
    const result = (getMethod(name) as Method).suggest({
      space: mixed,
      history: historyOf(randomPoints(mixed, 30, 1)),
      count: 3,
      seed: 1,
      direction: "minimize",
    });
    expect(structuredClone(result)).toEqual(result);
  });
});

describe("registry", () => {
  it("lists the six built-in methods and nothing else", () => {
    expect(builtinMethodNames).toEqual(["bayesian", "cmaes", "grid", "random", "sobol", "tpe"]);
    expect(getMethod("nevergrad")).toBeUndefined();
    expect(getMethod("toString")).toBeUndefined();
  });

  it("names each method as the registry does", () => {
    for (const name of builtinMethodNames) expect(getMethod(name)?.name).toBe(name);
  });
});

describe("rng", () => {
  it("gives equal streams for equal seeds and uniform-looking draws", () => {
    const a = createRng(1, "x");
    const b = createRng(1, "x");
    const draws = Array.from({ length: 10000 }, () => a.next());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(createRng(2, "x").next()).not.toBe(draws[0]);
  });
});
