/**
 * Pure operations on a request's points: seeding initial points, the per-set summaries the
 * reconcile core aggregates (counts, best point, highest id, latest generation), and a
 * generation's batch as the sets store it. A point's state comes from the reports on its set
 * (src/api/points.ts); the method workers keep each request's history themselves
 * (src/workers/history-sync.ts). Nothing here talks to the API server.
 */
import type { HPORequestSpec, HyperParameterSet, StoredPoint } from "../api/index.ts";
import { type Point, pointsOfSet } from "../api/points.ts";
import type { Params } from "../generators/types.ts";

/** Counts are the point counts shown on the request. */
export interface Counts {
  total: number;
  evaluated: number;
  unevaluated: number;
  failed: number;
}

/** Best is the best evaluated point. */
export interface Best {
  id: string;
  params: Record<string, unknown>;
  loss: number;
}

/** Direction says whether lower or higher losses are better. */
export type Direction = "minimize" | "maximize";

/** Latest is the highest generation number among some points, with its size and first id. */
export interface Latest {
  number: number;
  added: number;
  firstId: number;
}

/** Summary is what the reconcile core needs of a set (or of all the sets of a request). */
export interface Summary {
  counts: Counts;
  best: Best | undefined;
  /** maxId is the highest stored id (0 when none). */
  maxId: number;
  latest: Latest;
}

/**
 * initialPoints turns spec.initialPoints into stored points "1".."k" of generation 0. Their losses
 * stay in the request's spec (one source of truth): src/api/points.ts reads them from there.
 */
export function initialPoints(spec: HPORequestSpec): StoredPoint[] {
  return (spec.initialPoints ?? []).map((p, i) => ({ id: String(i + 1), params: p.params, generation: 0 }));
}

/** countPoints counts points by state. */
export function countPoints(points: readonly Point[]): Counts {
  const c: Counts = { total: points.length, evaluated: 0, unevaluated: 0, failed: 0 };
  for (const p of points) {
    if (p.state === "Evaluated") c.evaluated++;
    else if (p.state === "Failed") c.failed++;
    else c.unevaluated++;
  }
  return c;
}

/** better tells whether point a beats b (lower loss, or higher for maximize; ties go to the lower id). */
export function better(a: Best, b: Best | undefined, direction: Direction): boolean {
  if (!b) return true;
  if (a.loss !== b.loss) return direction === "minimize" ? a.loss < b.loss : a.loss > b.loss;
  return Number(a.id) < Number(b.id);
}

/** bestPoint returns the evaluated point with the lowest loss (highest for maximize); ties go to the lower id. */
export function bestPoint(points: readonly Point[], direction: Direction): Best | undefined {
  let best: Best | undefined;
  for (const p of points) {
    if (p.state !== "Evaluated" || p.loss === undefined) continue;
    const candidate = { id: p.id, params: p.params, loss: p.loss };
    if (better(candidate, best, direction)) best = candidate;
  }
  return best;
}

/** latestOf is the highest generation number among the points, with its size and first id. */
export function latestOf(points: readonly { id: string; generation?: number }[]): Latest {
  let number = 0;
  let added = 0;
  let firstId = 0;
  for (const p of points) {
    const g = p.generation ?? 0;
    if (g > number) [number, added, firstId] = [g, 0, Number(p.id)];
    if (g === number && g > 0) {
      added++;
      firstId = Math.min(firstId, Number(p.id));
    }
  }
  return { number, added, firstId };
}

/** summarize computes the summary of some points. */
export function summarize(points: readonly Point[], direction: Direction): Summary {
  let maxId = 0;
  for (const p of points) maxId = Math.max(maxId, Number(p.id));
  return {
    counts: countPoints(points),
    best: bestPoint(points, direction),
    maxId,
    latest: latestOf(points),
  };
}

type Initial = Readonly<HPORequestSpec["initialPoints"]>;
const summaries = new WeakMap<HyperParameterSet, { initial: Initial; direction: Direction; s: Summary }>();

/** summaryOfSet is a set's summary, cached per set object (objects in the caches are replaced, not changed). */
export function summaryOfSet(set: HyperParameterSet, initial: Initial, direction: Direction): Summary {
  const hit = summaries.get(set);
  if (hit && hit.initial === initial && hit.direction === direction) return hit.s;
  const s = summarize(pointsOfSet(set, initial), direction);
  summaries.set(set, { initial, direction, s });
  return s;
}

/** combine adds up the summaries of the sets of one request. */
export function combine(parts: readonly Summary[], direction: Direction): Summary {
  const out: Summary = {
    counts: { total: 0, evaluated: 0, unevaluated: 0, failed: 0 },
    best: undefined,
    maxId: 0,
    latest: { number: 0, added: 0, firstId: 0 },
  };
  for (const s of parts) {
    out.counts.total += s.counts.total;
    out.counts.evaluated += s.counts.evaluated;
    out.counts.unevaluated += s.counts.unevaluated;
    out.counts.failed += s.counts.failed;
    if (s.best && better(s.best, out.best, direction)) out.best = s.best;
    out.maxId = Math.max(out.maxId, s.maxId);
    const l = s.latest;
    if (l.number > out.latest.number) out.latest = { ...l };
    else if (l.number === out.latest.number && l.number > 0) {
      out.latest = {
        number: l.number,
        added: out.latest.added + l.added,
        firstId: Math.min(out.latest.firstId, l.firstId),
      };
    }
  }
  return out;
}

/** storedBatch is a generation's points as the sets store them, with ids firstId, firstId+1, ... */
export function storedBatch(batch: readonly Params[], generation: number, firstId: number): StoredPoint[] {
  return batch.map((params, i) => ({ id: String(firstId + i), params, generation }));
}
