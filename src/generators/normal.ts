/**
 * The standard normal distribution, accurate into the far tails: erfc and the scaled erfcx (a
 * positive series below 2, a continued fraction above), the CDF, the log of a probability mass
 * between two points, and log h(z) = log(phi(z) + z Phi(z)), the heart of log expected improvement.
 */

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** erfSeries returns erf(x) for 0 <= x < 2 from the all-positive series e^{-x^2} sum 2^n x^{2n+1} / (2n+1)!!. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return ((2 / SQRT_PI) * Math.exp(-x2) * sum) as number;
}

/** erfcxFraction returns erfcx(x) = e^{x^2} erfc(x) for x >= 2 from its continued fraction (modified Lentz). */
function erfcxFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / (f * SQRT_PI);
}

/** erfc returns the complementary error function with full relative accuracy for large x. */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  if (x > 27) return 0;
  return Math.exp(-x * x) * erfcxFraction(x);
}

/** erfcx returns the scaled complementary error function e^{x^2} erfc(x), for x >= 0. */
export function erfcx(x: number): number {
  if (x < 2) return Math.exp(x * x) * (1 - erfSeries(x));
  return erfcxFraction(x);
}

/** normCdf returns Phi(z), the standard normal CDF. */
export function normCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** normLogPdf returns log phi(z). */
export function normLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/**
 * logNormMass returns log(Phi(b) - Phi(a)) for a <= b. A mass in one tail is computed from erfcx,
 * log mass = -a^2/2 + log((erfcx(a/sqrt2) - e^{(a^2-b^2)/2} erfcx(b/sqrt2)) / 2) for 0 <= a <= b
 * (and its mirror image), so it keeps its relative accuracy however far out it lies.
 */
export function logNormMass(a: number, b: number): number {
  if (a < 0 && b > 0) return Math.log(1 - 0.5 * (erfc(-a / SQRT2) + erfc(b / SQRT2)));
  const lo = a >= 0 ? a : -b;
  const hi = a >= 0 ? b : -a;
  const far = hi === Number.POSITIVE_INFINITY ? 0 : Math.exp((lo * lo - hi * hi) / 2) * erfcx(hi / SQRT2);
  return (-lo * lo) / 2 + Math.log(0.5 * (erfcx(lo / SQRT2) - far));
}

/**
 * logH returns log(phi(z) + z Phi(z)), so that log EI = log sigma + logH((best - mu) / sigma). It is
 * accurate for every z: directly above -1, through erfcx below, and by its asymptotic series
 * beyond |z| = 1000 where even erfcx would lose the difference.
 */
export function logH(z: number): number {
  if (z > -1) return Math.log(Math.exp(normLogPdf(z)) + z * normCdf(z));
  if (z > -1000) {
    const w = -z * Math.sqrt(Math.PI / 2) * erfcx(-z / SQRT2);
    return normLogPdf(z) + Math.log1p(-w);
  }
  const z2 = z * z;
  return normLogPdf(z) - Math.log(z2) + Math.log1p(-3 / z2 + 15 / (z2 * z2));
}
