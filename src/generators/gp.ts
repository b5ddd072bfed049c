/**
 * A Gaussian process with a Matérn 5/2 kernel and one lengthscale per search dimension (ARD; a
 * categorical's one-hot features share one), fitted by maximising the log marginal likelihood plus
 * weak priors (MAP) over theta = [log lengthscales..., log signal variance, log noise variance].
 * Inputs are feature rows in [0, 1]; outputs are standardised by the caller.
 */

import { minimize } from "./lbfgs.ts";
import { cholesky, inverseFromCholesky, solveLower, solveUpperT } from "./linalg.ts";

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);

/** GpData is the training set: n feature rows of width width (row-major), standardised targets y, and each feature's dimension. */
export interface GpData {
  x: Float64Array;
  y: Float64Array;
  n: number;
  width: number;
  /** group[f] is the search dimension (lengthscale) feature f belongs to. */
  group: Int32Array;
  dims: number;
}

/** thetaBounds returns the box every hyperparameter stays in: lengthscales in [0.02, 50], signal in [0.05, 20], noise in [1e-6, 0.5]. */
export function thetaBounds(dims: number): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(dims + 2).fill(Math.log(0.02));
  const upper = new Float64Array(dims + 2).fill(Math.log(50));
  lower[dims] = Math.log(0.05);
  upper[dims] = Math.log(20);
  lower[dims + 1] = Math.log(1e-6);
  upper[dims + 1] = Math.log(0.5);
  return { lower, upper };
}

/** defaultTheta returns the starting hyperparameters: lengthscale 0.5, signal variance 1, noise variance 1e-4. */
export function defaultTheta(dims: number, lengthscale = 0.5): Float64Array {
  const theta = new Float64Array(dims + 2).fill(Math.log(lengthscale));
  theta[dims] = 0;
  theta[dims + 1] = Math.log(1e-4);
  return theta;
}

/** matern52 returns the Matérn 5/2 correlation at scaled distance r. */
export function matern52(r: number): number {
  const sr = SQRT5 * r;
  return (1 + sr + (sr * sr) / 3) * Math.exp(-sr);
}

/** scaleRows divides every feature by its dimension's lengthscale. */
export function scaleRows(
  x: Float64Array,
  rows: number,
  width: number,
  group: Int32Array,
  theta: ArrayLike<number>,
): Float64Array {
  const inv = Float64Array.from(group, (g) => Math.exp(-(theta[g] as number)));
  const out = new Float64Array(rows * width);
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < width; f++) out[i * width + f] = (x[i * width + f] as number) * (inv[f] as number);
  }
  return out;
}

/** distance returns the Euclidean distance between row i of a and row j of b (both scaled, width columns). */
export function distance(a: Float64Array, i: number, b: Float64Array, j: number, width: number): number {
  let s = 0;
  const ai = i * width;
  const bj = j * width;
  for (let f = 0; f < width; f++) {
    const diff = (a[ai + f] as number) - (b[bj + f] as number);
    s += diff * diff;
  }
  return Math.sqrt(s);
}

/** logPrior returns the log prior density of theta and adds its gradient into grad. */
function logPrior(theta: Float64Array, dims: number, grad: Float64Array): number {
  let lp = 0;
  for (let d = 0; d < dims; d++) {
    const u = theta[d] as number;
    lp += 3 * u - 6 * Math.exp(u);
    grad[d] = (grad[d] as number) + 3 - 6 * Math.exp(u);
  }
  const s = theta[dims] as number;
  lp -= (s * s) / (2 * 1.5 * 1.5);
  grad[dims] = (grad[dims] as number) - s / (1.5 * 1.5);
  const noise = (theta[dims + 1] as number) - Math.log(1e-4);
  lp -= (noise * noise) / (2 * 3 * 3);
  grad[dims + 1] = (grad[dims + 1] as number) - noise / (3 * 3);
  return lp;
}

/** negLogPosterior returns -(log marginal likelihood + log prior) at theta and writes its gradient into grad. */
export function negLogPosterior(data: GpData, theta: Float64Array, grad: Float64Array): number {
  const { n, width, dims } = data;
  const signal = Math.exp(theta[dims] as number);
  const noise = Math.exp(theta[dims + 1] as number);
  const xs = scaleRows(data.x, n, width, data.group, theta);
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    k[i * n + i] = signal + noise;
    for (let j = 0; j < i; j++) {
      const v = signal * matern52(distance(xs, i, xs, j, width));
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  const l = Float64Array.from(k);
  if (!cholesky(l, n)) {
    grad.fill(0);
    return Number.POSITIVE_INFINITY;
  }
  const alpha = solveUpperT(l, n, solveLower(l, n, data.y));
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(l[i * n + i] as number);
  const logLik = -0.5 * dot(data.y, alpha) - logDet - 0.5 * n * LOG_2PI;
  const inv = inverseFromCholesky(l, n);
  grad.fill(0);
  accumulateGradient(data, xs, alpha, inv, signal, noise, grad);
  const lp = logPrior(theta, dims, grad);
  for (let i = 0; i < grad.length; i++) grad[i] = -(grad[i] as number);
  return -(logLik + lp);
}

/** accumulateGradient adds d logLik / d theta = 0.5 tr((alpha alpha^T - K^{-1}) dK/dtheta) into grad. */
function accumulateGradient(
  data: GpData,
  xs: Float64Array,
  alpha: Float64Array,
  inv: Float64Array,
  signal: number,
  noise: number,
  grad: Float64Array,
): void {
  const { n, width, dims, group } = data;
  const perDim = new Float64Array(dims);
  let gSignal = 0;
  let gNoise = 0;
  for (let i = 0; i < n; i++) {
    const wii = (alpha[i] as number) ** 2 - (inv[i * n + i] as number);
    gSignal += 0.5 * wii * signal;
    gNoise += 0.5 * wii * noise;
    for (let j = 0; j < i; j++) {
      const w = (alpha[i] as number) * (alpha[j] as number) - (inv[i * n + j] as number);
      perDim.fill(0);
      let r2 = 0;
      for (let f = 0; f < width; f++) {
        const diff = (xs[i * width + f] as number) - (xs[j * width + f] as number);
        const sq = diff * diff;
        perDim[group[f] as number] = (perDim[group[f] as number] as number) + sq;
        r2 += sq;
      }
      const sr = SQRT5 * Math.sqrt(r2);
      const e = Math.exp(-sr);
      gSignal += w * signal * (1 + sr + (sr * sr) / 3) * e;
      const common = w * signal * (5 / 3) * (1 + sr) * e;
      for (let d = 0; d < dims; d++) grad[d] = (grad[d] as number) + common * (perDim[d] as number);
    }
  }
  grad[dims] = (grad[dims] as number) + gSignal;
  grad[dims + 1] = (grad[dims + 1] as number) + gNoise;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** fitTheta maximises the posterior from each start and returns the best theta found. */
export function fitTheta(data: GpData, starts: Float64Array[], maxIterations: number): Float64Array {
  const { lower, upper } = thetaBounds(data.dims);
  let best: { x: Float64Array; value: number } | undefined;
  for (const start of starts) {
    const result = minimize((x, g) => negLogPosterior(data, x, g), start, { lower, upper, maxIterations });
    if (!best || result.value < best.value) best = result;
  }
  return best ? best.x : (starts[0] as Float64Array);
}
