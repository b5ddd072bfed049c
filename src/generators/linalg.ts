/**
 * The little dense linear algebra the methods need, on row-major Float64Arrays: Cholesky
 * factorisation (and extending a factor by one row), triangular solves, the inverse from a factor,
 * and the eigendecomposition of a small symmetric matrix (cyclic Jacobi).
 */

/**
 * cholesky factors the n x n symmetric positive-definite matrix a in place into its lower factor L
 * (a = L L^T; the upper triangle is zeroed). It returns false when a is not positive definite.
 */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let d = a[rowJ + j] as number;
    for (let k = 0; k < j; k++) d -= (a[rowJ + k] as number) ** 2;
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j] as number;
      for (let k = 0; k < j; k++) s -= (a[rowI + k] as number) * (a[rowJ + k] as number);
      a[rowI + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rowJ + k] = 0;
  }
  return true;
}

/** solveLower solves L x = b for x (L lower triangular, n x n, row-major), writing x into out. */
export function solveLower(
  l: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[row + k] as number) * (out[k] as number);
    out[i] = s / (l[row + i] as number);
  }
  return out;
}

/** solveUpperT solves L^T x = b for x (L lower triangular), writing x into out. */
export function solveUpperT(
  l: Float64Array,
  n: number,
  b: ArrayLike<number>,
  out: Float64Array = new Float64Array(n),
): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (out[k] as number);
    out[i] = s / (l[i * n + i] as number);
  }
  return out;
}

/** inverseFromCholesky returns A^{-1} (n x n, row-major) given A's lower Cholesky factor L. */
export function inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // W = L^{-1}, lower triangular, built column by column; then A^{-1} = W^T W.
  const w = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    w[j * n + j] = 1 / (l[j * n + j] as number);
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= (l[i * n + k] as number) * (w[k * n + j] as number);
      w[i * n + j] = s / (l[i * n + i] as number);
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += (w[k * n + i] as number) * (w[k * n + j] as number);
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/**
 * extendCholesky returns the factor of [[A, k], [k^T, c]] given A's n x n factor L, the new
 * column k and the new diagonal entry c, or undefined when the result is not positive definite.
 */
export function extendCholesky(
  l: Float64Array,
  n: number,
  k: ArrayLike<number>,
  c: number,
): Float64Array | undefined {
  const row = solveLower(l, n, k);
  const d = c - row.reduce((s, v) => s + v * v, 0);
  if (!(d > 0)) return undefined;
  const m = n + 1;
  const out = new Float64Array(m * m);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * m + j] = l[i * n + j] as number;
  for (let j = 0; j < n; j++) out[n * m + j] = row[j] as number;
  out[n * m + n] = Math.sqrt(d);
  return out;
}

/** Eigen is an eigendecomposition: values[i] belongs to the column vectors[., i] (row-major d x d). */
export interface Eigen {
  values: Float64Array;
  vectors: Float64Array;
}

/** symmetricEigen returns the eigendecomposition of the d x d symmetric matrix a (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(a: Float64Array, d: number): Eigen {
  const m = Float64Array.from(a);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += (m[p * d + q] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) rotate(m, v, d, p, q);
  }
  return { values: Float64Array.from({ length: d }, (_, i) => m[i * d + i] as number), vectors: v };
}

function rotate(m: Float64Array, v: Float64Array, d: number, p: number, q: number): void {
  const apq = m[p * d + q] as number;
  if (Math.abs(apq) < 1e-300) return;
  const theta = ((m[q * d + q] as number) - (m[p * d + p] as number)) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < d; k++) {
    const mkp = m[k * d + p] as number;
    const mkq = m[k * d + q] as number;
    m[k * d + p] = c * mkp - s * mkq;
    m[k * d + q] = s * mkp + c * mkq;
  }
  for (let k = 0; k < d; k++) {
    const mpk = m[p * d + k] as number;
    const mqk = m[q * d + k] as number;
    m[p * d + k] = c * mpk - s * mqk;
    m[q * d + k] = s * mpk + c * mqk;
  }
  for (let k = 0; k < d; k++) {
    const vkp = v[k * d + p] as number;
    const vkq = v[k * d + q] as number;
    v[k * d + p] = c * vkp - s * vkq;
    v[k * d + q] = s * vkp + c * vkq;
  }
}
