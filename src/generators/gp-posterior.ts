/**
 * The GP posterior used to choose points: the Cholesky factor of the training kernel matrix,
 * predictions at single points and at a pool of candidates (whose whitened cross-covariances are
 * kept, so that adding a fantasised observation updates every candidate in O(m) each), and
 * fantasies (kriging believer or constant liar) that extend the factor by one row.
 */
import { distance, type GpData, matern52, scaleRows } from "./gp.ts";
import { cholesky, extendCholesky, solveLower, solveUpperT } from "./linalg.ts";

/** Posterior is a conditioned GP: m training rows (observations, then fantasies). */
export interface Posterior {
  width: number;
  group: Int32Array;
  theta: Float64Array;
  signal: number;
  m: number;
  /** xs are the training rows scaled by the lengthscales (m x width). */
  xs: Float64Array;
  l: Float64Array;
  /** z = L^{-1} y; alpha = L^{-T} z = K^{-1} y. */
  z: Float64Array;
  alpha: Float64Array;
}

/** buildPosterior conditions the GP with hyperparameters theta on data, adding jitter when the kernel matrix is near-singular. */
export function buildPosterior(data: GpData, theta: Float64Array): Posterior {
  const { n, width, dims } = data;
  const signal = Math.exp(theta[dims] as number);
  const noise = Math.exp(theta[dims + 1] as number);
  const xs = scaleRows(data.x, n, width, data.group, theta);
  for (let jitter = 0; ; jitter = jitter === 0 ? 1e-8 * signal : jitter * 10) {
    const l = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      l[i * n + i] = signal + noise + jitter;
      for (let j = 0; j < i; j++) l[i * n + j] = signal * matern52(distance(xs, i, xs, j, width));
    }
    if (cholesky(l, n) || jitter > signal) {
      const z = solveLower(l, n, data.y);
      return { width, group: data.group, theta, signal, m: n, xs, l, z, alpha: solveUpperT(l, n, z) };
    }
  }
}

/** scaleFeatures scales feature rows (rows x width) by the posterior's lengthscales. */
export function scaleFeatures(post: Posterior, features: Float64Array, rows: number): Float64Array {
  return scaleRows(features, rows, post.width, post.group, post.theta);
}

function crossKernel(post: Posterior, scaled: Float64Array, row: number): Float64Array {
  const k = new Float64Array(post.m);
  for (let i = 0; i < post.m; i++)
    k[i] = post.signal * matern52(distance(post.xs, i, scaled, row, post.width));
  return k;
}

/** Prediction is the posterior mean and variance of the latent function at one point. */
export interface Prediction {
  mean: number;
  variance: number;
}

/** predict returns the posterior at one scaled feature row. */
export function predict(post: Posterior, scaled: Float64Array, row = 0): Prediction {
  const k = crossKernel(post, scaled, row);
  let mean = 0;
  for (let i = 0; i < post.m; i++) mean += (k[i] as number) * (post.alpha[i] as number);
  const v = solveLower(post.l, post.m, k);
  let explained = 0;
  for (let i = 0; i < post.m; i++) explained += (v[i] as number) ** 2;
  return { mean, variance: Math.max(post.signal - explained, 1e-12 * post.signal) };
}

/** Pool is a set of candidates with their posterior, kept current as fantasies are added. */
export interface Pool {
  size: number;
  scaled: Float64Array;
  mean: Float64Array;
  variance: Float64Array;
  /** rows[i][c] = (L^{-1} k(X, c))_i, one row per training row. */
  rows: Float64Array[];
}

/** buildPool computes the posterior at every candidate (scaled feature rows), solving all of them at once. */
export function buildPool(post: Posterior, scaled: Float64Array, size: number): Pool {
  const { m, l } = post;
  const rows: Float64Array[] = [];
  for (let i = 0; i < m; i++) {
    const row = new Float64Array(size);
    for (let c = 0; c < size; c++)
      row[c] = post.signal * matern52(distance(post.xs, i, scaled, c, post.width));
    for (let k = 0; k < i; k++) {
      const lik = l[i * m + k] as number;
      if (lik === 0) continue;
      const rk = rows[k] as Float64Array;
      for (let c = 0; c < size; c++) row[c] = (row[c] as number) - lik * (rk[c] as number);
    }
    const inv = 1 / (l[i * m + i] as number);
    for (let c = 0; c < size; c++) row[c] = (row[c] as number) * inv;
    rows.push(row);
  }
  const mean = new Float64Array(size);
  const variance = new Float64Array(size).fill(post.signal);
  rows.forEach((row, i) => {
    const zi = post.z[i] as number;
    for (let c = 0; c < size; c++) {
      const v = row[c] as number;
      mean[c] = (mean[c] as number) + v * zi;
      variance[c] = (variance[c] as number) - v * v;
    }
  });
  for (let c = 0; c < size; c++) variance[c] = Math.max(variance[c] as number, 1e-12 * post.signal);
  return { size, scaled, mean, variance, rows };
}

/**
 * addFantasy returns the posterior with one more observation, value at the scaled row, and
 * updates pool (if given) to match. value = the posterior mean there is the kriging believer.
 */
export function addFantasy(
  post: Posterior,
  scaled: Float64Array,
  row: number,
  value: number,
  pool?: Pool,
): Posterior {
  const k = crossKernel(post, scaled, row);
  const noise = Math.exp(post.theta[post.theta.length - 1] as number);
  const l = extendCholesky(post.l, post.m, k, post.signal + noise);
  if (!l) return post;
  const m = post.m + 1;
  const lastRow = l.subarray(post.m * m, post.m * m + post.m);
  const diag = l[post.m * m + post.m] as number;
  let projected = 0;
  for (let i = 0; i < post.m; i++) projected += (lastRow[i] as number) * (post.z[i] as number);
  const zNew = (value - projected) / diag;
  const z = new Float64Array(m);
  z.set(post.z);
  z[post.m] = zNew;
  const xs = new Float64Array(m * post.width);
  xs.set(post.xs);
  xs.set(scaled.subarray(row * post.width, (row + 1) * post.width), post.m * post.width);
  if (pool) extendPool(post, pool, scaled, row, lastRow, diag, zNew);
  return { ...post, m, xs, l, z, alpha: solveUpperT(l, m, z) };
}

function extendPool(
  post: Posterior,
  pool: Pool,
  scaled: Float64Array,
  row: number,
  lastRow: Float64Array,
  diag: number,
  zNew: number,
): void {
  const v = new Float64Array(pool.size);
  for (let c = 0; c < pool.size; c++)
    v[c] = post.signal * matern52(distance(pool.scaled, c, scaled, row, post.width));
  pool.rows.forEach((r, i) => {
    const li = lastRow[i] as number;
    for (let c = 0; c < pool.size; c++) v[c] = (v[c] as number) - li * (r[c] as number);
  });
  for (let c = 0; c < pool.size; c++) {
    const vc = (v[c] as number) / diag;
    v[c] = vc;
    pool.mean[c] = (pool.mean[c] as number) + vc * zNew;
    pool.variance[c] = Math.max((pool.variance[c] as number) - vc * vc, 1e-12 * post.signal);
  }
  pool.rows.push(v);
}
