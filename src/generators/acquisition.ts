/**
 * Acquisition for the bayesian method: log expected improvement, the candidate pool (quasi-random
 * points plus perturbations of the best observations) and a pattern search that refines the best
 * candidate coordinate by coordinate.
 */
import { logH } from "./normal.ts";
import type { Rng } from "./rng.ts";
import { createSobol } from "./sobol.ts";
import type { SearchSpace } from "./types.ts";

/** logEi returns log E[max(best - f, 0)] for f ~ N(mean, variance) (we minimise), finite for every input. */
export function logEi(mean: number, variance: number, best: number): number {
  const sigma = Math.sqrt(variance);
  return Math.log(sigma) + logH((best - mean) / sigma);
}

function mirror(x: number): number {
  const m = ((x % 2) + 2) % 2;
  return m > 1 ? 2 - m : m;
}

/**
 * candidatePool returns unit-cube candidates: `quasiRandom` scrambled Sobol points (scrambled by
 * salt, so each call sees fresh ones) and `perLocal` perturbations of each centre, cycling through
 * Gaussian steps of scale 0.01, 0.05 and 0.15 on every coordinate (a categorical coordinate is
 * redrawn with probability 1/d) and a uniform redraw of one coordinate (a jump along one axis, which
 * no small step reaches).
 */
export function candidatePool(
  space: SearchSpace,
  centres: number[][],
  quasiRandom: number,
  perLocal: number,
  salt: number,
  rng: Rng,
): number[][] {
  const d = space.dims.length;
  const sobol = createSobol(d, salt);
  const out: number[][] = [];
  for (let i = 0; i < quasiRandom; i++) out.push(sobol.point(i));
  const scales = [0.01, 0.05, 0.15, 0];
  for (const centre of centres) {
    for (let j = 0; j < perLocal; j++) {
      const scale = scales[j % scales.length] as number;
      const redraw = rng.int(d);
      out.push(
        centre.map((u, i) => {
          if (scale === 0) return i === redraw ? rng.next() : u;
          if (space.dims[i]?.kind === "categorical") return rng.next() < 1 / d ? rng.next() : u;
          return mirror(u + scale * rng.normal());
        }),
      );
    }
  }
  return out;
}

/**
 * patternSearch climbs score from start: it tries a step up and down each coordinate (every other
 * choice on a categorical coordinate), keeps any improvement, halves the step after a pass without
 * one, and stops after maxEvaluations or when the step falls below 1e-3.
 */
export function patternSearch(
  space: SearchSpace,
  start: number[],
  startScore: number,
  score: (u: number[]) => number,
  maxEvaluations: number,
): { u: number[]; score: number } {
  let best = [...start];
  let bestScore = startScore;
  let evaluations = 0;
  let triedChoices = false;
  for (let step = 0.1; step >= 1e-3 && evaluations < maxEvaluations; step /= 2) {
    let improved = true;
    while (improved && evaluations < maxEvaluations) {
      improved = false;
      for (const u of neighbours(space, best, step, !triedChoices)) {
        const s = score(u);
        evaluations++;
        if (s > bestScore) {
          best = u;
          bestScore = s;
          improved = true;
        }
        if (evaluations >= maxEvaluations) break;
      }
      triedChoices = true;
    }
  }
  return { u: best, score: bestScore };
}

function neighbours(space: SearchSpace, u: number[], step: number, withChoices: boolean): number[][] {
  const out: number[][] = [];
  space.dims.forEach((dim, i) => {
    const here = u[i] as number;
    if (dim.kind === "categorical") {
      if (!withChoices) return;
      const n = dim.choices.length;
      const current = Math.min(n - 1, Math.floor(here * n));
      for (let c = 0; c < n; c++) if (c !== current) out.push(u.map((v, j) => (j === i ? (c + 0.5) / n : v)));
      return;
    }
    for (const sign of [1, -1]) {
      const next = Math.min(1, Math.max(0, here + sign * step));
      if (next !== here) out.push(u.map((v, j) => (j === i ? next : v)));
    }
  });
  return out;
}
