/**
 * The dashboard's numbers, pure and shared by its charts: best loss so far, the downsampling that
 * keeps 100,000 points fast on a canvas, the sample of lines for parallel coordinates, parameter
 * importance, and axis ticks. docs/dashboard.md documents each method.
 */

/** Direction of the objective. */
export type Direction = "minimize" | "maximize";

/** better tells whether loss a beats loss b. */
export function better(a: number, b: number, direction: Direction): boolean {
  return direction === "minimize" ? a < b : a > b;
}

/** Column is a column of numbers in point order; NaN means "none" (no loss, no value). */
export type Column = ArrayLike<number>;

/** bestSoFar is, after each of the first n points (in id order), the best loss among it and the points before (NaN before the first loss). */
export function bestSoFar(loss: Column, direction: Direction, n = loss.length): Float64Array {
  const out = new Float64Array(n);
  let best = Number.NaN;
  for (let i = 0; i < n; i++) {
    const l = loss[i] as number;
    if (!Number.isNaN(l) && (Number.isNaN(best) || better(l, best, direction))) best = l;
    out[i] = best;
  }
  return out;
}

/** stepChanges keeps the indices where a best-so-far curve changes (and the last one): an exact, short polyline. */
export function stepChanges(best: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < best.length; i++) {
    const v = best[i] as number;
    if (Number.isNaN(v)) continue;
    if (out.length === 0 || best[out[out.length - 1] as number] !== v) out.push(i);
  }
  if (best.length > 0 && out.at(-1) !== best.length - 1 && !Number.isNaN(best[best.length - 1] as number))
    out.push(best.length - 1);
  return out;
}

/**
 * gridDecimate chooses which points of a scatter plot to draw: the points are taken in order, and
 * one is kept only when no kept point already covers its cell (cell × cell pixels). What is drawn
 * looks the same as drawing all at that resolution; the work is bounded by the canvas size, not the
 * number of points. px and py map a point index to pixels (NaN: not drawn). Later points win when
 * lastWins (they are drawn on top anyway).
 */
export function gridDecimate(
  n: number,
  px: (i: number) => number,
  py: (i: number) => number,
  width: number,
  height: number,
  cell = 2,
  lastWins = true,
): number[] {
  const cols = Math.max(1, Math.ceil(width / cell));
  const rows = Math.max(1, Math.ceil(height / cell));
  const taken = new Uint8Array(cols * rows);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = lastWins ? n - 1 - k : k;
    const x = px(i);
    const y = py(i);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const c = Math.min(cols - 1, Math.max(0, Math.floor(x / cell)));
    const r = Math.min(rows - 1, Math.max(0, Math.floor(y / cell)));
    const at = r * cols + c;
    if (taken[at]) continue;
    taken[at] = 1;
    out.push(i);
  }
  return lastWins ? out.reverse() : out;
}

/**
 * lineSample chooses the lines of a parallel-coordinates plot: every point with a loss when there
 * are at most max of them; else the best quarter of max by loss, and an evenly spaced sample of the
 * rest by loss rank (so every part of the loss range stays represented). Returned worst first, so
 * the best lines are drawn on top.
 */
export function lineSample(loss: Column, direction: Direction, max = 4000, n = loss.length): number[] {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(loss[i] as number)) idx.push(i);
  const sign = direction === "minimize" ? 1 : -1;
  idx.sort((a, b) => sign * ((loss[a] as number) - (loss[b] as number)));
  if (idx.length > max) {
    const top = Math.floor(max / 4);
    const rest = idx.length - top;
    const keep = max - top;
    const picked = idx.slice(0, top);
    for (let k = 0; k < keep; k++) picked.push(idx[top + Math.floor((k * rest) / keep)] as number);
    return picked.reverse();
  }
  return idx.reverse();
}

