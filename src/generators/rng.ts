/**
 * A small seeded pseudo-random generator (sfc32, seeded through splitmix32) so that every method is
 * reproducible across machines and Node versions without a dependency.
 */

/** Rng is a seeded source of random numbers. */
export interface Rng {
  /** next returns a uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** uint32 returns a uniform 32-bit unsigned integer. */
  uint32(): number;
  /** int returns a uniform integer in [0, n). */
  int(n: number): number;
  /** normal returns a standard normal deviate. */
  normal(): number;
}

/** hashSeed mixes any number of integers and strings into one 32-bit seed (FNV-1a over their text, then splitmix32). */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = `${typeof part}:${part};`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return splitmix32(h >>> 0)[0];
}

function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [(z ^ (z >>> 16)) >>> 0, next];
}

/** createRng returns a generator seeded from the given parts (see hashSeed); equal parts give equal streams. */
export function createRng(...parts: Array<number | string>): Rng {
  let s = hashSeed(...parts);
  const words: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [value, next] = splitmix32(s);
    words.push(value);
    s = next;
  }
  let [a, b, c, d] = words as [number, number, number, number];
  let spare: number | undefined;
  const uint32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) uint32();
  const next = (): number => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / 9007199254740992;
  return {
    next,
    uint32,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      let u = 0;
      let v = 0;
      let r = 0;
      do {
        u = 2 * next() - 1;
        v = 2 * next() - 1;
        r = u * u + v * v;
      } while (r >= 1 || r === 0);
      const f = Math.sqrt((-2 * Math.log(r)) / r);
      spare = v * f;
      return u * f;
    },
  };
}
