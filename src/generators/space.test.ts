import { describe, expect, it } from "vitest";
import { fromUnit, levelCount, snapValue, toUnit } from "./dims.ts";
import { canonicalisePoint, checkPoint, compileSearchSpace } from "./space.ts";
import type { Dim, SearchSpace } from "./types.ts";

function compiled(searchSpace: unknown, optSpace?: unknown): SearchSpace {
  const result = compileSearchSpace(searchSpace, optSpace);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function errorOf(searchSpace: unknown, optSpace?: unknown): string {
  const result = compileSearchSpace(searchSpace, optSpace);
  if (result.ok) throw new Error("expected an error");
  return result.error;
}

describe("compileSearchSpace: canonical form", () => {
  it("compiles every type, sorted by name", () => {
    const space = compiled({
      opt: { type: "categorical", choices: ["adam", "sgd"] },
      lr: { type: "float", low: 1e-5, high: 0.1, log: true },
      layers: { type: "int", low: 1, high: 8 },
      drop: { type: "float", low: 0, high: 0.5, step: 0.1 },
    });
    expect(space.dims).toEqual([
      { name: "drop", kind: "float", low: 0, high: 0.5, log: false, step: 0.1 },
      { name: "layers", kind: "int", low: 1, high: 8, log: false },
      { name: "lr", kind: "float", low: 1e-5, high: 0.1, log: true },
      { name: "opt", kind: "categorical", choices: ["adam", "sgd"] },
    ]);
  });

  it.each([
    [{ lr: { type: "float", low: 0, high: 1, log: true } }, 'parameter "lr": a log scale needs low > 0'],
    [{ lr: { type: "float", low: 1, high: 0 } }, 'parameter "lr": high (0) must not be below low (1)'],
    [{ n: { type: "int", low: 0.5, high: 3 } }, 'parameter "n": an int needs whole-number bounds'],
    [
      { n: { type: "int", low: 1, high: 9, step: 1.5 } },
      'parameter "n": an int\'s step must be a whole number',
    ],
    [
      { n: { type: "int", low: 1, high: 9, step: 2, log: true } },
      'parameter "n": step cannot be combined with log',
    ],
    [{ x: { type: "float", high: 1 } }, 'parameter "x": low must be a number (got nothing)'],
    [
      { c: { type: "categorical", choices: [] } },
      'parameter "c": a categorical needs a non-empty list of choices',
    ],
    [{ c: { type: "categorical", choices: ["a", "a"] } }, 'parameter "c": choice "a" is listed twice'],
    [
      { c: { type: "categorical", choices: [{ a: 1 }] } },
      'parameter "c": choices must be strings, numbers or booleans',
    ],
    [
      { q: { type: "double", low: 0, high: 1 } },
      'parameter "q": type must be one of float, int, categorical',
    ],
  ])("rejects %j naming the parameter", (space, message) => {
    expect(errorOf(space)).toContain(message);
  });

  it("uses optSpace only when searchSpace is empty", () => {
    expect(compiled({}, { a: [0, 1] }).dims[0]?.name).toBe("a");
    expect(compiled({ b: { type: "int", low: 0, high: 3 } }, { a: [0, 1] }).dims[0]?.name).toBe("b");
    expect(errorOf({}, {})).toContain("no search space");
    expect(errorOf(undefined, null)).toContain("no search space");
  });
});

describe("compileSearchSpace: iDDS opt_space forms", () => {
  it("reads bayes_opt bounds as floats, even with integer bounds", () => {
    expect(compiled(undefined, { A: [1, 4], B: [0.5, 10] }).dims).toEqual([
      { name: "A", kind: "float", low: 1, high: 4, log: false },
      { name: "B", kind: "float", low: 0.5, high: 10, log: false },
    ]);
  });

  it("reads plain lists of other lengths or non-numbers as categorical", () => {
    expect(compiled(undefined, { A: [1, 2, 3], B: ["x", "y"], C: [true] }).dims).toEqual([
      { name: "A", kind: "categorical", choices: [1, 2, 3] },
      { name: "B", kind: "categorical", choices: ["x", "y"] },
      { name: "C", kind: "categorical", choices: [true] },
    ]);
  });

  it("reads the nevergrad forms", () => {
    const space = compiled(undefined, {
      A: { type: "Choice", params: { choices: [1, 4] } },
      B: { type: "Scalar", bounds: [0, 5] },
      C: { type: "TransitionChoice", params: { choices: ["s", "m", "l"] } },
      D: { type: "Log", bounds: [1e-4, 1e-1] },
      E: { type: "Array", params: { shape: [1] }, bounds: [-1, 1] },
      F: { type: "Scalar", params: { lower: 2, upper: 9 }, integer: true },
      G: { type: "Log", params: { lower: 0.01, upper: 1, exponent: 10 } },
      H: { type: "Choice", params: { choices: 3 } },
    });
    expect(space.dims).toEqual([
      { name: "A", kind: "categorical", choices: [1, 4] },
      { name: "B", kind: "float", low: 0, high: 5, log: false },
      { name: "C", kind: "categorical", choices: ["s", "m", "l"] },
      { name: "D", kind: "float", low: 1e-4, high: 1e-1, log: true },
      { name: "E", kind: "float", low: -1, high: 1, log: false },
      { name: "F", kind: "int", low: 2, high: 9, log: false },
      { name: "G", kind: "float", low: 0.01, high: 1, log: true },
      { name: "H", kind: "categorical", choices: [0, 1, 2] },
    ]);
  });

  it("accepts the canonical form and fixed values in opt_space", () => {
    const space = compiled(null, { n: { type: "int", low: 1, high: 3 }, k: 7 });
    expect(space.dims).toEqual([
      { name: "k", kind: "categorical", choices: [7] },
      { name: "n", kind: "int", low: 1, high: 3, log: false },
    ]);
  });

  it.each([
    [{ B: { type: "Scalar" } }, 'parameter "B": a Scalar needs bounds'],
    [{ B: { type: "Log", bounds: [0, 1] } }, 'parameter "B": a log scale needs low > 0'],
    [
      { B: { type: "Array", params: { shape: [3] }, bounds: [0, 1] } },
      'parameter "B": an Array of shape [3] is a vector',
    ],
    [{ B: { type: "Choice", params: { choices: [1, 2] }, repetitions: 2 } }, 'parameter "B": repetitions'],
    [{ B: { type: "Gaussian" } }, 'parameter "B": unknown type "Gaussian"'],
    [{ B: { low: 0, high: 1 } }, 'parameter "B": missing "type"'],
    [{ B: [4, 1] }, 'parameter "B": bounds [4, 1] must be given as [low, high]'],
    [{ B: [] }, 'parameter "B": a categorical needs a non-empty list'],
    [{ B: null }, 'parameter "B": cannot read null'],
  ])("rejects %j naming the parameter", (optSpace, message) => {
    expect(errorOf(undefined, optSpace)).toContain(message);
  });

  it("rejects an opt_space that is not a map", () => {
    expect(errorOf(undefined, [1, 2])).toContain("opt_space must be a map");
  });
});

describe("checkPoint and canonicalisePoint", () => {
  const space = compiled({
    drop: { type: "float", low: 0.1, high: 0.5, step: 0.1 },
    layers: { type: "int", low: 1, high: 8 },
    lr: { type: "float", low: 1e-5, high: 0.1, log: true },
    opt: { type: "categorical", choices: ["adam", 1, true] },
  });

  it("canonicalises ints, steps and categorical values", () => {
    const result = canonicalisePoint(space, { drop: 0.31, layers: 3.0000001, lr: 0.01, opt: 1 });
    expect(result).toEqual({ ok: true, value: { drop: 0.3, layers: 3, lr: 0.01, opt: 1 } });
  });

  it.each([
    [{ drop: 0.2, layers: 9, lr: 0.01, opt: "adam" }, 'parameter "layers": 9 is not in int [1, 8]'],
    [
      { drop: 0.2, layers: 2, lr: 0.01, opt: "true" },
      'parameter "opt": "true" is not in one of ["adam",1,true]',
    ],
    [{ drop: 0.2, layers: 2, lr: 1, opt: "adam" }, 'parameter "lr": 1 is not in float [0.00001, 0.1] (log)'],
    [{ drop: 0.2, layers: "2", lr: 0.01, opt: "adam" }, 'parameter "layers": "2" is not in int'],
    [{ drop: 0.2, lr: 0.01, opt: "adam" }, 'parameter "layers": missing from the point'],
    [{ drop: 0.2, layers: 2, lr: 0.01, opt: "adam", extra: 1 }, 'parameter "extra": not in the search space'],
    [[1, 2], "a point must be an object"],
  ])("names what is wrong with %j", (point, message) => {
    expect(checkPoint(space, point)).toContain(message);
  });

  it("names the point it rejects", () => {
    expect(checkPoint(space, { drop: 0.2, layers: 9, lr: 0.01, opt: "adam" })).toBe(
      'point {"drop":0.2,"layers":9,"lr":0.01,"opt":"adam"}: parameter "layers": 9 is not in int [1, 8]',
    );
  });

  it("accepts a valid point", () => {
    expect(checkPoint(space, { drop: 0.5, layers: 8, lr: 1e-5, opt: true })).toBeNull();
  });
});

describe("unit encoding", () => {
  const dims: Dim[] = [
    { name: "f", kind: "float", low: -2, high: 6, log: false },
    { name: "l", kind: "float", low: 1e-4, high: 1, log: true },
    { name: "i", kind: "int", low: 1, high: 4, log: false },
    { name: "il", kind: "int", low: 1, high: 1000, log: true },
    { name: "s", kind: "float", low: 0, high: 1, log: false, step: 0.25 },
    { name: "c", kind: "categorical", choices: ["a", "b", "c"] },
  ];

  it("round-trips values through [0, 1]", () => {
    const samples: Array<[number, number | string]> = [
      [0, -2],
      [1, 1e-2],
      [2, 3],
      [3, 37],
      [4, 0.75],
      [5, "b"],
    ];
    for (const [i, value] of samples) {
      const dim = dims[i] as Dim;
      const u = toUnit(dim, value);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThanOrEqual(1);
      const back = fromUnit(dim, u);
      if (typeof value === "number") expect(back as number).toBeCloseTo(value, 9);
      else expect(back).toBe(value);
    }
  });

  it("splits discrete dimensions into equal buckets", () => {
    const dim = dims[2] as Dim;
    expect([0, 0.24, 0.26, 0.74, 0.76, 1].map((u) => fromUnit(dim, u))).toEqual([1, 1, 2, 3, 4, 4]);
    expect(levelCount(dims[4] as Dim)).toBe(5);
    expect(levelCount(dims[0] as Dim)).toBe(Number.POSITIVE_INFINITY);
  });

  it("snaps values, rejecting out-of-range ones", () => {
    expect(snapValue(dims[4] as Dim, 0.6)).toBe(0.5);
    expect(snapValue(dims[4] as Dim, 1.2)).toBeUndefined();
    expect(snapValue(dims[5] as Dim, "d")).toBeUndefined();
    expect(Number.isNaN(toUnit(dims[0] as Dim, 7))).toBe(true);
  });
});
