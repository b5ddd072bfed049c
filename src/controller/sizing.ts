/**
 * How big a request's HyperParameterSets may grow: the most bytes one point can take in a set
 * (its params in status.points, plus its outcome in spec.losses or spec.failed), and from that how
 * many points a set holds so that no set passes the operator's size budget. Pure.
 */
import type { Dim, SearchSpace } from "../generators/types.ts";

/** MAX_OBJECT_BYTES is the largest object the operator writes (the API server allows ~1.5 MiB). */
export const MAX_OBJECT_BYTES = 512 * 1024;
/** MAX_REASON_CHARS is spec.failed's maxLength in the CRD. */
export const MAX_REASON_CHARS = 128;
/** SET_OVERHEAD_BYTES is room for a set's metadata, managedFields and the JSON around its points. */
export const SET_OVERHEAD_BYTES = 2 * 1024;
/** NUMBER_BYTES is the longest JSON number a float can print as, such as -1.2345678901234567e-308. */
const NUMBER_BYTES = 24;
/** POINT_OVERHEAD_BYTES: {"id":"123456789","generation":1000000,"params":{}}, */
const POINT_OVERHEAD_BYTES = 56;
/** LOSS_BYTES: "123456789":<number>, in spec.losses. */
const LOSS_BYTES = 13 + NUMBER_BYTES;
/** FAILURE_BYTES: "123456789":"<reason>", in spec.failed (UTF-8, up to 4 bytes a character). */
const FAILURE_BYTES = 15 + 4 * MAX_REASON_CHARS;

function valueBytes(dim: Dim): number {
  if (dim.kind === "float") return NUMBER_BYTES;
  if (dim.kind === "int")
    return Math.max(String(Math.trunc(dim.low)).length, String(Math.trunc(dim.high)).length);
  let most = 0;
  for (const c of dim.choices) most = Math.max(most, Buffer.byteLength(JSON.stringify(c)));
  return most;
}

/** paramsBytesOf is the most bytes one point's params of space take, names included. */
export function paramsBytesOf(space: SearchSpace): number {
  let bytes = 0;
  for (const d of space.dims) bytes += Buffer.byteLength(JSON.stringify(d.name)) + 2 + valueBytes(d);
  return bytes;
}

/** paramsBytes is the JSON size of one point's params as stored (for generators without a space). */
export function paramsBytes(params: unknown): number {
  return Buffer.byteLength(JSON.stringify(params));
}

/**
 * pointsPerSet is how many points each set of a request holds, given the most bytes one point's
 * params take: as many as fit in setBytes (the operator's target, which keeps each report cheap:
 * the API server's cost of a write grows with the object) with a loss each, and never more than fit
 * in MAX_OBJECT_BYTES with the longest failure reason each, between 1 and maxPerSet. Returns 0 when
 * not even one point fits: the spec is then refused.
 */
export function pointsPerSet(params: number, setBytes: number, maxPerSet: number): number {
  const hard = Math.floor(
    (MAX_OBJECT_BYTES - SET_OVERHEAD_BYTES) / (POINT_OVERHEAD_BYTES + params + FAILURE_BYTES),
  );
  if (hard < 1) return 0;
  const target = Math.floor((setBytes - SET_OVERHEAD_BYTES) / (POINT_OVERHEAD_BYTES + params + LOSS_BYTES));
  return Math.max(1, Math.min(maxPerSet, hard, target));
}

/** maxParamsBytes is the most bytes one point's params may take (larger ones are refused). */
export function maxParamsBytes(): number {
  return MAX_OBJECT_BYTES - SET_OVERHEAD_BYTES - POINT_OVERHEAD_BYTES - FAILURE_BYTES;
}
