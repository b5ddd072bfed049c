/**
 * The Generator interface the reconciler asks for points, and the built-in generator that runs the
 * built-in methods on the worker pool. Container generators (Jobs) implement the same interface.
 * Both are asynchronous: generate() starts the work and answers "running" until it has finished; the
 * reconciler is told (onDone) and asks again, so no reconcile waits while a method computes.
 */
import type { HPORequest, Point, PointSource } from "../api/index.ts";
import type { Params, SearchSpace } from "../generators/types.ts";
import { checkBatch } from "../validation/points.ts";
import type { WorkerPool } from "../workers/pool.ts";
import { generationSeed } from "./spec.ts";

/** GenerationRequest is one generation to produce. */
export interface GenerationRequest {
  request: HPORequest;
  space: SearchSpace | undefined;
  /** history is the request's points so far, as its sets hold them. */
  history: PointSource;
  number: number;
  count: number;
  firstId: number;
  attempt: number;
  seed: number;
}

/** GenerationOutcome is what a generation produced, or that it is still running (a Job). */
export type GenerationOutcome =
  | { kind: "points"; points: Params[]; warnings: string[] }
  | { kind: "exhausted" }
  | { kind: "failed"; message: string }
  | { kind: "running"; requeueAfterMs: number };

/** Generator produces a generation's points. */
export interface Generator {
  /**
   * recordsIntent: the generator has side effects outside the set (a Job), so the reconciler writes
   * the generation's number, size and first id to the request's status before calling it.
   */
  readonly recordsIntent: boolean;
  generate(req: GenerationRequest): Promise<GenerationOutcome>;
  /** settle tells the generator that the outcome of generation number is stored (or recorded as failed). */
  settle?(uid: string, number: number): void;
  /** forget drops whatever the generator keeps for a request (it was deleted). */
  forget?(uid: string): void;
  /**
   * kept is the finished outcome the generator holds for a request and that is not settled yet (its
   * batch may be partly stored: a write stopped between two sets), so a reconcile can finish it.
   */
  kept?(uid: string): KeptOutcome | undefined;
}

/** KeptOutcome is a finished generation's outcome with the question it answers. */
export interface KeptOutcome {
  number: number;
  attempt: number;
  firstId: number;
  result: Exclude<GenerationOutcome, { kind: "running" }>;
}

/** pointKey is a canonical text of a point, to find duplicates. */
export function pointKey(params: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]]),
  );
}

const keys = new WeakMap<object, string>();

/** storedKey is pointKey of a stored point's params, cached per params object (they never change). */
function storedKey(params: Record<string, unknown>): string {
  let k = keys.get(params);
  if (k === undefined) {
    k = pointKey(params);
    keys.set(params, k);
  }
  return k;
}

/**
 * acceptBatch canonicalises proposed points against the space (when there is one), keeps at most
 * count of them, and drops any point already present or repeated, saying why in warnings.
 * An out-of-space point fails the whole batch, naming the point.
 */
export function acceptBatch(
  proposed: readonly unknown[],
  space: SearchSpace | undefined,
  existing: readonly Point[],
  count: number,
): { ok: true; points: Params[]; warnings: string[] } | { ok: false; message: string } {
  // The batch is checked against the space's JSON Schema (ajv) and canonicalised in one step.
  let checked: readonly unknown[] = proposed;
  if (space) {
    const c = checkBatch(space, proposed);
    if (!c.ok) return { ok: false, message: c.error };
    checked = c.value;
  }
  const seen = new Set(existing.map((p) => storedKey(p.params)));
  const points: Params[] = [];
  const duplicates: Params[] = [];
  for (const [i, raw] of checked.entries()) {
    const params = raw as Params;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      return { ok: false, message: `point ${i + 1} of the batch is not an object of parameter values` };
    }
    const key = pointKey(params);
    if (seen.has(key)) {
      duplicates.push(params);
      continue;
    }
    seen.add(key);
    if (points.length < count) points.push(params);
  }
  const warnings: string[] = [];
  if (duplicates.length > 0) {
    const examples = duplicates
      .slice(0, 2)
      .map((d) => JSON.stringify(d))
      .join(", ");
    warnings.push(`dropped ${duplicates.length} duplicate point(s), such as ${examples}`);
  }
  if (proposed.length > count)
    warnings.push(`the generator proposed ${proposed.length} points; kept ${count}`);
  return { ok: true, points, warnings };
}