/** ranks are the ranks (0..n-1, ties averaged) of xs. */
export function ranks(xs: Column): Float64Array {
  const order = Array.from({ length: xs.length }, (_, i) => i).sort(
    (a, b) => (xs[a] as number) - (xs[b] as number),
  );
  const out = new Float64Array(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1] as number] === xs[order[i] as number]) j++;
    for (let k = i; k <= j; k++) out[order[k] as number] = (i + j) / 2;
    i = j + 1;
  }
  return out;
}

/**
 * importance estimates how much of the loss's variation each parameter explains on its own: the
 * evaluated points are split into up to `bins` equal-count bins of the parameter (one bin per
 * value of a categorical one), and the between-bin variance of the loss ranks is compared with
 * their total variance. It is epsilon-squared, the correlation ratio η² corrected for the number
 * of bins (so noise scores about 0): the first-order (main-effect) variance share that fANOVA
 * estimates with a random forest, here estimated by binning. cols[j][i] is parameter j of point i
 * (a category's index when categorical[j]); points without a loss (NaN) are left out, and so are a
 * parameter's points without a value. Scores are in [0, 1].
 */
export function importance(
  cols: readonly Column[],
  categorical: readonly boolean[],
  loss: Column,
  bins = 10,
): number[] {
  const evaluated: number[] = [];
  for (let i = 0; i < loss.length; i++) if (!Number.isNaN(loss[i] as number)) evaluated.push(i);
  let allRanks: Float64Array | undefined; // the loss ranks of every evaluated point, shared
  return cols.map((col, j) => {
    const rows = evaluated.filter((i) => !Number.isNaN(col[i] as number));
    const n = rows.length;
    if (n < 3) return 0;
    const full = n === evaluated.length;
    if (full) allRanks ??= ranks(rows.map((i) => loss[i] as number));
    const r = full ? (allRanks as Float64Array) : ranks(rows.map((i) => loss[i] as number));
    const mean = (n - 1) / 2;
    let sst = 0;
    for (const v of r) sst += (v - mean) ** 2;
    if (sst === 0) return 0;
    const group = binsOf(
      rows.map((i) => col[i] as number),
      Math.max(2, Math.min(bins, Math.floor(n / 2))),
      categorical[j] === true,
    );
    const sums = new Map<number, { s: number; c: number }>();
    group.forEach((g, k) => {
      const e = sums.get(g) ?? { s: 0, c: 0 };
      e.s += r[k] as number;
      e.c++;
      sums.set(g, e);
    });
    const b = sums.size;
    if (b < 2) return 0;
    let ssb = 0;
    for (const { s, c } of sums.values()) ssb += c * (s / c - mean) ** 2;
    const msw = (sst - ssb) / Math.max(1, n - b);
    return Math.max(0, Math.min(1, (ssb - (b - 1) * msw) / (sst + msw)));
  });
}

/** binsOf assigns each value a bin: equal-count bins of numbers, or the value itself when categorical. */
export function binsOf(values: Column, bins: number, categorical = false): number[] {
  if (categorical) return Array.from(values);
  const r = ranks(values);
  const distinct = new Set(Array.from(values)).size;
  const b = Math.min(bins, distinct);
  return Array.from(r, (rank) => Math.min(b - 1, Math.floor((rank * b) / values.length)));
}

/** niceTicks are about count round values that cover [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** logTicks are the powers of ten in [min, max] (min > 0), or niceTicks when there are fewer than two. */
export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(min)); e <= Math.floor(Math.log10(max)); e++) out.push(10 ** e);
  return out.length >= 2 ? out : niceTicks(min, max);
}

/** extent is [min, max] of the finite numbers of xs ([NaN, NaN] when there are none). */
export function extent(xs: Column): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    if (!(x > Number.NEGATIVE_INFINITY && x < Number.POSITIVE_INFINITY)) continue; // NaN, ±Infinity
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return lo <= hi ? [lo, hi] : [Number.NaN, Number.NaN];
}

/** formatNumber shows a number in at most about 5 significant digits. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(5)));
}
