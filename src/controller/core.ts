/**
 * The reconcile core: one pure function from what was observed of a request (the request, its
 * HyperParameterSets, the outcome of a finished generation, the clock) to what to do (sets to
 * create, points to store, the status to apply, a generation to start) and the events to tell. The
 * reconciler (reconciler.ts) gathers the observation and carries the decision out; it decides
 * nothing itself. docs/lifecycle.md states the rules.
 */
import type { HPORequest, HPORequestStatus, StoredPoint } from "../api/index.ts";
import { chunksOf, MAX_POINTS_PER_SET, setIndexOf, setName, setRange } from "../api/shards.ts";
import type { SearchSpace } from "../generators/types.ts";
import type { GenerationOutcome } from "./generator.ts";
import {
  buildStatus,
  type GenerationPlan,
  invalidStatus,
  issuedUpTo,
  ownFields,
  type Policy,
  planGeneration,
} from "./lifecycle.ts";
import { combine, type Direction, initialPoints, type Summary, storedBatch } from "./points.ts";
import type { SetsView } from "./setsview.ts";
import { maxParamsBytes, paramsBytes, paramsBytesOf, pointsPerSet } from "./sizing.ts";
import { seedOf, validateSpec } from "./spec.ts";

/** Finished is a generation's outcome once the generator is done with it. */
export type Finished = Exclude<GenerationOutcome, { kind: "running" }>;

/** Observed is everything one reconcile of a request looks at. */
export interface Observed {
  request: HPORequest;
  /** sets is what the reconciler sees of the request's HyperParameterSets (owned by it). */
  sets: SetsView;
  /** outcome is the finished outcome of generation (number, attempt, firstId), when there is one. */
  outcome?: { number: number; attempt: number; firstId: number; result: Finished };
  /** recordsIntent: the request's generator has side effects outside the sets (a Job). */
  recordsIntent: boolean;
  now: Date;
  /** sinceStatusWriteMs is the time since the reconciler last wrote this request's status, if it did. */
  sinceStatusWriteMs?: number;
}

/** CoreSettings are the operator's settings the core depends on. */
export interface CoreSettings {
  policy: Policy;
  /** setBytes is the size a HyperParameterSet aims at (reports cost the API server more on larger sets). */
  setBytes: number;
  /** statusIntervalMs: a status change that only moves counts waits this long after the last write. */
  statusIntervalMs: number;
  /** paramsBytesWithoutSpace is what one point's params may take for a generator with no search space. */
  paramsBytesWithoutSpace: number;
  /** admit is the admin's policy on a request (the generator pod policy): why it is refused, else undefined. */
  admit?: (req: HPORequest) => string | undefined;
}

/** Action is one thing the reconciler carries out, in order. */
export type Action =
  | { kind: "createSet"; name: string; firstId: number; lastId: number }
  | { kind: "storePoints"; name: string; stored: number; points: StoredPoint[] }
  | { kind: "applyStatus"; status: HPORequestStatus }
  | { kind: "generate"; number: number; count: number; firstId: number; attempt: number }
  | { kind: "settle"; number: number };

