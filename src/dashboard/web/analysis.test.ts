import { describe, expect, it } from "vitest";
import {
  bestSoFar,
  binsOf,
  formatNumber,
  gridDecimate,
  importance,
  lineSample,
  logTicks,
  niceTicks,
  ranks,
  stepChanges,
} from "./analysis.ts";

describe("bestSoFar", () => {
  it("follows the best loss in id order, by direction", () => {
    expect([...bestSoFar([Number.NaN, 3, 5, 1, Number.NaN, 2], "minimize")]).toEqual([
      Number.NaN,
      3,
      3,
      1,
      1,
      1,
    ]);
    expect([...bestSoFar([2, 1, 4], "maximize")]).toEqual([2, 2, 4]);
  });
  it("keeps only where the curve changes, and its end", () => {
    expect(stepChanges(bestSoFar([Number.NaN, 3, 5, 1, 4, 6], "minimize"))).toEqual([1, 3, 5]);
  });
});

describe("gridDecimate", () => {
  it("keeps one point per cell, the latest, in order", () => {
    const xs = [0, 1, 5, 5.5, 9];
    const kept = gridDecimate(
      xs.length,
      (i) => xs[i] as number,
      () => 0,
      10,
      2,
      2,
    );
    expect(kept).toEqual([1, 3, 4]);
  });
  it("skips points without coordinates", () => {
    expect(
      gridDecimate(
        3,
        (i) => (i === 1 ? Number.NaN : i * 10),
        () => 1,
        30,
        2,
      ),
    ).toEqual([0, 2]);
  });
  it("bounds 100,000 points by the canvas size", () => {
    let s = 1;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    const pts = Array.from({ length: 100_000 }, () => [rnd() * 400, rnd() * 200]);
    const kept = gridDecimate(
      pts.length,
      (i) => pts[i]?.[0] as number,
      (i) => pts[i]?.[1] as number,
      400,
      200,
    );
    expect(kept.length).toBeLessThanOrEqual(200 * 100);
    expect(kept.length).toBeGreaterThan(15_000);
  });
});

describe("lineSample", () => {
  it("keeps every line when few, worst first", () => {
    expect(lineSample([3, Number.NaN, 1, 2], "minimize")).toEqual([0, 3, 2]);
    expect(lineSample([3, Number.NaN, 1, 2], "maximize")).toEqual([2, 3, 0]);
  });
  it("keeps the best quarter and spreads the rest over the loss range", () => {
    const loss = Array.from({ length: 1000 }, (_, i) => i);
    const picked = lineSample(loss, "minimize", 100);
    expect(picked).toHaveLength(100);
    const sorted = [...picked].sort((a, b) => a - b);
    expect(sorted.slice(0, 25)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(Math.max(...picked)).toBeGreaterThan(950);
    expect(picked.at(-1)).toBe(0);
  });
});

describe("importance", () => {
  it("scores the parameter the loss depends on, not the noise", () => {
    let s = 7;
    const rnd = () => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    const n = 400;
    const x = Array.from({ length: n }, rnd);
    const noise = Array.from({ length: n }, rnd);
    const cat = Array.from({ length: n }, (_, i) => i % 2);
    const loss = x.map((v, i) => (v - 0.3) ** 2 + 0.01 * (noise[i] as number));
    const [ix, inoise, icat] = importance([x, noise, cat], [false, false, true], loss);
    expect(ix).toBeGreaterThan(0.8);
    expect(inoise).toBeLessThan(0.05);
    expect(icat).toBeLessThan(0.05);
  });
  it("finds a categorical effect and ignores points without a loss", () => {
    const cat = [0, 1, 0, 1, 0, 1, 0, 1, 2];
    const loss = [1, 5, 1.1, 5.2, 0.9, 4.9, 1.2, 5.1, Number.NaN];
    const [score] = importance([cat], [true], loss);
    expect(score).toBeGreaterThan(0.6); // perfectly separated ranks: eta² 0.76, corrected for 2 bins 0.69
  });
  it("is 0 with too few points or a constant loss", () => {
    expect(importance([[1, 2]], [false], [1, 2])).toEqual([0]);
    expect(importance([[1, 2, 3, 4]], [false], [1, 1, 1, 1])).toEqual([0]);
  });
});

describe("helpers", () => {
  it("ranks with ties averaged", () => {
    expect([...ranks([3, 1, 3, 2])]).toEqual([2.5, 0, 2.5, 1]);
  });
  it("bins numbers by equal counts and categories by value", () => {
    expect(binsOf([1, 2, 3, 4], 2)).toEqual([0, 0, 1, 1]);
    expect(binsOf([0, 1, 0], 10, true)).toEqual([0, 1, 0]);
  });
  it("makes round ticks", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(logTicks(0.001, 1)).toEqual([0.001, 0.01, 0.1, 1]);
    expect(formatNumber(0.000012345)).toBe("1.23e-5");
    expect(formatNumber(-3.13456789)).toBe("-3.1346");
    expect(formatNumber(null)).toBe("–");
  });
});
