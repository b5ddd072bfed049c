/**
 * Sobol direction numbers, computed rather than tabulated: dimension 1 is the van der Corput
 * sequence; dimension j > 1 uses the (j-1)-th primitive polynomial over GF(2) in order of degree
 * (found by testing that x has order 2^s - 1 modulo the polynomial) and odd initial numbers
 * m_k < 2^k drawn from a fixed-seed generator, extended by the Bratley-Fox recurrence. Any such
 * choice gives a valid (t, s)-sequence (every one-dimensional projection is a (0, 1)-sequence,
 * which is the balance property at powers of two); tabulated sets such as Joe and Kuo's only
 * improve two-dimensional projections, which matters little once the points are scrambled.
 */
import { createRng } from "./rng.ts";

/** BITS is the number of binary digits of each coordinate. */
export const BITS = 32;

const polynomials: number[] = [];
let nextCandidate = { degree: 1, middle: 0 };

function mulMod(a: number, b: number, poly: number, degree: number): number {
  let result = 0;
  let x = a;
  let y = b;
  while (y > 0) {
    if (y & 1) result ^= x;
    y >>>= 1;
    x <<= 1;
    if (x & (1 << degree)) x ^= poly;
  }
  return result;
}

function powMod(exponent: number, poly: number, degree: number): number {
  let result = 1;
  let base = degree === 1 ? 1 : 2; // x mod (x + 1) is 1
  let e = exponent;
  while (e > 0) {
    if (e % 2 === 1) result = mulMod(result, base, poly, degree);
    base = mulMod(base, base, poly, degree);
    e = Math.floor(e / 2);
  }
  return result;
}

function primeFactors(n: number): number[] {
  const factors: number[] = [];
  let rest = n;
  for (let p = 2; p * p <= rest; p++) {
    if (rest % p === 0) factors.push(p);
    while (rest % p === 0) rest /= p;
  }
  if (rest > 1) factors.push(rest);
  return factors;
}

/** isPrimitive reports whether poly (bit i = coefficient of x^i) of the given degree is primitive over GF(2). */
export function isPrimitive(poly: number, degree: number): boolean {
  if ((poly & 1) === 0) return false;
  const order = 2 ** degree - 1;
  if (powMod(order, poly, degree) !== 1) return false;
  return primeFactors(order).every((q) => powMod(order / q, poly, degree) !== 1);
}

/** primitivePolynomial returns the i-th (from 0) primitive polynomial over GF(2), ordered by degree then value. */
export function primitivePolynomial(i: number): { poly: number; degree: number } {
  while (polynomials.length <= i) {
    const { degree, middle } = nextCandidate;
    const poly = (1 << degree) | (middle << 1) | 1;
    if (degree === 1 ? middle === 0 : isPrimitive(poly, degree)) polynomials.push(poly);
    nextCandidate =
      middle + 1 < 2 ** (degree - 1) ? { degree, middle: middle + 1 } : { degree: degree + 1, middle: 0 };
  }
  const poly = polynomials[i] as number;
  return { poly, degree: 31 - Math.clz32(poly) };
}

const cache: Uint32Array[] = [];

/** directionNumbers returns dimension j's (from 0) direction numbers v_1..v_BITS as 32-bit integers (v_k = m_k << (32 - k)). */
export function directionNumbers(j: number): Uint32Array {
  const cached = cache[j];
  if (cached) return cached;
  const m = new Array<number>(BITS + 1).fill(1);
  if (j > 0) {
    const { poly, degree } = primitivePolynomial(j - 1);
    const rng = createRng("sobol-initial-numbers", j);
    for (let k = 2; k <= degree; k++) m[k] = 2 * rng.int(2 ** (k - 1)) + 1;
    for (let k = degree + 1; k <= BITS; k++) {
      let value = (m[k - degree] as number) ^ ((m[k - degree] as number) << degree);
      for (let i = 1; i < degree; i++) {
        if ((poly >>> (degree - i)) & 1) value ^= (m[k - i] as number) << i;
      }
      m[k] = value >>> 0;
    }
  }
  const v = new Uint32Array(BITS);
  for (let k = 1; k <= BITS; k++) v[k - 1] = ((m[k] as number) << (BITS - k)) >>> 0;
  cache[j] = v;
  return v;
}
