/**
 * The pure part of the client: which points a query selects, whether a report can be accepted, and
 * a request's status summarised for people and programs. No I/O here (see client.ts).
 */
import {
  type Condition,
  type HPORequest,
  type HPORequestSpec,
  type HPORequestStatus,
  type HyperParameterSet,
  type Point,
  pointsOfSet,
} from "../api/index.ts";
import { InvalidArgumentError, OutcomeConflictError, UnknownPointError } from "./errors.ts";

/** PointStatus selects points by state, in iDDS's words: new (no outcome yet), evaluated, failed. */
export type PointStatus = "new" | "evaluated" | "failed";
/** pointStatusValues lists the PointStatus values. */
export const pointStatusValues: readonly PointStatus[] = ["new", "evaluated", "failed"];

const stateOf: Record<PointStatus, Point["state"]> = { new: "New", evaluated: "Evaluated", failed: "Failed" };

/** Query narrows getHyperParameters. */
export interface Query {
  /** Only points in this state. */
  status?: PointStatus;
  /** At most this many points (the lowest ids first). */
  limit?: number;
}

/** selectPoints returns the points a query selects, in id order. */
export function selectPoints(points: readonly Point[], query: Query = {}): Point[] {
  if (query.status !== undefined && !pointStatusValues.includes(query.status)) {
    throw new InvalidArgumentError(
      `unknown status "${query.status}": use one of ${pointStatusValues.join(", ")}`,
    );
  }
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 0)) {
    throw new InvalidArgumentError(`limit must be a whole number >= 0, not ${query.limit}`);
  }
  const state = query.status === undefined ? undefined : stateOf[query.status];
  const out = points.filter((p) => state === undefined || p.state === state);
  out.sort((a, b) => Number(a.id) - Number(b.id));
  return query.limit === undefined ? out : out.slice(0, query.limit);
}

/** pointId checks a point id (digits, as in status.points[].id) and returns it as a string. */
export function pointId(id: string | number): string {
  const s = typeof id === "number" ? String(id) : id.trim();
  if (!/^[0-9]{1,9}$/.test(s)) {
    throw new InvalidArgumentError(
      `point id ${JSON.stringify(id)} is not a point id: ids are digits, such as "7" (see status.points[].id)`,
    );
  }
  return String(Number(s));
}

/** checkLoss returns a loss that can be reported: a finite number. */
export function checkLoss(loss: unknown): number {
  if (typeof loss !== "number" || !Number.isFinite(loss)) {
    const shown = typeof loss === "number" ? String(loss) : JSON.stringify(loss);
    throw new InvalidArgumentError(`the loss must be a finite number, not ${shown}`);
  }
  return loss;
}

/** checkReason returns a failure reason that can be reported: 1 to 128 characters (spec.failed's limit). */
export function checkReason(reason: unknown): string {
  if (typeof reason !== "string" || reason.trim() === "") {
    throw new InvalidArgumentError("a failure needs a reason, such as OOMKilled");
  }
  if (reason.length > 128) {
    throw new InvalidArgumentError(`the reason is ${reason.length} characters long; at most 128 fit`);
  }
  return reason;
}

/** Outcome is what a report says about a point. */
export type Outcome = { loss: number } | { reason: string };

/**
 * planReport decides what to do with a report on the set that should hold point id: "patch" when
 * it is new, "done" when the set already holds exactly this outcome (reporting twice is harmless).
 * It throws UnknownPointError for an id that is not a point of the set, and OutcomeConflictError
 * when the point already has another outcome, since the first recorded outcome stands (the API
 * server would refuse it too).
 */
