/**
 * What the reconcile core sees of a request's HyperParameterSets: their aggregate summary (counts,
 * best point, highest id, latest generation), how many there are, and set k by number. SetAggregates
 * keeps one view per request up to date from every change of the sets' cache (Informer.onCache),
 * so a reconcile of a request of 100,000 points costs what changed since the last one, not a pass
 * over its 12,500 sets; scanView builds the same view from a list (tests, one-off callers).
 */
import { type HPORequest, type HyperParameterSet, initialOf } from "../api/index.ts";
import { belongsTo, setName } from "../api/shards.ts";
import { better, combine, type Direction, type Summary, summaryOfSet } from "./points.ts";

/** SetsView is what the reconcile core reads of a request's sets (those it owns, not being deleted). */
export interface SetsView {
  /** summary is the aggregate of the sets' points. */
  readonly summary: Summary;
  /** count is how many sets there are. */
  readonly count: number;
  /** highestFirstId is the first id of the set that holds the highest ids (0 when there is none). */
  readonly highestFirstId: number;
  /** get returns set number k (named <request>-k), if it exists. */
  get(k: number): HyperParameterSet | undefined;
  /** all lists the sets, in no particular order (a generation reads their points). */
  all(): HyperParameterSet[];
}

/** Aggregate is the summary of a group of sets under one request's identity, kept up to date. */
interface Aggregate {
  uid: string | undefined;
  name: string | undefined;
  initial: ReturnType<typeof initialOf>;
  direction: Direction;
  summary: Summary;
  count: number;
  highestFirstId: number;
  /** stale: a change could not be applied as a difference (a set went away): recompute it. */
  stale: boolean;
}

/** Members are sets by name, also kept as an array (listed without copying a map on every generation). */
class Members {
  readonly list: HyperParameterSet[] = [];
  private readonly at = new Map<string, number>();

  get size(): number {
    return this.list.length;
  }
  get(name: string): HyperParameterSet | undefined {
    const i = this.at.get(name);
    return i === undefined ? undefined : this.list[i];
  }
  set(name: string, set: HyperParameterSet): void {
    const i = this.at.get(name);
    if (i !== undefined) this.list[i] = set;
    else this.at.set(name, this.list.push(set) - 1);
  }
  delete(name: string): void {
    const i = this.at.get(name);
    if (i === undefined) return;
    const last = this.list.pop() as HyperParameterSet;
    this.at.delete(name);
    if (i < this.list.length) {
      this.list[i] = last;
      this.at.set(last.metadata?.name ?? "", i);
    }
  }
}

/** Group is the sets that name one request ("namespace/request"), by name, and their aggregate. */
interface Group {
  sets: Members;
  agg?: Aggregate;
}

/** groupKey names the group of a request's sets: "namespace/request". */
const groupKey = (namespace: string | undefined, request: string | undefined) =>
  `${namespace ?? ""}/${request ?? ""}`;
const identityOf = (req: HPORequest) => ({ name: req.metadata?.name, uid: req.metadata?.uid });
const directionOf = (req: HPORequest): Direction => req.spec.objective?.direction ?? "minimize";

/** aggregateOf computes the aggregate of sets for req from scratch. */
function aggregateOf(req: HPORequest, sets: Iterable<HyperParameterSet>): Aggregate {
  const initial = initialOf(req);
  const direction = directionOf(req);
  const parts: Summary[] = [];
  let highestFirstId = 0;
  for (const s of sets) {
    if (!belongsTo(s, identityOf(req))) continue;
    parts.push(summaryOfSet(s, initial, direction));
    highestFirstId = Math.max(highestFirstId, s.spec.firstId);
  }
  return {
    uid: req.metadata?.uid,
    name: req.metadata?.name,
    initial,
    direction,
    summary: combine(parts, direction),
    count: parts.length,
    highestFirstId,
    stale: false,
  };
}

/** matches tells whether an aggregate was made for this request as it is now. */
function matches(agg: Aggregate, req: HPORequest): boolean {
  return (
    agg.uid === req.metadata?.uid &&
    agg.name === req.metadata?.name &&
    agg.initial === initialOf(req) &&
    agg.direction === directionOf(req)
  );
}

function viewOf(
  agg: Aggregate,
  req: HPORequest,
  lookup: (name: string) => HyperParameterSet | undefined,
  list: readonly HyperParameterSet[],
): SetsView {
  const own = (s: HyperParameterSet | undefined) => (s && belongsTo(s, agg) ? s : undefined);
  const s = agg.summary;
  return {
    summary: { counts: { ...s.counts }, best: s.best, maxId: s.maxId, latest: { ...s.latest } },
    count: agg.count,
    highestFirstId: agg.highestFirstId,
    get: (k) => own(lookup(setName(req.metadata?.name ?? "", k))),
    // Every set listed is the request's, but for the rare set of another owner or being deleted.
    all: () => (list.length === agg.count ? [...list] : list.filter((x) => belongsTo(x, agg))),
  };
}

/** scanView is the view of a list of sets for req, computed by one pass over them. */
export function scanView(req: HPORequest, sets: readonly HyperParameterSet[]): SetsView {
  const byName = new Map(sets.map((s) => [s.metadata?.name ?? "", s]));
  return viewOf(aggregateOf(req, sets), req, (n) => byName.get(n), sets);
}

