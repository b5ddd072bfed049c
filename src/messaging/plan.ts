/**
 * What the announcer owes the broker, decided from the stored points and the request's status
 * alone: the batches above the confirmed watermark, in generation order, then the end message once
 * the request has ended. Also the status the announcer writes after trying. Pure functions.
 */
import type {
  Condition,
  HPORequest,
  HPORequestStatus,
  HPORequestStatusNotification,
  HyperParameterSet,
  Point,
} from "../api/index.ts";
import { setIndexOf } from "../api/shards.ts";
import type { SetsView } from "../controller/setsview.ts";
import { reasonOf } from "./errors.ts";
import type { EndInput } from "./messages.ts";

/** ConditionType is the condition the announcer owns. */
export const ConditionType = "Announced";

/** EndedPhases are the phases after which no more points come. */
export const EndedPhases: readonly string[] = ["Finished", "SubFinished", "Failed"];

/** Batch is the points one generation stored. */
export interface Batch {
  generation: number;
  points: Point[];
}

/** Step is one message to send: a batch, or the end of the request. */
export type Step = { kind: "batch"; batch: Batch } | { kind: "end"; end: EndInput; key: string };

/**
 * batchesOf groups points by generation, in order. Generation 0 (initial points) keeps only the
 * points given without a loss: those still need a training; a batch with no point is dropped.
 */
export function batchesOf(points: readonly Point[], req: HPORequest): Batch[] {
  const initial = req.spec.initialPoints ?? [];
  const byGen = new Map<number, Point[]>();
  for (const p of points) {
    const g = p.generation ?? 0;
    if (g === 0 && initial[Number(p.id) - 1]?.loss != null) continue;
    const batch = byGen.get(g);
    if (batch) batch.push(p);
    else byGen.set(g, [p]);
  }
  return [...byGen.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([generation, pts]) => ({
      generation,
      points: [...pts].sort((a, b) => Number(a.id) - Number(b.id)),
    }));
}

/**
 * unconfirmedSets are the sets that can hold points of generations above mark (the confirmed
 * watermark): from the set with the highest ids down to the first whose first point is of
 * generation mark or below. Points are stored in id order, their generations with them, so the
 * sets below hold nothing to announce; a request of 100,000 points is not read whole for each look.
 */
export function unconfirmedSets(
  view: SetsView,
  perSet: number | undefined,
  mark: number,
): HyperParameterSet[] {
  if (!perSet || mark < 0 || view.highestFirstId === 0) return view.all();
  const out: HyperParameterSet[] = [];
  for (let k = setIndexOf(view.highestFirstId, perSet); k >= 1; k--) {
    const set = view.get(k);
    if (!set) continue;
    out.push(set);
    const first = set.status?.points?.[0];
    if (first && (first.generation ?? 0) <= mark) break;
  }
  return out;
}

/** endKeyOf names a request's end: the phase and how many generations ran. */
export function endKeyOf(status: HPORequestStatus | undefined): string {
  return `${status?.phase ?? ""}/${status?.generations ?? 0}`;
}

/**
 * stored tells whether generation g is stored whole: a batch may span several sets, written one
 * after another, and is announced only once the request's status records it (initial points: once
 * a generation is recorded, or every initial point is stored).
 */
function stored(req: HPORequest, g: number, points: readonly Point[]): boolean {
  const lg = req.status?.lastGeneration;
  if (g === 0) {
    if (lg !== undefined) return true;
    let initial = 0;
    for (const p of points) if (p.generation === 0) initial++;
    return initial >= (req.spec.initialPoints?.length ?? 0);
  }
  const n = lg?.number ?? 0;
  return g < n || (g === n && lg?.state === "Succeeded");
}

/** pendingSteps lists what the broker has not confirmed yet, in the order it must be sent. */
export function pendingSteps(req: HPORequest, points: readonly Point[]): Step[] {
  const n = req.status?.notification;
  const mark = n?.confirmedGeneration ?? -1;
  const all = batchesOf(points, req);
  const steps: Step[] = [];
  for (const batch of all) {
    if (batch.generation <= mark) continue;
    if (!stored(req, batch.generation, points)) break;
    steps.push({ kind: "batch", batch });
  }
  const phase = req.status?.phase ?? "";
  const key = endKeyOf(req.status);
  if (EndedPhases.includes(phase) && n?.endConfirmed !== key) {
    const end = { phase, message: req.status?.message ?? phase, generations: req.status?.generations ?? 0 };
    steps.push({ kind: "end", end, key });
  }
  return steps;
}

/** Attempt is what one round of sending achieved. */
export interface Attempt {
  /** confirmed are the steps the broker confirmed, in order. */
  confirmed: Step[];
  /** remaining counts the batch steps still unconfirmed. */
  remaining: number;
  error?: unknown;
  destination: string;
  requestId: number;
  workloadId: number;
  now: string;
}

/** notificationAfter is status.notification once an attempt is recorded. */
export function notificationAfter(
  current: HPORequestStatusNotification | undefined,
  a: Attempt,
): HPORequestStatusNotification {
  const next: HPORequestStatusNotification = {
    ...current,
    enabled: true,
    requestId: a.requestId,
    workloadId: a.workloadId,
    destination: a.destination,
    unconfirmedBatches: a.remaining,
  };
  for (const s of a.confirmed) {
    if (s.kind === "batch") next.confirmedGeneration = s.batch.generation;
    else next.endConfirmed = s.key;
  }
  if (a.confirmed.length > 0) {
    next.confirmedMessages = (current?.confirmedMessages ?? 0) + a.confirmed.length;
    next.lastConfirmedAt = a.now;
  }
  if (a.error !== undefined) next.lastError = errorText(a.error);
  else delete next.lastError;
  return next;
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}

/** Desired is the announcer's condition without its bookkeeping fields. */
export interface Desired {
  status: "True" | "False";
  reason: string;
  message: string;
}

/** conditionAfter is the Announced condition for an attempt (or for messaging being off). */
export function conditionAfter(a: Attempt | "disabled", confirmedMessages = 0): Desired {
  if (a === "disabled") {
    return {
      status: "False",
      reason: "MessagingDisabled",
      message:
        "no ActiveMQ broker is configured on the operator (--brokers / HPO_BROKERS): new points are not announced; read them from the HyperParameterSet",
    };
  }
  if (a.error !== undefined) {
    const waiting = `${a.remaining} batch${a.remaining === 1 ? "" : "es"} waiting`;
    return {
      status: "False",
      reason: reasonOf(a.error),
      message: `cannot deliver to ActiveMQ (${a.destination}): ${errorText(a.error)}; ${waiting}, retried with backoff; generation goes on`,
    };
  }
  return {
    status: "True",
    reason: "Delivered",
    message: `the broker confirmed every message so far (${confirmedMessages}) on ${a.destination}`,
  };
}

/** withCondition sets the announcer's condition in a list, keeping lastTransitionTime unless the status flips. */
export function withCondition(
  list: readonly Condition[] | undefined,
  d: Desired,
  observedGeneration: number,
  now: string,
): Condition[] {
  const old = list?.find((c) => c.type === ConditionType);
  const cond: Condition = {
    type: ConditionType,
    ...d,
    observedGeneration,
    lastTransitionTime: old?.status === d.status && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
  const others = (list ?? []).filter((c) => c.type !== ConditionType);
  return [...others, cond];
}

/** destinationOf is where a request's messages go: its own destination, else the operator's default. */
export function destinationOf(req: HPORequest, fallback: string): string {
  return req.spec.notification?.destination || fallback;
}
