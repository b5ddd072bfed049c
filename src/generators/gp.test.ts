import { describe, expect, it } from "vitest";
import { defaultTheta, fitTheta, type GpData, negLogPosterior } from "./gp.ts";
import { addFantasy, buildPool, buildPosterior, predict, scaleFeatures } from "./gp-posterior.ts";
import { createRng } from "./rng.ts";

function dataset(n: number, seed: number, f: (x: number[]) => number): GpData {
  const rng = createRng(seed);
  const width = 3;
  const x = Float64Array.from({ length: n * width }, () => rng.next());
  const y = Float64Array.from({ length: n }, (_, i) =>
    f([x[i * 3] as number, x[i * 3 + 1] as number, x[i * 3 + 2] as number]),
  );
  return { x, y, n, width, group: Int32Array.from([0, 1, 2]), dims: 3 };
}

const wavy = (x: number[]) => Math.sin(6 * (x[0] as number)) + 0.5 * Math.cos(4 * (x[1] as number));

describe("GP marginal likelihood", () => {
  it("has an analytic gradient that matches finite differences", () => {
    const data = dataset(25, 1, wavy);
    const theta = Float64Array.from([-0.4, 0.1, 1.2, 0.2, -6]);
    const grad = new Float64Array(5);
    negLogPosterior(data, theta, grad);
    for (let i = 0; i < 5; i++) {
      const up = Float64Array.from(theta);
      const down = Float64Array.from(theta);
      up[i] = (up[i] as number) + 1e-6;
      down[i] = (down[i] as number) - 1e-6;
      const scratch = new Float64Array(5);
      const numeric = (negLogPosterior(data, up, scratch) - negLogPosterior(data, down, scratch)) / 2e-6;
      expect(grad[i]).toBeCloseTo(numeric, 4);
    }
  });

  it("fits a long lengthscale to a dimension the function ignores", () => {
    const data = dataset(40, 2, wavy);
    const theta = fitTheta(data, [defaultTheta(3)], 60);
    expect(Math.exp(theta[2] as number)).toBeGreaterThan(3 * Math.exp(theta[0] as number));
    expect(Math.exp(theta[2] as number)).toBeGreaterThan(1);
  });
});

describe("GP posterior", () => {
  const data = dataset(30, 3, wavy);
  const theta = fitTheta(data, [defaultTheta(3)], 60);
  const post = buildPosterior(data, theta);

  it("interpolates its training points when the noise is small", () => {
    const scaled = scaleFeatures(post, data.x, data.n);
    for (let i = 0; i < 5; i++) {
      const p = predict(post, scaled, i);
      expect(p.mean).toBeCloseTo(data.y[i] as number, 1);
      expect(p.variance).toBeLessThan(0.05 * post.signal);
    }
  });

  it("predicts a pool exactly as point by point, also after a fantasy", () => {
    const rng = createRng(9);
    const candidates = Float64Array.from({ length: 12 * 3 }, () => rng.next());
    const scaled = scaleFeatures(post, candidates, 12);
    const pool = buildPool(post, scaled, 12);
    for (let c = 0; c < 12; c++) {
      const p = predict(post, scaled, c);
      expect(pool.mean[c]).toBeCloseTo(p.mean, 9);
      expect(pool.variance[c]).toBeCloseTo(p.variance, 9);
    }
    const after = addFantasy(post, scaled, 0, 1.5, pool);
    for (let c = 0; c < 12; c++) {
      const p = predict(after, scaled, c);
      expect(pool.mean[c]).toBeCloseTo(p.mean, 9);
      expect(pool.variance[c]).toBeCloseTo(p.variance, 9);
    }
  });

  it("keeps the mean and shrinks the variance at a kriging-believer fantasy", () => {
    const point = scaleFeatures(post, Float64Array.from([0.3, 0.6, 0.1]), 1);
    const before = predict(post, point);
    const after = predict(addFantasy(post, point, 0, before.mean), point);
    expect(after.mean).toBeCloseTo(before.mean, 9);
    expect(after.variance).toBeLessThan(before.variance / 10);
  });
});
