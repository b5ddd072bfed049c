/**
 * Points as people and programs see them: a HyperParameterSet stores each point's id, params and
 * generation (status.points) and the outcomes reporters wrote (spec.losses, spec.failed); a point's
 * state and loss are derived from those, never stored twice. An initial point given with a loss in
 * the request's spec.initialPoints is evaluated with that loss. Pure; shared by the operator, the
 * client and the announcer.
 */
import type { HPORequest, HPORequestSpecInitialPointsItem, HyperParameterSet } from "./generated/types.ts";

/** PointState is a point's state, derived from the reports. */
export type PointState = "New" | "Evaluated" | "Failed";

/** Point is one point of a request with its state, and the name of the set that holds it. */
export interface Point {
  id: string;
  params: Record<string, unknown>;
  /** The generation that produced the point; 0 for initial points. */
  generation: number;
  state: PointState;
  loss?: number;
  reason?: string;
  /** The HyperParameterSet that holds the point: its loss is reported there. */
  set: string;
}

type Initial = readonly HPORequestSpecInitialPointsItem[] | undefined;

const memo = new WeakMap<HyperParameterSet, { initial: Initial; points: Point[] }>();

/**
 * pointsOfSet returns the points of one set in id order, with their states. The result is cached
 * per set object (the informer replaces an object when it changes), so callers must not mutate it.
 */
export function pointsOfSet(set: HyperParameterSet, initial?: Initial): readonly Point[] {
  const hit = memo.get(set);
  if (hit && hit.initial === initial) return hit.points;
  const name = set.metadata?.name ?? "";
  const losses = set.spec?.losses ?? {};
  const failed = set.spec?.failed ?? {};
  const points: Point[] = [];
  for (const p of set.status?.points ?? []) {
    const generation = p.generation ?? 0;
    const given = generation === 0 ? initial?.[Number(p.id) - 1]?.loss : undefined;
    const loss = given ?? losses[p.id];
    const point: Point = { id: p.id, params: p.params, generation, state: "New", set: name };
    if (loss !== undefined) Object.assign(point, { state: "Evaluated", loss });
    else if (failed[p.id] !== undefined) Object.assign(point, { state: "Failed", reason: failed[p.id] });
    points.push(point);
  }
  memo.set(set, { initial, points });
  return points;
}

const initials = new Map<string, Initial>();

/**
 * initialOf is the request's spec.initialPoints as one array for every copy of the request: they
 * are fixed at creation (a CEL rule), so the caches keyed by them (pointsOfSet, the summaries)
 * survive the new copy each status write brings.
 */
export function initialOf(req: HPORequest): Initial {
  const uid = req.metadata?.uid;
  const mine = req.spec.initialPoints;
  if (!uid || !mine) return mine;
  const kept = initials.get(uid);
  if (kept && kept.length === mine.length) return kept;
  initials.set(uid, mine);
  if (initials.size > 4096) {
    const oldest = initials.keys().next().value;
    if (oldest !== undefined) initials.delete(oldest);
  }
  return mine;
}

/**
 * PointSource is a request's points as its sets hold them: read set by set (the method workers'
 * history follows changed sets only), or listed whole with pointsOfSource.
 */
export interface PointSource {
  sets: readonly HyperParameterSet[];
  initial: Initial;
}

/** pointsOfSource lists the points of a source, in id order. */
export function pointsOfSource(source: PointSource): Point[] {
  return pointsOfSets(source.sets, source.initial);
}

/** pointsOfSets returns the points of several sets of one request, in id order. */
export function pointsOfSets(sets: readonly HyperParameterSet[], initial?: Initial): Point[] {
  const ordered = [...sets].sort((a, b) => (a.spec?.firstId ?? 0) - (b.spec?.firstId ?? 0));
  const out: Point[] = [];
  for (const s of ordered) for (const p of pointsOfSet(s, initial)) out.push(p);
  return out;
}
