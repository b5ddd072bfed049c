/**
 * The Parzen estimator behind tpe: a mixture with one kernel per observation plus a prior kernel,
 * each kernel a product over dimensions of a truncated normal (numeric dimensions, in log space
 * when log is set, as a probability mass over the value's cell when the dimension is discrete) or
 * of a smoothed indicator (categorical dimensions). Bandwidths follow Optuna's defaults: the
 * larger gap to the neighbouring observations, clipped to [range / min(100, n + 2), range].
 */
import { numericStep } from "./dims.ts";
import { logNormMass } from "./normal.ts";

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

import type { Rng } from "./rng.ts";
import type { Dim } from "./types.ts";

/** Axis is how the estimator sees one dimension: numeric (bounds in its own scale) or categorical. */
export type Axis =
  | { kind: "numeric"; low: number; high: number; step: number; log: boolean; lo: number; hi: number }
  | { kind: "categorical"; n: number };

/** axisOf returns the estimator's view of dim: lo and hi are the bounds widened by half a step, in log space for log dimensions. */
export function axisOf(dim: Dim): Axis {
  if (dim.kind === "categorical") return { kind: "categorical", n: dim.choices.length };
  const step = numericStep(dim);
  const lo = dim.low - step / 2;
  const hi = dim.high + step / 2;
  const log = dim.log;
  return {
    kind: "numeric",
    low: dim.low,
    high: dim.high,
    step,
    log,
    lo: log ? Math.log(lo) : lo,
    hi: log ? Math.log(hi) : hi,
  };
}

type Kernels =
  | {
      kind: "numeric";
      axis: Axis & { kind: "numeric" };
      mu: Float64Array;
      sigma: Float64Array;
      logZ: Float64Array;
      /** logNorm = -log(sigma) - logZ - log(sqrt(2 pi)): the constant part of each kernel's log density. */
      logNorm: Float64Array;
    }
  | { kind: "categorical"; logp: Float64Array[] };

/** Estimator is a built mixture: log weights per kernel (the last is the prior) and kernels per dimension. */
export interface Estimator {
  logWeights: Float64Array;
  dims: Kernels[];
}

/** optunaWeights returns Optuna's default observation weights: 1 for the newest 25, a ramp from 1/n up for older ones. */
export function optunaWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) =>
    n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26),
  );
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/**
 * buildEstimator builds the mixture over observations (rows of internal values: the number itself
 * for numeric dimensions, the choice index for categorical ones) with the given weights.
 */
export function buildEstimator(
  axes: Axis[],
  rows: number[][],
  weights: number[],
  priorWeight = 1,
): Estimator {
  const all = rows.length === 0 ? [1] : [...weights, priorWeight];
  const total = all.reduce((a, b) => a + b, 0);
  const logWeights = Float64Array.from(all, (w) => Math.log(w / total));
  const dims = axes.map((axis, d): Kernels => {
    const column = rows.map((r) => r[d] as number);
    return axis.kind === "categorical"
      ? categoricalKernels(axis.n, column, priorWeight)
      : numericKernels(axis, column);
  });
  return { logWeights, dims };
}

function numericKernels(axis: Axis & { kind: "numeric" }, values: number[]): Kernels {
  const n = values.length;
  const range = axis.hi - axis.lo;
  const mu = new Float64Array(n + 1);
  values.forEach((v, i) => {
    mu[i] = axis.log ? Math.log(v) : v;
  });
  const sigma = new Float64Array(n + 1);
  const sorted = mu.slice(0, n).sort();
  const minSigma = range / Math.min(100, n + 2);
  for (let i = 0; i < n; i++) {
    const rank = lowerBound(sorted, mu[i] as number);
    const left = rank === 0 ? axis.lo : (sorted[rank - 1] as number);
    const right = rank === n - 1 ? axis.hi : (sorted[rank + 1] as number);
    const here = sorted[rank] as number;
    let gap = Math.max(here - left, right - here);
    if (n >= 2 && rank === 0) gap = right - here;
    if (n >= 2 && rank === n - 1) gap = here - left;
    sigma[i] = Math.min(range, Math.max(minSigma, gap));
  }
  mu[n] = (axis.lo + axis.hi) / 2;
  sigma[n] = range;
  const logZ = Float64Array.from(mu, (m, k) => {
    const s = sigma[k] as number;
    const a = (axis.lo - m) / s;
    const b = (axis.hi - m) / s;
    return a < -8 && b > 8 ? 0 : logNormMass(a, b); // beyond 8 sigma on both sides the mass is 1 to 1e-15
  });
  const logNorm = Float64Array.from(logZ, (z, k) => -z - Math.log(sigma[k] as number) - LOG_SQRT_2PI);
  return { kind: "numeric", axis, mu, sigma, logZ, logNorm };
}