/** EventSpec is an event to tell about the request. */
export interface EventSpec {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** Decision is what one reconcile does. */
export interface Decision {
  actions: Action[];
  /** events are told once every action has been carried out. */
  events: EventSpec[];
  /** requeueAfterMs asks for another look (a retry delay, a status write held back). */
  requeueAfterMs?: number;
  /** requeue asks for another look at once (points were stored: the next look sees them). */
  requeue?: boolean;
  /** phase is the request's phase after this decision (metrics). */
  phase: string | undefined;
  /** generated counts the points a finished generation stores, for metrics. */
  generated?: number;
  /** failedGeneration is set when a generation's failure is recorded, for metrics. */
  failedGeneration?: boolean;
  /** evaluated is how many points have a loss (metrics count the new ones). */
  evaluated?: number;
}

/** Work is the state one decision builds up. */
interface Work {
  req: HPORequest;
  obs: Observed;
  settings: CoreSettings;
  direction: Direction;
  space: SearchSpace | undefined;
  perSet: number;
  summary: Summary;
  /** created are the set numbers this decision creates. */
  created: Set<number>;
  actions: Action[];
  events: EventSpec[];
  lastGeneration: HPORequestStatus["lastGeneration"];
  exhausted: boolean;
  deletedSets: number[];
  requeueAfterMs?: number;
  requeue?: boolean;
  generated?: number;
  failedGeneration?: boolean;
}

/** decide is the reconcile core: what to do about one request, given what was observed. */
export function decide(obs: Observed, settings: CoreSettings): Decision {
  const req = obs.request;
  const check = validateSpec(req);
  if (!check.ok) return invalid(obs, check.message);
  const refused = settings.admit?.(req);
  if (refused) return invalid(obs, refused, "PolicyRefused");
  const perSet = perSetOf(req, obs.sets, check.space, settings);
  if (typeof perSet === "string") return invalid(obs, perSet);
  const direction = req.spec.objective?.direction ?? "minimize";
  const w: Work = {
    req,
    obs,
    settings,
    direction,
    space: check.space,
    perSet,
    summary: obs.sets.summary,
    created: new Set(),
    actions: [],
    events: [],
    lastGeneration: req.status?.lastGeneration,
    exhausted: req.status?.exhausted ?? false,
    deletedSets: [...(req.status?.deletedSets ?? [])],
  };
  noteDeletedSets(w);
  if (!storeInitialPoints(w, check.initial)) {
    const plan = planGeneration(req, w.summary, obs.now, settings.policy);
    carryOut(w, plan);
  }
  return finish(w);
}

/**
 * perSetOf is the request's points per set: fixed once recorded (status.pointsPerSet, or the size of
 * a set that exists), else computed from the search space. A message when no point fits.
 */
function perSetOf(
  req: HPORequest,
  sets: SetsView,
  space: SearchSpace | undefined,
  settings: CoreSettings,
): number | string {
  const recorded = req.status?.pointsPerSet;
  if (recorded !== undefined && recorded > 0) return recorded;
  const first = sets.get(1);
  if (first) return first.spec.lastId - first.spec.firstId + 1;
  const params = space ? paramsBytesOf(space) : settings.paramsBytesWithoutSpace;
  const n = pointsPerSet(params, settings.setBytes, MAX_POINTS_PER_SET);
  if (n > 0) return n;
  return `one point of this search space can take ${params} bytes, more than a HyperParameterSet can hold (at most ${maxParamsBytes()} bytes of parameters): use fewer parameters, shorter parameter names or shorter categorical choices`;
}

function invalid(obs: Observed, problem: string, reason = "InvalidSpec"): Decision {
  const req = obs.request;
  const status = invalidStatus(req, problem, obs.now, reason);
  if (req.status?.message === status.message) return { actions: [], events: [], phase: "Failed" };
  return {
    actions: [{ kind: "applyStatus", status }],
    events: [{ type: "Warning", reason, message: status.message ?? "" }],
    phase: "Failed",
  };
}

/** noteDeletedSets records, once each, the sets someone deleted: their points are gone. */
function noteDeletedSets(w: Work): void {
  const sets = w.obs.sets;
  const known = Math.max(w.req.status?.sets ?? 0, highestSet(w));
  // Sets are missing from 1..known when fewer are there: only then look for which (by name).
  const noted = w.deletedSets.filter((k) => k <= known && !sets.get(k)).length;
  if (known - sets.count === noted) return;
  for (let k = 1; k <= known; k++) {
    if (w.deletedSets.includes(k) || sets.get(k)) continue;
    w.deletedSets.push(k);
    const { firstId, lastId } = setRange(k, w.perSet);
    const name = setName(w.req.metadata?.name ?? "", k);
    // Before the first generation is recorded, the initial points are stored again (same ids, same
    // params: storeInitialPoints); say so rather than claim their ids are gone for good.
    const initial = w.lastGeneration === undefined ? (w.req.spec.initialPoints?.length ?? 0) : 0;
    const ids =
      initial >= firstId
        ? `the initial points among them (ids ${firstId}-${Math.min(lastId, initial)}) are stored again from spec.initialPoints, no other id is handed out again`
        : "their ids are not handed out again";
    const after = Math.max(w.summary.maxId, issuedUpTo(w.lastGeneration) - 1, initial);
    w.events.push({
      type: "Warning",
      reason: "SetDeleted",
      message: `HyperParameterSet ${name} was deleted: its points (ids ${firstId}-${lastId}) and their losses are gone; ${ids}, new ids continue after ${after}`,
    });
  }
}

/**
 * storeInitialPoints stores spec.initialPoints as ids 1..k (generation 0) while no generation has
 * been recorded; true when it stored some (the decision then stops there and looks again).
 */
function storeInitialPoints(w: Work, initial: StoredPoint["params"][]): boolean {
  if (initial.length === 0 || w.lastGeneration !== undefined) return false;
  const points = initialPoints({
    ...w.req.spec,
    initialPoints: (w.req.spec.initialPoints ?? []).map((p, i) => ({ ...p, params: initial[i] ?? p.params })),
  });
  const stored = store(w, points);
  if (stored === 0) return false;
  w.requeue = true;
  return true;
}

/**
 * store adds the points (consecutive ids) that their sets do not hold yet: it creates missing sets
 * and appends to each set in id order. Returns how many it adds.
 */
function store(w: Work, points: readonly StoredPoint[]): number {
  const first = Number(points[0]?.id ?? 0);
  let added = 0;
  for (const chunk of chunksOf(first, points.length, w.perSet)) {
    const set = w.obs.sets.get(chunk.k);
    const name = setName(w.req.metadata?.name ?? "", chunk.k);
    const held = set?.status?.points ?? [];
    const lastHeld = held.length > 0 ? Number(held[held.length - 1]?.id) : 0;
    const fresh = points
      .slice(chunk.firstId - first, chunk.firstId - first + chunk.count)
      .filter((p) => Number(p.id) > lastHeld);
    if (fresh.length === 0) continue;
    if (!set) {
      // A set deleted by hand is created again only to hold new ids: the ids it held are gone.
      const { firstId, lastId } = setRange(chunk.k, w.perSet);
      w.actions.push({ kind: "createSet", name, firstId, lastId });
      w.created.add(chunk.k);
      if (chunk.k === 1) {
        w.events.push({
          type: "Normal",
          reason: "SetCreated",
          message: `created HyperParameterSet ${name} for ids ${firstId}-${lastId}: each set holds ${w.perSet} points, point id i in set ${w.req.metadata?.name}-<ceil(i / ${w.perSet})>`,
        });
      }
    }
    w.actions.push({ kind: "storePoints", name, stored: held.length, points: fresh });
    added += fresh.length;
  }
  return added;
}

/** carryOut turns the generation plan into actions, applying a finished outcome when there is one. */
function carryOut(w: Work, plan: GenerationPlan): void {
  switch (plan.kind) {
    case "none":
      return;
    case "wait":
      w.requeueAfterMs = plan.afterMs;
      return;
    case "complete": {
      const o = w.obs.outcome;
      if (o && o.number === plan.number && o.firstId === plan.firstId && o.result.kind === "points") {
        // Part of the batch is stored (its write stopped between two sets): store the rest.
        const count = w.lastGeneration?.number === plan.number ? w.lastGeneration.requested : undefined;
        applyOutcome(w, { ...plan, count: count ?? o.result.points.length, attempt: o.attempt }, o.result);
        return;
      }
      const lg =
        w.lastGeneration?.number === plan.number ? w.lastGeneration : { requested: plan.added, attempts: 1 };
      w.lastGeneration = {
        ...lg,
        number: plan.number,
        firstId: plan.firstId,
        state: "Succeeded",
        added: plan.added,
        completedAt: w.obs.now.toISOString(),
        message: `added ${plan.added} points (ids ${plan.firstId}-${plan.firstId + plan.added - 1})`,
      };
      w.actions.push({ kind: "settle", number: plan.number });
      return;
    }
    default: {
      const o = w.obs.outcome;
      if (o && o.number === plan.number && o.attempt === plan.attempt && o.firstId === plan.firstId) {
        applyOutcome(w, plan, o.result);
        return;
      }
      if (plan.kind !== "resume" && w.obs.recordsIntent) {
        // The generator's side effects live outside the sets (a Job): record the intent first.
        w.lastGeneration = {
          number: plan.number,
          requested: plan.count,
          firstId: plan.firstId,
          state: "Running",
          attempts: plan.attempt,
          startedAt: w.obs.now.toISOString(),
        };
        w.actions.push({ kind: "applyStatus", status: statusOf(w) });
        w.events.push({
          type: "Normal",
          reason: "GenerationStarted",
          message: `generation ${plan.number} started: asking for ${plan.count} points (attempt ${plan.attempt})`,
        });
      }
      const { number, count, firstId, attempt } = plan;
      w.actions.push({ kind: "generate", number, count, firstId, attempt });
    }
  }
}

type Asked = { number: number; count: number; firstId: number; attempt: number };

/** applyOutcome records a finished generation: its points stored, or its failure, or the end. */
function applyOutcome(w: Work, plan: Asked, result: Finished): void {
  const now = w.obs.now.toISOString();
  const lg = {
    ...(w.lastGeneration?.number === plan.number && w.lastGeneration.state === "Running"
      ? w.lastGeneration
      : {
          number: plan.number,
          requested: plan.count,
          firstId: plan.firstId,
          attempts: plan.attempt,
          startedAt: now,
        }),
    completedAt: now,
  };
  // The generator may drop the outcome once settled: settle only after the points are stored, so
  // a store cut short between two sets finds the outcome again (Generator.kept).
  const settle = () => w.actions.push({ kind: "settle", number: plan.number });
  const method = w.req.spec.method;
  const big =
    result.kind === "points" && !w.space
      ? result.points.findIndex((p) => paramsBytes(p) > w.settings.paramsBytesWithoutSpace)
      : -1;
  if (big >= 0) {
    const bytes = paramsBytes((result as { points: unknown[] }).points[big]);
    result = {
      kind: "failed",
      message: `point ${big + 1} of the batch takes ${bytes} bytes of parameters; at most ${w.settings.paramsBytesWithoutSpace} fit in a HyperParameterSet when the request has no search space`,
    };
  }
  if (result.kind === "failed") {
    w.lastGeneration = { ...lg, state: "Failed", message: clip(result.message), added: 0 };
    w.failedGeneration = true;
    w.requeue = true;
    settle();
    w.events.push({
      type: "Warning",
      reason: "GenerationFailed",
      message: `generation ${plan.number} failed (attempt ${plan.attempt}): ${result.message}`,
    });
    return;
  }
  if (result.kind === "exhausted") {
    w.exhausted = true;
    settle();
    w.lastGeneration = { ...lg, state: "Succeeded", added: 0, message: "the generator returned no points" };
    w.events.push({
      type: "Normal",
      reason: "GeneratorExhausted",
      message: `generation ${plan.number}: the generator has no more points`,
    });
    return;
  }
  const points = storedBatch(result.points.slice(0, plan.count), plan.number, plan.firstId);
  // Only the points no set holds yet are new to the summary (part of the batch may be stored).
  const added = store(w, points);
  settle();
  w.summary = combine(
    [
      w.summary,
      {
        counts: { total: added, evaluated: 0, unevaluated: added, failed: 0 },
        best: undefined,
        maxId: plan.firstId + points.length - 1,
        latest: { number: plan.number, added, firstId: plan.firstId },
      },
    ],
    w.direction,
  );
  const last = plan.firstId + points.length - 1;
  const message = clip(
    [`added ${points.length} points (ids ${plan.firstId}-${last})`, ...result.warnings].join("; "),
  );
  w.lastGeneration = { ...lg, state: "Succeeded", added: points.length, message };
  w.generated = added;
  w.requeue = true;
  w.events.push({
    type: "Normal",
    reason: "GenerationFinished",
    message: `generation ${plan.number} (${method}, attempt ${plan.attempt}): ${message}`,
  });
}

/** highestSet is the number of the request's set that holds the highest ids (0 when none). */
function highestSet(w: Work): number {
  const first = w.obs.sets.highestFirstId;
  return first > 0 ? setIndexOf(first, w.perSet) : 0;
}

/** statusOf is the request's status as this decision leaves it. */
function statusOf(w: Work): HPORequestStatus {
  let sets = Math.max(w.req.status?.sets ?? 0, highestSet(w));
  for (const k of w.created) sets = Math.max(sets, k);
  return buildStatus({
    req: w.req,
    summary: w.summary,
    lastGeneration: w.lastGeneration,
    exhausted: w.exhausted,
    pointsPerSet: w.perSet,
    sets,
    deletedSets: w.deletedSets,
    seed: seedOf(w.req),
    now: w.obs.now,
    policy: w.settings.policy,
  });
}

/** finish adds the status write (now, held back, or none) and the phase events. */
function finish(w: Work): Decision {
  const status = statusOf(w);
  const current = ownFields(w.req.status);
  const last = [...w.actions].reverse().find((a) => a.kind === "applyStatus");
  const written = last?.kind === "applyStatus" ? last.status : current;
  let requeueAfterMs = w.requeueAfterMs;
  const change = compare(written, status);
  if (change === "significant") w.actions.push({ kind: "applyStatus", status });
  else if (change === "counts") {
    const since = w.obs.sinceStatusWriteMs;
    const wait = since === undefined ? 0 : w.settings.statusIntervalMs - since;
    if (wait <= 0) w.actions.push({ kind: "applyStatus", status });
    else requeueAfterMs = Math.min(requeueAfterMs ?? wait, wait);
  }
  const before = w.req.status?.phase;
  if (before !== status.phase && change !== "none") {
    const phase = status.phase ?? "";
    if (!["Generating", "Waiting", "Pending"].includes(phase)) {
      w.events.push({
        type: phase === "Failed" ? "Warning" : "Normal",
        reason: phase,
        message: status.message ?? phase,
      });
    }
  }
  const d: Decision = {
    actions: w.actions,
    events: w.events,
    phase: status.phase,
    evaluated: w.summary.counts.evaluated,
  };
  if (requeueAfterMs !== undefined) d.requeueAfterMs = requeueAfterMs;
  if (w.requeue) d.requeue = true;
  if (w.generated !== undefined) d.generated = w.generated;
  if (w.failedGeneration) d.failedGeneration = true;
  return d;
}

/**
 * compare tells how a new status differs from the one written: "none", "counts" (only the point
 * counts, the best point and the messages that quote them: such a write may wait) or "significant".
 */
export function compare(a: HPORequestStatus, b: HPORequestStatus): "none" | "counts" | "significant" {
  if (canonical(a) === canonical(b)) return "none";
  const strip = (s: HPORequestStatus) => ({
    ...s,
    points: undefined,
    best: undefined,
    message: undefined,
    conditions: s.conditions?.map((c) => ({ ...c, message: undefined })),
  });
  return canonical(strip(a)) === canonical(strip(b)) ? "counts" : "significant";
}

/** clip keeps a status message readable and the object small: at most 4,000 characters. */
export function clip(message: string, max = 4000): string {
  return message.length <= max ? message : `${message.slice(0, max - 15)} ... (clipped)`;
}

/** canonical is JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(
          Object.keys(val)
            .sort()
            .map((k) => [k, (val as Record<string, unknown>)[k]]),
        )
      : val,
  );
}