/**
 * SetAggregates keeps, per request, its sets and their aggregate, following every change of the
 * sets' cache: a change is applied as a difference (the old copy's summary out, the new one's in),
 * and only what cannot be (a set going away with the best point or the highest id) recomputes.
 */
export class SetAggregates {
  private readonly groups = new Map<string, Group>();

  /** change records that the cached copy of a set changed from before to after (see Informer.onCache). */
  change(before: HyperParameterSet | undefined, after: HyperParameterSet | undefined): void {
    const b = before && this.groupOf(before);
    const a = after && this.groupOf(after);
    if (before && b) b.sets.delete(before.metadata?.name ?? "");
    if (after && a) a.sets.set(after.metadata?.name ?? "", after);
    // A set gone (or moved to another request's name): recompute that group once, when next viewed.
    if (b?.agg && b !== a) b.agg.stale = true;
    if (a?.agg && !a.agg.stale && !applyDifference(a.agg, a === b ? before : undefined, after))
      a.agg.stale = true;
    for (const [g, s] of [
      [b, before],
      [a, after],
    ] as const) {
      if (g && s && g.sets.size === 0) this.groups.delete(groupKey(s.metadata?.namespace, s.spec?.request));
    }
  }

  /**
   * follow keeps the aggregates of an informer's sets from now on: what it holds already, then
   * every change of its cache.
   */
  follow(sets: {
    list(): HyperParameterSet[];
    onCache(l: (b: HyperParameterSet | undefined, a: HyperParameterSet | undefined) => void): void;
  }): this {
    for (const s of sets.list()) this.change(undefined, s);
    sets.onCache((before, after) => this.change(before, after));
    return this;
  }

  /** view is what the reconcile core reads of req's sets. */
  view(req: HPORequest): SetsView {
    const key = groupKey(req.metadata?.namespace, req.metadata?.name);
    const g: Group = this.groups.get(key) ?? { sets: new Members() };
    if (g.sets.size > 0) this.groups.set(key, g);
    if (!g.agg || g.agg.stale || !matches(g.agg, req)) g.agg = aggregateOf(req, g.sets.list);
    return viewOf(g.agg, req, (n) => g.sets.get(n), g.sets.list);
  }

  private groupOf(set: HyperParameterSet): Group {
    const key = groupKey(set.metadata?.namespace, set.spec?.request);
    let g = this.groups.get(key);
    if (!g) {
      g = { sets: new Members() };
      this.groups.set(key, g);
    }
    return g;
  }
}

/**
 * applyDifference replaces the contribution of set copy before with that of after in agg; false
 * when that cannot be done exactly (the aggregate must then be recomputed).
 */
function applyDifference(
  agg: Aggregate,
  before: HyperParameterSet | undefined,
  after: HyperParameterSet | undefined,
): boolean {
  const own = (s: HyperParameterSet | undefined) => (s && belongsTo(s, agg) ? s : undefined);
  const b = own(before);
  const a = own(after);
  if (!b && !a) return true;
  const out = b && summaryOfSet(b, agg.initial, agg.direction);
  const into = a && summaryOfSet(a, agg.initial, agg.direction);
  const s = agg.summary;
  for (const k of ["total", "evaluated", "unevaluated", "failed"] as const)
    s.counts[k] += (into?.counts[k] ?? 0) - (out?.counts[k] ?? 0);
  agg.count += (a ? 1 : 0) - (b ? 1 : 0);
  const firstOut = b?.spec.firstId ?? 0;
  const firstIn = a?.spec.firstId ?? 0;
  if (firstIn >= agg.highestFirstId) agg.highestFirstId = firstIn;
  else if (firstOut === agg.highestFirstId && firstIn < firstOut) return false;
  // The highest id and the best point only move one way while a set is only added to.
  if ((into?.maxId ?? 0) >= s.maxId) s.maxId = into?.maxId ?? 0;
  else if (out && out.maxId === s.maxId && (into?.maxId ?? 0) < out.maxId) return false;
  if (into?.best && better(into.best, s.best, agg.direction)) s.best = into.best;
  else if (
    out?.best &&
    s.best &&
    out.best.id === s.best.id &&
    !(into?.best && into.best.id === s.best.id && into.best.loss === s.best.loss)
  )
    return false;
  return latestDifference(s, out, into);
}

/** latestDifference moves the latest generation's size and first id from one summary to another. */
function latestDifference(s: Summary, out: Summary | undefined, into: Summary | undefined): boolean {
  const o = out?.latest;
  const i = into?.latest;
  if (o && i && o.number === i.number && o.added === i.added && o.firstId === i.firstId) return true;
  const L = s.latest;
  if (o && o.number === L.number && L.number > 0) {
    L.added -= o.added;
    // The first id of what is left is unknown if it was this set's, unless the new copy brings it back.
    if (o.firstId === L.firstId && !(i && i.number === L.number && i.firstId <= o.firstId)) return false;
  }
  if (i && i.number > L.number) s.latest = { ...i };
  else if (i && i.number === L.number && L.number > 0) {
    L.added += i.added;
    L.firstId = L.added === i.added ? i.firstId : Math.min(L.firstId, i.firstId);
  }
  return !(s.latest.number > 0 && s.latest.added <= 0);
}
