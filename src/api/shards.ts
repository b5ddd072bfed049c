/**
 * The rule that places a request's points in its HyperParameterSets (shards): point id i lives in
 * the set `<request>-<k>` with k = ceil(i / pointsPerSet), which holds ids (k-1)·pointsPerSet+1 to
 * k·pointsPerSet. pointsPerSet is fixed per request (status.pointsPerSet), so a reporter finds the
 * set of an id from the request alone, without listing. docs/api.md states the same rule.
 */

import type { HPORequest, HyperParameterSet } from "./generated/types.ts";

/** MAX_POINTS_PER_SET is the most points one set holds (the CRD's maxItems and maxProperties). */
export const MAX_POINTS_PER_SET = 1000;

/** setIndexOf is the number k (from 1) of the set that holds point id. */
export function setIndexOf(id: number, pointsPerSet: number): number {
  return Math.ceil(id / pointsPerSet);
}

/** setNameOf is the name of the set that holds point id of request. */
export function setNameOf(request: string, id: number, pointsPerSet: number): string {
  return setName(request, setIndexOf(id, pointsPerSet));
}

/** setName is the name of the k-th set of request. */
export function setName(request: string, k: number): string {
  return `${request}-${k}`;
}

/** setRange is the ids the k-th set holds. */
export function setRange(k: number, pointsPerSet: number): { firstId: number; lastId: number } {
  return { firstId: (k - 1) * pointsPerSet + 1, lastId: k * pointsPerSet };
}

/** IdChunk is a run of consecutive ids that one set holds. */
export interface IdChunk {
  k: number;
  firstId: number;
  count: number;
}

/** chunksOf splits ids firstId..firstId+count-1 by the sets that hold them, in id order. */
export function chunksOf(firstId: number, count: number, pointsPerSet: number): IdChunk[] {
  const out: IdChunk[] = [];
  let id = firstId;
  const end = firstId + count;
  while (id < end) {
    const k = setIndexOf(id, pointsPerSet);
    const n = Math.min(end, setRange(k, pointsPerSet).lastId + 1) - id;
    out.push({ k, firstId: id, count: n });
    id += n;
  }
  return out;
}

/** belongsTo tells whether a set is one of a request's: it names it, is owned by it and is not being deleted. */
export function belongsTo(
  set: HyperParameterSet,
  request: { name?: string | undefined; uid?: string | undefined },
): boolean {
  return (
    set.spec?.request === request.name &&
    !set.metadata?.deletionTimestamp &&
    (set.metadata?.ownerReferences ?? []).some((o) => o.uid === request.uid)
  );
}

/** setsOfRequest keeps the sets that belong to req: they name it and are owned by it (not being deleted). */
export function setsOfRequest(sets: readonly HyperParameterSet[], req: HPORequest): HyperParameterSet[] {
  const who = { name: req.metadata?.name, uid: req.metadata?.uid };
  return sets.filter((s) => belongsTo(s, who));
}
