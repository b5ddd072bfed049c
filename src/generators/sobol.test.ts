import { describe, expect, it } from "vitest";
import { createSobol, sobolMethod } from "./sobol.ts";
import { directionNumbers, isPrimitive, primitivePolynomial } from "./sobol-directions.ts";
import type { History, Params, SearchSpace } from "./types.ts";

function occupiedCells(points: number[][], dim: number, cells: number): number {
  return new Set(points.map((p) => Math.floor((p[dim] as number) * cells))).size;
}

describe("Sobol direction numbers", () => {
  it("enumerates the primitive polynomials over GF(2) in order", () => {
    expect(Array.from({ length: 8 }, (_, i) => primitivePolynomial(i).poly)).toEqual([
      3, 7, 11, 13, 19, 25, 37, 41,
    ]);
    // There are phi(2^s - 1) / s primitive polynomials of degree s.
    const counts = [6, 7, 8].map((s) => {
      let n = 0;
      for (let p = 2 ** s + 1; p < 2 ** (s + 1); p += 2) if (isPrimitive(p, s)) n++;
      return n;
    });
    expect(counts).toEqual([6, 18, 16]);
  });

  it("uses odd initial numbers m_k < 2^k", () => {
    for (let j = 1; j < 40; j++) {
      const v = directionNumbers(j);
      for (let k = 1; k <= 32; k++) {
        const m = (v[k - 1] as number) / 2 ** (32 - k);
        expect(Number.isInteger(m) && m % 2 === 1 && m < 2 ** k).toBe(true);
      }
    }
  });
});

describe("scrambled Sobol sequence", () => {
  it.each([false, true])(
    "puts the first 2^k points one per cell of width 2^-k in every coordinate (scrambled: %s)",
    (scramble) => {
      const sobol = createSobol(12, 5, scramble);
      for (const k of [3, 6, 9]) {
        const n = 2 ** k;
        const first = Array.from({ length: n }, (_, i) => sobol.point(i));
        const second = Array.from({ length: n }, (_, i) => sobol.point(n + i));
        for (let dim = 0; dim < 12; dim++) {
          expect(occupiedCells(first, dim, n)).toBe(n);
          expect(occupiedCells(second, dim, n)).toBe(n);
        }
      }
    },
  );

  it("scrambles differently per seed", () => {
    expect(createSobol(3, 1).point(0)).not.toEqual(createSobol(3, 2).point(0));
    expect(createSobol(3, 1).point(5)).toEqual(createSobol(3, 1).point(5));
  });
});

describe("sobol method", () => {
  const space: SearchSpace = {
    dims: [
      { name: "a", kind: "float", low: 0, high: 1, log: false },
      { name: "b", kind: "float", low: -8, high: 8, log: false },
    ],
  };

  it("continues the sequence across calls, so two batches of 8 are balanced like one of 16", () => {
    const history: History = { evaluated: [], pending: [], failed: [] };
    const first = sobolMethod.suggest({ space, history, count: 8, seed: 3, direction: "minimize" }).points;
    history.evaluated = first.slice(0, 6).map((params) => ({ params, loss: 1 }));
    history.pending = first.slice(6);
    const second = sobolMethod.suggest({ space, history, count: 8, seed: 3, direction: "minimize" }).points;
    const units = [...first, ...second].map((p: Params) => [p.a as number, ((p.b as number) + 8) / 16]);
    expect(occupiedCells(units, 0, 16)).toBe(16);
    expect(occupiedCells(units, 1, 16)).toBe(16);
  });
});
