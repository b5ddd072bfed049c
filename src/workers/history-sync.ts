/**
 * A request's history, kept by each method worker and sent as changes: a built-in method reads every
 * point of its request, and copying 100,000 points to a worker thread for every generation costs
 * about a second. The operator side (HistorySync) remembers, per worker thread, which points (and
 * outcomes) it has sent; each task carries only what changed since. The worker side (WorkerHistory)
 * applies the changes and gives the method its history and the keys of every point seen, without
 * copying or hashing what it had. A new thread (the pool replaced one) gets the whole history once.
 */
import { type HyperParameterSet, type Point, type PointSource, pointsOfSet } from "../api/index.ts";
import { pointKey } from "../generators/points.ts";
import type { History, Params, SearchSpace } from "../generators/types.ts";

/** Change is one point as the worker keeps it: [id, params (sent once), state, loss]. */
export type Change = [id: number, params: Params | null, state: "N" | "E" | "F", loss: number | null];

/** SyncMessage is what one task carries of its request's history. */
export interface SyncMessage {
  uid: string;
  /** reset: the worker starts this request's history afresh (its first task, or after a mismatch). */
  reset: boolean;
  /** version is the count of messages sent for uid to this worker before this one. */
  version: number;
  changes: Change[];
}

/** Held is what one worker thread holds of one request. */
interface Held {
  version: number;
  /** tags are each point's state (and loss) as sent. */
  tags: Map<string, string>;
  /** synced are the set objects already compared (the caches replace a set when it changes). */
  synced: WeakSet<HyperParameterSet>;
}

const tagOf = (p: Point): string =>
  p.state === "Evaluated" ? `E${p.loss}` : p.state === "Failed" ? "F" : "N";

/** HistorySync is the operator side: what each worker thread (by slot id) holds of each request. */
export class HistorySync {
  private readonly held = new Map<string, Map<number, Held>>();

  /**
   * message returns the changes of points since the last message to worker sid for uid: only the
   * sets whose copy changed since are read, and the changes go in id order.
   */
  message(uid: string, sid: number, source: PointSource): SyncMessage {
    const bySlot = this.held.get(uid) ?? new Map<number, Held>();
    this.held.set(uid, bySlot);
    const reset = !bySlot.has(sid);
    const h = bySlot.get(sid) ?? { version: 0, tags: new Map(), synced: new WeakSet<HyperParameterSet>() };
    bySlot.set(sid, h);
    const changes: Change[] = [];
    for (const set of source.sets) {
      if (h.synced.has(set)) continue;
      h.synced.add(set);
      for (const p of pointsOfSet(set, source.initial)) {
        const tag = tagOf(p);
        const before = h.tags.get(p.id);
        if (before === tag) continue;
        const state = tag[0] as "N" | "E" | "F";
        changes.push([
          Number(p.id),
          before === undefined ? (p.params as Params) : null,
          state,
          p.loss ?? null,
        ]);
        h.tags.set(p.id, tag);
      }
    }
    // The worker keeps points in the order they first arrive, which must be id order.
    changes.sort((a, b) => a[0] - b[0]);
    const msg = { uid, reset, version: h.version, changes };
    h.version++;
    return msg;
  }

  /** holders are the worker threads (slot ids) that keep uid's history. */
  holders(uid: string): ReadonlySet<number> {
    return new Set(this.held.get(uid)?.keys() ?? []);
  }

  /** drop forgets what worker sid holds (it was replaced), or everything of uid when sid is undefined. */
  drop(uid: string | undefined, sid?: number): void {
    if (uid === undefined) {
      for (const bySlot of this.held.values()) if (sid !== undefined) bySlot.delete(sid);
      return;
    }
    if (sid === undefined) this.held.delete(uid);
    else this.held.get(uid)?.delete(sid);
  }
}

/**
 * Overlay is a Set of keys over a base it never changes: what a method adds (its batch) stays in
 * the overlay, so the kept keys of the history are not copied for every call.
 */
class Overlay extends Set<string> {
  private readonly base: ReadonlySet<string>;
  constructor(base: ReadonlySet<string>) {
    super();
    this.base = base;
  }
  override has(key: string): boolean {
    return this.base.has(key) || super.has(key);
  }
  override add(key: string): this {
    if (!this.base.has(key)) super.add(key);
    return this;
  }
  override get size(): number {
    return this.base.size + super.size;
  }
}

interface Kept {
  params: Params;
  state: "N" | "E" | "F";
  loss: number | null;
}

/** historyOf lists kept points by outcome; the map's order is id order (a request's ids only grow). */
function historyOf(points: ReadonlyMap<number, Kept>): History {
  const history: History = { evaluated: [], pending: [], failed: [] };
  for (const p of points.values()) {
    if (p.state === "E" && p.loss !== null) history.evaluated.push({ params: p.params, loss: p.loss });
    else if (p.state === "F") history.failed.push(p.params);
    else history.pending.push(p.params);
  }
  return history;
}

/** WorkerHistory is the worker side: each request's points, in id order, and the keys of their params. */
export class WorkerHistory {
  private readonly requests = new Map<
    string,
    { version: number; points: Map<number, Kept>; keys: Set<string> }
  >();

  /**
   * apply applies a message and returns the request's history and seen keys for space. It throws
   * when a message does not follow the last one (the operator then starts the history afresh).
   */
  apply(msg: SyncMessage, space: SearchSpace): { history: History; seenKeys: Set<string> } {
    let r = this.requests.get(msg.uid);
    if (msg.reset || !r) {
      if (!msg.reset) throw new Error(`history of ${msg.uid} out of sync: no history kept`);
      r = { version: 0, points: new Map(), keys: new Set() };
      this.requests.set(msg.uid, r);
    }
    if (r.version !== msg.version)
      throw new Error(`history of ${msg.uid} out of sync (${r.version} != ${msg.version})`);
    r.version++;
    for (const [id, params, state, loss] of msg.changes) {
      const kept = r.points.get(id);
      if (kept) Object.assign(kept, { state, loss });
      else if (params) {
        r.points.set(id, { params, state, loss });
        r.keys.add(pointKey(space, params));
      }
    }
    const points = r.points;
    let history: History | undefined;
    // The history is built when a method reads it (random and the grid only need the seen keys).
    return {
      get history(): History {
        history ??= historyOf(points);
        return history;
      },
      seenKeys: new Overlay(r.keys),
    };
  }

  /** forget drops a request's history. */
  forget(uid: string): void {
    this.requests.delete(uid);
  }
}