/** lowerBound returns the first index of sorted holding a value >= x. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function categoricalKernels(choices: number, observed: number[], priorWeight: number): Kernels {
  const kernels = observed.length + 1;
  const logp: Float64Array[] = [];
  for (let k = 0; k < kernels; k++) {
    const row = new Array<number>(choices).fill(priorWeight / kernels);
    if (k < observed.length) row[observed[k] as number] = (row[observed[k] as number] as number) + 1;
    const sum = row.reduce((a, b) => a + b, 0);
    logp.push(Float64Array.from(row, (w) => Math.log(w / sum)));
  }
  return { kind: "categorical", logp };
}

/** pickIndex draws an index with probability exp(logWeights[i]). */
function pickIndex(logWeights: Float64Array, rng: Rng): number {
  let u = rng.next();
  for (let k = 0; k < logWeights.length; k++) {
    u -= Math.exp(logWeights[k] as number);
    if (u < 0) return k;
  }
  return logWeights.length - 1;
}

function sampleNumeric(kernels: Kernels & { kind: "numeric" }, k: number, rng: Rng): number {
  const { axis } = kernels;
  const m = kernels.mu[k] as number;
  const s = kernels.sigma[k] as number;
  let t = m;
  for (let i = 0; i < 100; i++) {
    t = m + s * rng.normal();
    if (t >= axis.lo && t <= axis.hi) break;
  }
  t = Math.min(axis.hi, Math.max(axis.lo, t));
  const v = axis.log ? Math.exp(t) : t;
  if (axis.step === 0) return Math.min(axis.high, Math.max(axis.low, v));
  const snapped = axis.low + Math.round((v - axis.low) / axis.step) * axis.step;
  return Math.min(axis.high, Math.max(axis.low, snapped));
}

/** sampleEstimator draws one point (internal values) from the mixture: a kernel by weight, then each dimension from it. */
export function sampleEstimator(est: Estimator, rng: Rng): number[] {
  const k = pickIndex(est.logWeights, rng);
  return est.dims.map((kernels) =>
    kernels.kind === "numeric"
      ? sampleNumeric(kernels, k, rng)
      : pickIndex(kernels.logp[k] as Float64Array, rng),
  );
}

function addNumericTerms(acc: Float64Array, kernels: Kernels & { kind: "numeric" }, x: number): void {
  const { axis, mu, sigma, logZ, logNorm } = kernels;
  if (axis.step === 0) {
    const t = axis.log ? Math.log(x) : x;
    for (let k = 0; k < acc.length; k++) {
      const z = (t - (mu[k] as number)) / (sigma[k] as number);
      acc[k] = (acc[k] as number) - 0.5 * z * z + (logNorm[k] as number);
    }
    return;
  }
  const left = Math.max(axis.lo, axis.log ? Math.log(x - axis.step / 2) : x - axis.step / 2);
  const right = Math.min(axis.hi, axis.log ? Math.log(x + axis.step / 2) : x + axis.step / 2);
  for (let k = 0; k < acc.length; k++) {
    const s = sigma[k] as number;
    const m = mu[k] as number;
    acc[k] = (acc[k] as number) + logNormMass((left - m) / s, (right - m) / s) - (logZ[k] as number);
  }
}

/** logPdfEstimator returns the log density (log mass on discrete dimensions) of the mixture at x. */
export function logPdfEstimator(est: Estimator, x: number[]): number {
  const acc = Float64Array.from(est.logWeights);
  est.dims.forEach((kernels, d) => {
    const value = x[d] as number;
    if (kernels.kind === "numeric") {
      addNumericTerms(acc, kernels, value);
      return;
    }
    for (let k = 0; k < acc.length; k++)
      acc[k] = (acc[k] as number) + ((kernels.logp[k] as Float64Array)[value] as number);
  });
  let max = Number.NEGATIVE_INFINITY;
  for (const v of acc) if (v > max) max = v;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let sum = 0;
  for (const v of acc) sum += Math.exp(v - max);
  return max + Math.log(sum);
}
