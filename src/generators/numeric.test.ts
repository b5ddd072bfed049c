/**
 * The numeric building blocks: the normal distribution, linear algebra, L-BFGS.
 */
import { describe, expect, it } from "vitest";
import { minimize } from "./lbfgs.ts";
import {
  cholesky,
  extendCholesky,
  inverseFromCholesky,
  solveLower,
  solveUpperT,
  symmetricEigen,
} from "./linalg.ts";
import { erfc, erfcx, logH, logNormMass, normCdf } from "./normal.ts";
import { createRng } from "./rng.ts";

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe("normal distribution", () => {
  it.each([
    [-1, 1.8427007929497148],
    [0.1, 0.8875370839817152],
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [3, 2.209049699858544e-5],
    [5, 1.5374597944280349e-12],
    [10, 2.088487583762545e-45],
    [20, 5.395865611607901e-176],
  ])("erfc(%d) is accurate to 1e-13 relative", (x, expected) => {
    expect(relative(erfc(x), expected)).toBeLessThan(1e-13);
  });

  it("erfcx matches e^{x^2} erfc(x) and its asymptote", () => {
    expect(relative(erfcx(1.5), Math.exp(2.25) * erfc(1.5))).toBeLessThan(1e-13);
    const x = 1e4;
    expect(relative(erfcx(x), 1 / (x * Math.sqrt(Math.PI)))).toBeLessThan(1e-8);
  });

  it("normCdf is symmetric and right at known points", () => {
    expect(normCdf(0)).toBe(0.5);
    expect(relative(normCdf(1.959963984540054), 0.975)).toBeLessThan(1e-14);
    expect(normCdf(-3) + normCdf(3)).toBeCloseTo(1, 15);
  });

  it("logNormMass keeps its accuracy in the far tails", () => {
    expect(logNormMass(-1, 1)).toBeCloseTo(Math.log(0.6826894921370859), 14);
    expect(logNormMass(40, 41)).toBeCloseTo(logNormMass(-41, -40), 10);
    // The tail beyond 40 is phi(40) / 40 (1 - 1/40^2 + 3/40^4 - ...); the part beyond 41 is negligible.
    const tail =
      -800 -
      0.5 * Math.log(2 * Math.PI) -
      Math.log(40) +
      Math.log(1 - 1 / 1600 + 3 / 1600 ** 2 - 15 / 1600 ** 3);
    expect(logNormMass(40, 41)).toBeCloseTo(tail, 9);
    expect(Number.isFinite(logNormMass(-60, -59))).toBe(true);
  });

  it("logH equals log(phi(z) + z Phi(z)) where that can be computed, stays finite and increasing beyond", () => {
    for (const z of [-8, -3, -1.5, -1, -0.5, 0, 0.7, 3, 10]) {
      const phi = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
      expect(logH(z)).toBeCloseTo(Math.log(phi + z * normCdf(z)), 9);
    }
    const zs = [-1e6, -1e4, -1001, -999, -100, -40, -1.0001, -0.9999];
    const values = zs.map(logH);
    for (let i = 1; i < values.length; i++)
      expect(values[i] as number).toBeGreaterThan(values[i - 1] as number);
    expect(values.every(Number.isFinite)).toBe(true);
  });
});

function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const b = Float64Array.from({ length: n * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += (b[i * n + k] as number) * (b[j * n + k] as number);
      a[i * n + j] = s;
    }
  return a;
}

describe("linear algebra", () => {
  const n = 7;
  const a = randomSpd(n, 1);

  it("factors, solves and inverts a positive-definite matrix", () => {
    const l = Float64Array.from(a);
    expect(cholesky(l, n)).toBe(true);
    const b = Array.from({ length: n }, (_, i) => i + 1);
    const x = solveUpperT(l, n, solveLower(l, n, b));
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += (a[i * n + j] as number) * (x[j] as number);
      expect(s).toBeCloseTo(b[i] as number, 10);
    }
    const inv = inverseFromCholesky(l, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += (a[i * n + k] as number) * (inv[k * n + j] as number);
        expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
      }
  });

  it("rejects a matrix that is not positive definite", () => {
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBe(false);
  });

  it("extends a factor by one row exactly as factoring the larger matrix", () => {
    const big = randomSpd(n + 1, 2);
    const full = Float64Array.from(big);
    cholesky(full, n + 1);
    const small = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) small[i * n + j] = big[i * (n + 1) + j] as number;
    cholesky(small, n);
    const column = Array.from({ length: n }, (_, i) => big[i * (n + 1) + n] as number);
    const extended = extendCholesky(small, n, column, big[n * (n + 1) + n] as number) as Float64Array;
    for (let i = 0; i < full.length; i++) expect(extended[i]).toBeCloseTo(full[i] as number, 10);
  });

  it("decomposes a symmetric matrix into eigenpairs", () => {
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += (a[i * n + j] as number) * (vectors[j * n + k] as number);
        expect(av).toBeCloseTo((values[k] as number) * (vectors[i * n + k] as number), 8);
      }
    }
  });
});

describe("L-BFGS", () => {
  it("minimises the Rosenbrock function inside a box", () => {
    const result = minimize(
      (x, g) => {
        const [a, b] = [x[0] as number, x[1] as number];
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      [-1.2, 1],
      { lower: [-2, -2], upper: [2, 2], maxIterations: 200 },
    );
    expect(result.x[0]).toBeCloseTo(1, 3);
    expect(result.x[1]).toBeCloseTo(1, 3);
  });

  it("stops at the box when the minimum lies outside it", () => {
    const result = minimize(
      (x, g) => {
        g[0] = 2 * ((x[0] as number) - 5);
        return ((x[0] as number) - 5) ** 2;
      },
      [0],
      { lower: [-1], upper: [1], maxIterations: 50 },
    );
    expect(result.x[0]).toBe(1);
  });
});