/** Run is one built-in generation in flight (or finished and not yet stored). */
interface Run {
  number: number;
  attempt: number;
  firstId: number;
  outcome?: GenerationOutcome;
}

/**
 * BuiltinGenerator runs a built-in method on the worker pool, with a timeout, in the background:
 * generate() starts the method and answers "running"; when the method is done, onDone(request) asks
 * for another reconcile, whose generate() call for the same generation returns the outcome. The
 * outcome is kept until settle() (the batch is stored) or forget() (the request is gone).
 */
export class BuiltinGenerator implements Generator {
  readonly recordsIntent = false;
  private readonly states = new Map<string, unknown>();
  private readonly runs = new Map<string, Run>();
  private readonly pool: WorkerPool;
  private readonly timeoutMs: number;
  private readonly onDone: (request: HPORequest) => void;

  constructor(pool: WorkerPool, timeoutMs: number, onDone: (request: HPORequest) => void = () => {}) {
    this.pool = pool;
    this.timeoutMs = timeoutMs;
    this.onDone = onDone;
  }

  async generate(req: GenerationRequest): Promise<GenerationOutcome> {
    const uid = req.request.metadata?.uid ?? "";
    const run = this.runs.get(uid);
    if (run && run.number === req.number && run.attempt === req.attempt && run.firstId === req.firstId) {
      return run.outcome
        ? clipOutcome(run.outcome, req.count)
        : { kind: "running", requeueAfterMs: this.timeoutMs };
    }
    // A new generation (or the same one asked differently): start it; a stale run's result is dropped.
    const fresh: Run = { number: req.number, attempt: req.attempt, firstId: req.firstId };
    this.runs.set(uid, fresh);
    void this.compute(req).then((outcome) => {
      if (this.runs.get(uid) !== fresh) return;
      fresh.outcome = outcome;
      this.onDone(req.request);
    });
    return { kind: "running", requeueAfterMs: this.timeoutMs };
  }

  private async compute(req: GenerationRequest): Promise<GenerationOutcome> {
    const { request, space } = req;
    if (!space) return { kind: "failed", message: "the built-in methods need a search space" };
    const uid = request.metadata?.uid ?? "";
    try {
      // The workers keep each request's history: only what changed since is sent (history-sync.ts).
      const result = await this.pool.run(
        request.spec.method,
        {
          space,
          history: { evaluated: [], pending: [], failed: [] },
          count: req.count,
          seed: generationSeed(req.seed, req.number),
          direction: request.spec.objective?.direction ?? "minimize",
          state: this.states.get(uid),
        },
        this.timeoutMs,
        { uid, source: req.history },
      );
      if (result.state !== undefined) this.states.set(uid, result.state);
      if (result.points.length === 0) return { kind: "exhausted" };
      // The worker drew the batch against every point of the request (the history it keeps): only
      // repeats within the batch are left to drop here, not a pass over 100,000 points.
      const accepted = acceptBatch(result.points, space, [], req.count);
      if (!accepted.ok) return { kind: "failed", message: accepted.message };
      return { kind: "points", points: accepted.points, warnings: accepted.warnings };
    } catch (e) {
      return { kind: "failed", message: `method ${request.spec.method}: ${(e as Error).message}` };
    }
  }

  /** settle drops the outcome of generation number of a request: its batch is stored. */
  settle(uid: string, number: number): void {
    if (this.runs.get(uid)?.number === number) this.runs.delete(uid);
  }

  forget(uid: string): void {
    this.states.delete(uid);
    this.runs.delete(uid);
    this.pool.forget(uid);
  }

  kept(uid: string): KeptOutcome | undefined {
    const run = this.runs.get(uid);
    const result = run?.outcome;
    if (!run || !result || result.kind === "running") return undefined;
    return { number: run.number, attempt: run.attempt, firstId: run.firstId, result };
  }
}

/** clipOutcome keeps at most count points of an outcome (the plan may ask fewer since it started). */
function clipOutcome(o: GenerationOutcome, count: number): GenerationOutcome {
  return o.kind === "points" && o.points.length > count ? { ...o, points: o.points.slice(0, count) } : o;
}
