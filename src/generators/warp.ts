/**
 * Output warping for the GP: losses are scaled robustly (median, interquartile range), passed through the Yeo-Johnson power
 * transform with the exponent that maximises its Gaussian likelihood (a grid over [-2, 2]), and
 * standardised again. Heavy-tailed losses (a valley with walls 10^5 high) then no longer force the
 * GP to model the walls at the expense of the valley; losses that are already well spread get an
 * exponent near 1, which changes little. The transform is monotone, so the best point stays the best.
 */

function yeoJohnson(y: number, lambda: number): number {
  if (y >= 0) return Math.abs(lambda) < 1e-9 ? Math.log1p(y) : ((y + 1) ** lambda - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-9 ? -Math.log1p(-y) : -((1 - y) ** (2 - lambda) - 1) / (2 - lambda);
}

function standardise(values: number[]): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/** logLikelihood returns the profile log-likelihood of exponent lambda for standardised values z. */
function logLikelihood(z: number[], lambda: number): number {
  const t = z.map((v) => yeoJohnson(v, lambda));
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  const variance = t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length;
  if (!(variance > 0)) return Number.NEGATIVE_INFINITY;
  const jacobian = z.reduce((s, v) => s + Math.sign(v) * Math.log1p(Math.abs(v)), 0);
  return -0.5 * t.length * Math.log(variance) + (lambda - 1) * jacobian;
}

/**
 * robustScale centres values on their median and divides by their interquartile range (or, when
 * that is zero, the standard deviation), so a few huge losses do not squeeze the bulk towards zero
 * before the transform.
 */
function robustScale(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    return (
      (sorted[lo] as number) + ((sorted[Math.ceil(pos)] as number) - (sorted[lo] as number)) * (pos - lo)
    );
  };
  const iqr = at(0.75) - at(0.25);
  if (!(iqr > 0)) return standardise(values);
  const median = at(0.5);
  return values.map((v) => (v - median) / (iqr / 1.349));
}

/** warpLosses returns the losses warped and standardised (all equal losses give zeros). */
export function warpLosses(losses: number[]): number[] {
  const z = robustScale(losses);
  if (z.every((v) => v === 0)) return z;
  let best = 1;
  let bestLl = logLikelihood(z, 1);
  for (let lambda = -2; lambda <= 2.0001; lambda += 0.1) {
    const ll = logLikelihood(z, lambda);
    if (ll > bestLl) {
      best = lambda;
      bestLl = ll;
    }
  }
  return standardise(z.map((v) => yeoJohnson(v, best)));
}
