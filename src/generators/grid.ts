/**
 * grid: every point of a discretised space, each once, in a deterministic order, resumable from
 * the history (a call walks the order from the start and skips points already seen), returning []
 * when the grid is exhausted.
 *
 * Discretisation: a categorical takes every choice; a dimension with a step takes every value of
 * its step grid; a float without step takes `gridPoints` (option, default 10) evenly spaced values
 * with both bounds included (log-spaced when log is set); an int without step takes every integer
 * when there are at most `gridPoints` of them, otherwise `gridPoints` evenly (or log-) spaced ones.
 *
 * Order: `order: "shuffled"` (the default) visits the grid in a pseudo-random order fixed by the
 * seed, so a request capped below the grid's size still covers the whole box; `order:
 * "lexicographic"` varies the last parameter (by name) fastest.
 */
import { levelCount, levelValue } from "./dims.ts";
import { batchContext } from "./history.ts";
import { pointAt } from "./points.ts";
import { hashSeed } from "./rng.ts";
import type { Dim, Method, ParamValue, SearchSpace, SuggestInput, SuggestResult } from "./types.ts";

/** gridAxes returns the values the grid takes on each dimension of space. */
export function gridAxes(space: SearchSpace, gridPoints: number): ParamValue[][] {
  return space.dims.map((dim) => axis(dim, Math.max(1, Math.floor(gridPoints))));
}

function axis(dim: Dim, g: number): ParamValue[] {
  if (dim.kind === "categorical") return [...dim.choices];
  const levels = levelCount(dim);
  if (dim.step !== undefined || levels <= g)
    return Array.from({ length: levels }, (_, i) => levelValue(dim, i));
  if (g === 1) return [dim.kind === "int" ? Math.round((dim.low + dim.high) / 2) : (dim.low + dim.high) / 2];
  const values: number[] = [];
  for (let i = 0; i < g; i++) {
    const t = i / (g - 1);
    const v = dim.log ? dim.low * (dim.high / dim.low) ** t : dim.low + t * (dim.high - dim.low);
    const snapped = i === g - 1 ? dim.high : dim.kind === "int" ? Math.round(v) : v;
    if (values[values.length - 1] !== snapped) values.push(snapped);
  }
  return values;
}

/** Permutation is a bijection of [0, size). */
export interface Permutation {
  size: number;
  at(rank: number): number;
}

/** shuffledOrder returns a seeded pseudo-random permutation of [0, size) (a 4-round Feistel network with cycle walking). */
export function shuffledOrder(size: number, seed: number): Permutation {
  let half = 1;
  while (2 ** (2 * half) < size) half++;
  const base = 2 ** half;
  const keys = [0, 1, 2, 3].map((r) => hashSeed("grid-order", seed, r));
  const round = (x: number): number => {
    let left = Math.floor(x / base);
    let right = x % base;
    for (const key of keys) {
      const f = (Math.imul(right ^ key, 0x9e3779b1) ^ (Math.imul(right, 0x85ebca6b) >>> 13)) >>> 0;
      [left, right] = [right, (left + f) % base];
    }
    return left * base + right;
  };
  return {
    size,
    at(rank: number): number {
      let x = round(rank);
      while (x >= size) x = round(x);
      return x;
    },
  };
}

/** gridMethod proposes the next unseen points of the grid, in order; [] once every grid point is in the history. */
export const gridMethod: Method = {
  name: "grid",
  suggest(input: SuggestInput): SuggestResult {
    const ctx = batchContext(input, "grid");
    const options = input.options ?? {};
    const gridPoints = typeof options.gridPoints === "number" ? options.gridPoints : 10;
    const axes = gridAxes(input.space, gridPoints);
    const size = Math.min(
      2 ** 52,
      axes.reduce((n, a) => n * a.length, 1),
    );
    const order =
      options.order === "lexicographic" ? { size, at: (r: number) => r } : shuffledOrder(size, input.seed);
    const points = [];
    for (let rank = 0; rank < size && points.length < ctx.count; rank++) {
      const p = pointAt(input.space, axes, order.at(rank));
      if (ctx.seen.add(p)) points.push(p);
    }
    return { points };
  },
};
