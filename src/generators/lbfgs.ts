/**
 * A small limited-memory BFGS minimiser inside a box (steps are projected onto the box; a step
 * that fails the Armijo condition is halved), enough for fitting a handful of GP hyperparameters.
 */

/** Objective returns f(x) and writes its gradient into grad. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** MinimizeOptions bound the search. */
export interface MinimizeOptions {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  maxIterations: number;
  memory?: number;
}

/** MinimizeResult is the best point found, its value, and how many times f was evaluated. */
export interface MinimizeResult {
  x: Float64Array;
  value: number;
  evaluations: number;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function project(x: Float64Array, lower: ArrayLike<number>, upper: ArrayLike<number>): void {
  for (let i = 0; i < x.length; i++)
    x[i] = Math.min(upper[i] as number, Math.max(lower[i] as number, x[i] as number));
}

/** direction returns -H g by the two-loop recursion over the stored pairs (s, y). */
function direction(
  g: Float64Array,
  pairs: Array<{ s: Float64Array; y: Float64Array; rho: number }>,
): Float64Array {
  const q = Float64Array.from(g);
  const alphas: number[] = [];
  for (let i = pairs.length - 1; i >= 0; i--) {
    const p = pairs[i] as { s: Float64Array; y: Float64Array; rho: number };
    const a = p.rho * dot(p.s, q);
    alphas[i] = a;
    for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) - a * (p.y[j] as number);
  }
  const last = pairs[pairs.length - 1];
  const scale = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1;
  for (let j = 0; j < q.length; j++) q[j] = (q[j] as number) * scale;
  pairs.forEach((p, i) => {
    const b = p.rho * dot(p.y, q);
    for (let j = 0; j < q.length; j++)
      q[j] = (q[j] as number) + (p.s[j] as number) * ((alphas[i] as number) - b);
  });
  return q.map((v) => -v);
}

/** minimize runs projected L-BFGS from x0 and returns the best point seen. */
export function minimize(f: Objective, x0: ArrayLike<number>, opts: MinimizeOptions): MinimizeResult {
  const n = x0.length;
  const x = Float64Array.from(x0);
  project(x, opts.lower, opts.upper);
  const g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  const pairs: Array<{ s: Float64Array; y: Float64Array; rho: number }> = [];
  for (let iter = 0; iter < opts.maxIterations && Number.isFinite(fx); iter++) {
    let d = direction(g, pairs);
    if (dot(d, g) >= 0) {
      pairs.length = 0;
      d = g.map((v) => -v);
    }
    let t = iter === 0 && pairs.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g) || 1)) : 1;
    let accepted = false;
    for (let tries = 0; tries < 20 && !accepted; tries++, t /= 2) {
      const xn = x.map((v, i) => v + t * (d[i] as number));
      project(xn, opts.lower, opts.upper);
      const gn = new Float64Array(n);
      const fn = f(xn, gn);
      evaluations++;
      const s = xn.map((v, i) => v - (x[i] as number));
      if (Number.isFinite(fn) && fn <= fx + 1e-4 * dot(g, s)) {
        const y = gn.map((v, i) => v - (g[i] as number));
        const sy = dot(s, y);
        if (sy > 1e-12) pairs.push({ s, y, rho: 1 / sy });
        if (pairs.length > (opts.memory ?? 8)) pairs.shift();
        const improvement = fx - fn;
        x.set(xn);
        g.set(gn);
        fx = fn;
        accepted = true;
        if (improvement < 1e-9 * Math.max(1, Math.abs(fx))) return { x, value: fx, evaluations };
      }
    }
    if (!accepted) break;
  }
  return { x, value: fx, evaluations };
}
