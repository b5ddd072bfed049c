import { describe, expect, it } from "vitest";
import { createRng } from "./rng.ts";
import { warpLosses } from "./warp.ts";

function skewness(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return values.reduce((a, b) => a + ((b - mean) / sd) ** 3, 0) / values.length;
}

describe("warpLosses", () => {
  const rng = createRng(3);
  const heavy = Array.from({ length: 200 }, () => Math.exp(4 * rng.normal()));

  it("keeps the order of the losses and standardises them", () => {
    const warped = warpLosses(heavy);
    const order = (v: number[]) => v.map((_, i) => i).sort((a, b) => (v[a] as number) - (v[b] as number));
    expect(order(warped)).toEqual(order(heavy));
    const mean = warped.reduce((a, b) => a + b, 0) / warped.length;
    const variance = warped.reduce((a, b) => a + (b - mean) ** 2, 0) / warped.length;
    expect(mean).toBeCloseTo(0, 10);
    expect(variance).toBeCloseTo(1, 10);
  });

  it("removes most of the skew of heavy-tailed losses", () => {
    expect(skewness(heavy)).toBeGreaterThan(5);
    expect(Math.abs(skewness(warpLosses(heavy)))).toBeLessThan(1);
  });

  it("leaves normally spread losses nearly as they are", () => {
    const normal = Array.from({ length: 200 }, () => 3 + 2 * rng.normal());
    const warped = warpLosses(normal);
    const mean = normal.reduce((a, b) => a + b, 0) / normal.length;
    const sd = Math.sqrt(normal.reduce((a, b) => a + (b - mean) ** 2, 0) / normal.length);
    const standardised = normal.map((v) => (v - mean) / sd);
    // Both are standardised, so their correlation is the mean of their products.
    const correlation = warped.reduce((s, v, i) => s + v * (standardised[i] as number), 0) / warped.length;
    expect(correlation).toBeGreaterThan(0.995);
  });

  it("maps equal losses to zeros", () => {
    expect(warpLosses([2, 2, 2])).toEqual([0, 0, 0]);
  });
});