export function planReport(
  set: HyperParameterSet | undefined,
  initial: HPORequestSpec["initialPoints"],
  request: string,
  id: string,
  outcome: Outcome,
): "patch" | "done" {
  const points = set ? pointsOfSet(set, initial) : [];
  const point = points.find((p) => p.id === id);
  if (!point) {
    const where = set?.metadata?.name ?? "the set that would hold it";
    const range =
      points.length === 0
        ? `${where} has no points`
        : `${where} holds ids ${points[0]?.id}-${points[points.length - 1]?.id}`;
    throw new UnknownPointError(`HPORequest "${request}" has no point ${id}: ${range}`, id);
  }
  const loss = point.loss;
  const failure = point.reason;
  if ("loss" in outcome) {
    if (loss !== undefined) {
      if (loss === outcome.loss) return "done";
      throw new OutcomeConflictError(
        `point ${id} of "${request}" already has the loss ${loss}; the first reported loss stands`,
        id,
      );
    }
    if (failure !== undefined) {
      throw new OutcomeConflictError(
        `point ${id} of "${request}" was reported failed (${failure}); it takes no loss`,
        id,
      );
    }
    return "patch";
  }
  if (failure !== undefined) {
    if (failure === outcome.reason) return "done";
    throw new OutcomeConflictError(
      `point ${id} of "${request}" was already reported failed (${failure})`,
      id,
    );
  }
  if (loss !== undefined) {
    throw new OutcomeConflictError(
      `point ${id} of "${request}" already has the loss ${loss}; an evaluated point cannot fail`,
      id,
    );
  }
  return "patch";
}

/** Phase is an HPORequest's phase. */
export type Phase = NonNullable<HPORequestStatus["phase"]>;

/** endedPhases are the phases after which no more points come (unless the spec changes). */
export const endedPhases: readonly Phase[] = ["Finished", "SubFinished", "Failed"];

/** RequestSummary is a request's state, from the request alone. */
export interface RequestSummary {
  namespace: string;
  name: string;
  method: string;
  direction: "minimize" | "maximize";
  /** undefined until the operator has written a status. */
  phase: Phase | undefined;
  message: string;
  /** The status describes the current spec (status.observedGeneration is metadata.generation). */
  observed: boolean;
  /** An ended phase for the current spec: no more points will come. */
  ended: boolean;
  points: { total: number; evaluated: number; unevaluated: number; failed: number };
  maxPoints: number | undefined;
  best: { id: string; params: Record<string, unknown>; loss: number } | undefined;
  generations: number;
  conditions: Condition[];
}

/** RequestStatus adds what needs the points: the best loss so far after each evaluated point. */
export interface RequestStatus extends RequestSummary {
  /** Best-so-far loss over the evaluated points in id order (the convergence curve). */
  convergence: number[];
}

/** summarize reads a request's status. */
export function summarize(req: HPORequest): RequestSummary {
  const st = req.status;
  const generation = req.metadata?.generation;
  const observed = st?.observedGeneration !== undefined && st.observedGeneration === generation;
  const phase = st?.phase;
  const best = st?.best;
  return {
    namespace: req.metadata?.namespace ?? "",
    name: req.metadata?.name ?? "",
    method: req.spec.method,
    direction: req.spec.objective?.direction ?? "minimize",
    phase,
    message: st?.message ?? (phase ? "" : "waiting for the operator to pick up the request"),
    observed,
    ended: observed && phase !== undefined && endedPhases.includes(phase),
    points: {
      total: st?.points?.total ?? 0,
      evaluated: st?.points?.evaluated ?? 0,
      unevaluated: st?.points?.unevaluated ?? 0,
      failed: st?.points?.failed ?? 0,
    },
    maxPoints: req.spec.maxPoints,
    best:
      best?.id !== undefined && best.loss !== undefined
        ? { id: best.id, params: best.params ?? {}, loss: best.loss }
        : undefined,
    generations: st?.generations ?? 0,
    conditions: st?.conditions ?? [],
  };
}

/** convergence returns the best loss so far after each evaluated point, in id order. */
export function convergence(points: readonly Point[], direction: "minimize" | "maximize"): number[] {
  const out: number[] = [];
  for (const p of selectPoints(points, { status: "evaluated" })) {
    if (p.loss === undefined) continue;
    const prev = out.at(-1);
    const better = prev === undefined || (direction === "minimize" ? p.loss < prev : p.loss > prev);
    out.push(better ? p.loss : (prev as number));
  }
  return out;
}
