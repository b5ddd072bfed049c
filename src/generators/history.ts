/**
 * A call's history in the form the methods read: observations encoded in the unit cube with losses
 * to minimise (negated for maximize), pending points, and the set of every point already seen.
 */
import {
  type BatchContext,
  createPointSet,
  encodeUnit,
  historyPoints,
  methodRng,
  pointSetOf,
} from "./points.ts";
import type { Params, SuggestInput } from "./types.ts";

/** EncodedObservation is an evaluated point with its unit coordinates and its loss to minimise. */
export interface EncodedObservation {
  params: Params;
  unit: number[];
  loss: number;
}

/** EncodedPoint is a point with its unit coordinates. */
export interface EncodedPoint {
  params: Params;
  unit: number[];
}

/** Prepared is a history ready for modelling. */
export interface Prepared {
  /** observations are the evaluated points that fit the space and have a finite loss, in history order. */
  observations: EncodedObservation[];
  /** pending are the pending points that fit the space. */
  pending: EncodedPoint[];
}

/**
 * prepareHistory encodes input's history. Points that do not fit the space (a missing parameter,
 * a value out of bounds) and losses that are not finite numbers are left out of the model; they
 * still count as seen.
 */
export function prepareHistory(input: SuggestInput): Prepared {
  const sign = input.direction === "maximize" ? -1 : 1;
  const observations: EncodedObservation[] = [];
  for (const o of input.history.evaluated) {
    const unit = encodeUnit(input.space, o.params);
    if (unit && typeof o.loss === "number" && Number.isFinite(o.loss)) {
      observations.push({ params: o.params, unit, loss: sign * o.loss });
    }
  }
  const pending: EncodedPoint[] = [];
  for (const params of input.history.pending) {
    const unit = encodeUnit(input.space, params);
    if (unit) pending.push({ params, unit });
  }
  return { observations, pending };
}

/** batchContext returns the context collectBatch needs: the space, every seen point and the call's generator. */
export function batchContext(input: SuggestInput, method: string): BatchContext {
  return {
    space: input.space,
    // A method worker that keeps the request's history passes the keys it holds (seenKeys).
    seen: input.seenKeys
      ? pointSetOf(input.space, input.seenKeys)
      : createPointSet(input.space, historyPoints(input.history)),
    rng: methodRng(input, method),
    count: Math.max(0, Math.floor(input.count)),
  };
}
