/**
 * sobol: a scrambled Sobol sequence (random linear matrix scramble plus digital shift, both fixed by
 * the seed), continued from the history: a call starts at index = number of points in the history,
 * so successive batches continue one sequence instead of repeating it. Scrambling keeps the net
 * property, so the first 2^k points of each coordinate fall one per interval of width 2^-k.
 */
import { batchContext } from "./history.ts";
import { collectBatch, decodeUnit } from "./points.ts";
import { createRng } from "./rng.ts";
import { BITS, directionNumbers } from "./sobol-directions.ts";
import type { Method, SuggestInput, SuggestResult } from "./types.ts";

/** SobolSequence yields points of a scrambled Sobol sequence by index. */
export interface SobolSequence {
  /** point returns the index-th point (from 0), in [0, 1)^d. */
  point(index: number): number[];
}

function parity(x: number): number {
  let v = x ^ (x >>> 16);
  v ^= v >>> 8;
  v ^= v >>> 4;
  v ^= v >>> 2;
  v ^= v >>> 1;
  return v & 1;
}

/** scrambleDirections applies a random lower-triangular binary matrix (unit diagonal) to each direction number. */
function scrambleDirections(v: Uint32Array, rows: Uint32Array): Uint32Array {
  const out = new Uint32Array(v.length);
  v.forEach((vk, k) => {
    let result = 0;
    for (let i = 0; i < BITS; i++) {
      if (parity(vk & (rows[i] as number))) result |= 1 << (BITS - 1 - i);
    }
    out[k] = result >>> 0;
  });
  return out;
}

function randomRows(rng: ReturnType<typeof createRng>): Uint32Array {
  const rows = new Uint32Array(BITS);
  for (let i = 0; i < BITS; i++) {
    const own = BITS - 1 - i;
    const above = own === 31 ? 0 : (rng.uint32() >>> (own + 1)) << (own + 1);
    rows[i] = (above | (1 << own)) >>> 0;
  }
  return rows;
}

/** createSobol returns a d-dimensional Sobol sequence, scrambled from seed (scramble: false gives the plain sequence). */
export function createSobol(d: number, seed: number, scramble = true): SobolSequence {
  const rng = createRng("sobol-scramble", seed);
  const dirs: Uint32Array[] = [];
  const shifts: number[] = [];
  for (let j = 0; j < d; j++) {
    const v = directionNumbers(j);
    dirs.push(scramble ? scrambleDirections(v, randomRows(rng)) : v);
    shifts.push(scramble ? rng.uint32() : 0);
  }
  return {
    point(index: number): number[] {
      const gray = index ^ Math.floor(index / 2);
      return dirs.map((v, j) => {
        let x = shifts[j] as number;
        for (let k = 0, g = gray; g > 0; k++, g = Math.floor(g / 2)) if (g % 2 === 1) x ^= v[k] as number;
        return (x >>> 0) / 2 ** BITS;
      });
    },
  };
}

/** sobolMethod proposes the next points of a scrambled Sobol sequence, skipping any already in the history. */
export const sobolMethod: Method = {
  name: "sobol",
  suggest(input: SuggestInput): SuggestResult {
    const ctx = batchContext(input, "sobol");
    const h = input.history;
    let index = h.evaluated.length + h.pending.length + h.failed.length;
    const sequence = createSobol(input.space.dims.length, input.seed);
    return {
      points: collectBatch(ctx, () => decodeUnit(input.space, sequence.point(index++)), undefined, 200),
    };
  },
};
