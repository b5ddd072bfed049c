/**
 * Points as every method handles them: identity (two points are the same when their canonical
 * values are equal), the set of points a request has already seen, unit-cube encoding, random
 * draws, and the loop that turns a method's proposals into a batch without repeats.
 */
import { fromUnit, levelCount, levelValue, snapValue, toUnit } from "./dims.ts";
import { createRng, type Rng } from "./rng.ts";
import type { History, Params, ParamValue, SearchSpace, SuggestInput } from "./types.ts";

/** pointKey returns a string equal for two points exactly when they are the same point of space. */
export function pointKey(space: SearchSpace, params: Params): string {
  const values: unknown[] = [];
  for (const dim of space.dims) {
    const raw = params[dim.name];
    values.push(raw === undefined ? null : (snapValue(dim, raw) ?? raw));
  }
  return JSON.stringify(values);
}

/** PointSet is a set of points of one space, compared by canonical value. */
export interface PointSet {
  has(params: Params): boolean;
  /** add adds params and reports whether it was new. */
  add(params: Params): boolean;
  readonly size: number;
}

/** createPointSet returns a PointSet holding the given points. */
export function createPointSet(space: SearchSpace, points: Iterable<Params> = []): PointSet {
  const keys = new Set<string>();
  for (const p of points) keys.add(pointKey(space, p));
  return pointSetOf(space, keys);
}

/** pointSetOf returns a PointSet over keys (pointKey of each point), which it takes over. */
export function pointSetOf(space: SearchSpace, keys: Set<string>): PointSet {
  return {
    has: (params) => keys.has(pointKey(space, params)),
    add: (params) => {
      const key = pointKey(space, params);
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    },
    get size() {
      return keys.size;
    },
  };
}

/** historyPoints lists every point of a history: evaluated, pending and failed. */
export function historyPoints(history: History): Params[] {
  return [...history.evaluated.map((o) => o.params), ...history.pending, ...history.failed];
}

/** methodRng returns the generator a method uses for one call: fixed by the seed, the method and the history's size. */
export function methodRng(input: SuggestInput, method: string): Rng {
  const h = input.history;
  return createRng(method, input.seed, h.evaluated.length, h.pending.length, h.failed.length);
}

/** encodeUnit maps a point to its unit-cube coordinates, or undefined when a value does not belong to the space. */
export function encodeUnit(space: SearchSpace, params: Params): number[] | undefined {
  const u: number[] = [];
  for (const dim of space.dims) {
    const value = params[dim.name];
    const x = value === undefined ? Number.NaN : toUnit(dim, value);
    if (!Number.isFinite(x)) return undefined;
    u.push(x);
  }
  return u;
}

/** decodeUnit maps unit-cube coordinates to a point (values snapped onto each dimension). */
export function decodeUnit(space: SearchSpace, u: ArrayLike<number>): Params {
  const params: Params = {};
  space.dims.forEach((dim, i) => {
    params[dim.name] = fromUnit(dim, u[i] ?? 0.5);
  });
  return params;
}

/** randomUnit draws a uniform point of the unit cube. */
export function randomUnit(d: number, rng: Rng): number[] {
  return Array.from({ length: d }, () => rng.next());
}

/** spaceSize returns how many distinct points space has (Infinity when any float is continuous). */
export function spaceSize(space: SearchSpace): number {
  return space.dims.reduce((n, dim) => n * levelCount(dim), 1);
}

/** axisValues lists every value of a discrete dimension, in order. */
export function axisValues(space: SearchSpace): ParamValue[][] {
  return space.dims.map((dim) => Array.from({ length: levelCount(dim) }, (_, i) => levelValue(dim, i)));
}

/** pointAt returns the index-th point of the product of axes (the last axis varies fastest). */
export function pointAt(space: SearchSpace, axes: ParamValue[][], index: number): Params {
  const params: Params = {};
  let rest = index;
  for (let i = axes.length - 1; i >= 0; i--) {
    const axis = axes[i] as ParamValue[];
    params[(space.dims[i] as { name: string }).name] = axis[rest % axis.length] as ParamValue;
    rest = Math.floor(rest / axis.length);
  }
  return params;
}

const enumerateLimit = 200_000;

/** randomUnseen returns a uniformly drawn point not in seen, or undefined when the space is exhausted. */
export function randomUnseen(space: SearchSpace, seen: PointSet, rng: Rng): Params | undefined {
  const size = spaceSize(space);
  const tries = Number.isFinite(size)
    ? Math.min(64, Math.ceil((4 * size) / Math.max(1, size - seen.size)))
    : 64;
  for (let i = 0; i < tries; i++) {
    const p = decodeUnit(space, randomUnit(space.dims.length, rng));
    if (!seen.has(p)) return p;
  }
  if (!Number.isFinite(size) || size > enumerateLimit) return undefined;
  const axes = axisValues(space);
  const free: number[] = [];
  for (let i = 0; i < size; i++) if (!seen.has(pointAt(space, axes, i))) free.push(i);
  return free.length === 0 ? undefined : pointAt(space, axes, free[rng.int(free.length)] as number);
}

/** BatchContext is what collectBatch needs to know about a call. */
export interface BatchContext {
  space: SearchSpace;
  seen: PointSet;
  rng: Rng;
  count: number;
}

/**
 * collectBatch asks propose for points until count new ones are found (each added to seen and
 * passed to accepted), retrying a duplicate up to maxTries times before drawing a random unseen
 * point instead. It returns fewer points only when propose returns undefined (the method is
 * exhausted) or the space has no unseen point left.
 */
export function collectBatch(
  ctx: BatchContext,
  propose: (attempt: number) => Params | undefined,
  accepted: (params: Params) => void = () => {},
  maxTries = 25,
): Params[] {
  const out: Params[] = [];
  while (out.length < ctx.count) {
    let chosen: Params | undefined;
    for (let attempt = 0; attempt < maxTries && chosen === undefined; attempt++) {
      const p = propose(attempt);
      if (p === undefined) return out;
      if (ctx.seen.add(p)) chosen = p;
    }
    if (chosen === undefined) {
      chosen = randomUnseen(ctx.space, ctx.seen, ctx.rng);
      if (chosen === undefined) return out;
      ctx.seen.add(chosen);
    }
    out.push(chosen);
    accepted(chosen);
  }
  return out;
}
