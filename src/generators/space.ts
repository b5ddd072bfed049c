/**
 * Compiles a request's search space into the one form every method reads (SearchSpace), checks
 * points against it and canonicalises their values. Errors are values, never throws: each names the
 * parameter and says what to fix.
 */
import {
  compileCanonicalEntry,
  compileEntries,
  describe,
  describeDim,
  fail,
  isParamValue,
  isRecord,
  ok,
  type Result,
} from "./canonical.ts";
import { snapValue } from "./dims.ts";
import { translateOptSpace } from "./idds-space.ts";
import type { Params, SearchSpace } from "./types.ts";

export { describeDim, type Result } from "./canonical.ts";

/**
 * compileSearchSpace compiles spec.searchSpace (the canonical map) or, when it is empty or absent,
 * spec.optSpace in any form translateOptSpace understands.
 */
export function compileSearchSpace(searchSpace: unknown, optSpace?: unknown): Result<SearchSpace> {
  if (isRecord(searchSpace) && Object.keys(searchSpace).length > 0) return compileCanonical(searchSpace);
  if (searchSpace !== undefined && searchSpace !== null && !isRecord(searchSpace)) {
    return fail("searchSpace must be a map from parameter name to {type, low, high, log, step, choices}");
  }
  if (
    optSpace === undefined ||
    optSpace === null ||
    (isRecord(optSpace) && Object.keys(optSpace).length === 0)
  ) {
    return fail("no search space: set searchSpace (or optSpace in an iDDS form)");
  }
  return translateOptSpace(optSpace);
}

/** compileCanonical compiles a canonical space: {name: {type: float|int|categorical, low, high, log, step, choices}}. */
export function compileCanonical(entries: Record<string, unknown>): Result<SearchSpace> {
  return compileEntries(entries, compileCanonicalEntry);
}

/** checkPoint returns why point is not in space (naming the point and the parameter), or null when it is. */
export function checkPoint(space: SearchSpace, point: unknown): string | null {
  const result = canonicalisePoint(space, point);
  return result.ok ? null : `point ${describe(point, 200)}: ${result.error}`;
}

/**
 * canonicalisePoint returns point with every value canonicalised (ints integral, steps snapped,
 * categorical choices matched by value), or an error naming the first parameter that is missing,
 * unknown, of the wrong type or out of bounds.
 */
export function canonicalisePoint(space: SearchSpace, point: unknown): Result<Params> {
  if (!isRecord(point)) return fail(`a point must be an object of parameter values (got ${describe(point)})`);
  const out: Params = {};
  for (const dim of space.dims) {
    const where = `parameter ${JSON.stringify(dim.name)}`;
    const value = point[dim.name];
    if (value === undefined) return fail(`${where}: missing from the point`);
    const snapped = isParamValue(value) ? snapValue(dim, value) : undefined;
    if (snapped === undefined) return fail(`${where}: ${describe(value)} is not in ${describeDim(dim)}`);
    out[dim.name] = snapped;
  }
  for (const key of Object.keys(point)) {
    if (!space.dims.some((d) => d.name === key))
      return fail(`parameter ${JSON.stringify(key)}: not in the search space`);
  }
  return ok(out);
}
