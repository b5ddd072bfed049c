/**
 * The lifecycle rules of an HPORequest, as pure functions of what was observed: when a generation
 * starts and how many points it asks for, when the request has ended and how, and the status
 * (phase, counts, best point, conditions, message) that follows. The reconciler carries them out.
 */
import type {
  Condition,
  HPORequest,
  HPORequestStatus,
  HPORequestStatusLastGeneration,
} from "../api/index.ts";
import { conditionTypes, type Desired, setConditions } from "./conditions.ts";
import type { Counts, Latest, Summary } from "./points.ts";

/** Phase is an HPORequest's phase. */
export type Phase = NonNullable<HPORequestStatus["phase"]>;

/** Policy holds the operator-level settings the rules depend on. */
export interface Policy {
  /** retries is the default retry budget of a failed generation (spec.generator.retries overrides). */
  retries: number;
  /** retryBaseMs is the first retry's delay; it doubles per attempt up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
}

/** GenerationPlan says what to do about generation now. */
export type GenerationPlan =
  | { kind: "start" | "retry" | "resume"; number: number; count: number; firstId: number; attempt: number }
  | { kind: "complete"; number: number; added: number; firstId: number }
  | { kind: "wait"; afterMs: number }
  | { kind: "none"; reason: IdleReason };

/** IdleReason says why no generation runs. */
export type IdleReason =
  | "Suspended"
  | "MaxPointsReached"
  | "Exhausted"
  | "GenerationFailed"
  | "WaitingForLosses";

/** retriesOf is the retry budget of a request. */
export function retriesOf(req: HPORequest, policy: Policy): number {
  return req.spec.generator?.retries ?? policy.retries;
}

/** retryDelayMs is the wait before attempt n+1 after n failed attempts. */
export function retryDelayMs(failedAttempts: number, policy: Policy): number {
  return Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** Math.max(0, failedAttempts - 1));
}

/** batchSize is how many points the next generation asks for: min(pointsPerGeneration, maxPoints - total). */
export function batchSize(req: HPORequest, total: number): number {
  const per = req.spec.pointsPerGeneration ?? 10;
  const cap = req.spec.maxPoints;
  return cap === undefined ? per : Math.max(0, Math.min(per, cap - total));
}

/** generationFailed tells whether the last generation failed past its retry budget. */
export function generationFailed(req: HPORequest, policy: Policy): boolean {
  const lg = req.status?.lastGeneration;
  return lg?.state === "Failed" && (lg.attempts ?? 1) > retriesOf(req, policy);
}

/** idleReason returns why no new generation may start, or undefined when one may. */
export function idleReason(req: HPORequest, counts: Counts, policy: Policy): IdleReason | undefined {
  if (generationFailed(req, policy)) return "GenerationFailed";
  if (req.status?.exhausted) return "Exhausted";
  if (req.spec.maxPoints !== undefined && counts.total >= req.spec.maxPoints) return "MaxPointsReached";
  if (req.spec.suspend) return "Suspended";
  if (counts.unevaluated > (req.spec.minUnevaluatedPoints ?? 0)) return "WaitingForLosses";
  return undefined;
}

/**
 * issuedUpTo is the id after the last one the request's status records as handed out. It keeps ids
 * from being reused when the set lost points the status still remembers (someone deleted the set).
 */
export function issuedUpTo(lg: HPORequestStatusLastGeneration | undefined): number {
  if (lg?.firstId === undefined) return 1;
  return lg.firstId + (lg.state === "Succeeded" ? (lg.added ?? 0) : 0);
}

/**
 * planGeneration decides what to do about generation, given the request and a summary of its stored
 * points (summary.latest: the highest generation stored, with its size and first id).
 */
export function planGeneration(req: HPORequest, summary: Summary, now: Date, policy: Policy): GenerationPlan {
  const lg = req.status?.lastGeneration;
  const stored: Latest = summary.latest;
  const next = Math.max(summary.maxId + 1, issuedUpTo(lg));
  if (stored.number > (lg?.number ?? 0) || (lg?.state === "Running" && stored.number === lg.number)) {
    // The sets hold a batch the request's status does not record as done (the operator stopped
    // between storing the batch and writing the request's status): record it, never repeat it.
    return { kind: "complete", ...stored };
  }
  if (lg?.state === "Running" && lg.number !== undefined) {
    // A generation was announced before its side effects (a Job) and has stored nothing: resume it.
    return {
      kind: "resume",
      number: lg.number,
      count: lg.requested ?? batchSize(req, summary.counts.total),
      firstId: lg.firstId ?? next,
      attempt: lg.attempts ?? 1,
    };
  }
  const counts = summary.counts;
  const idle = idleReason(req, counts, policy);
  if (idle) return { kind: "none", reason: idle };
  const count = batchSize(req, counts.total);
  if (lg?.state === "Failed" && lg.number !== undefined) {
    const attempts = lg.attempts ?? 1;
    const due = Date.parse(lg.completedAt ?? "") + retryDelayMs(attempts, policy);
    if (Number.isFinite(due) && due > now.getTime()) return { kind: "wait", afterMs: due - now.getTime() };
    return { kind: "retry", number: lg.number, count, firstId: next, attempt: attempts + 1 };
  }
  return {
    kind: "start",
    number: Math.max(lg?.number ?? 0, stored.number) + 1,
    count,
    firstId: next,
    attempt: 1,
  };
}

/** StatusInput is what the status is computed from. */
export interface StatusInput {
  req: HPORequest;
  summary: Summary;
  lastGeneration: HPORequestStatusLastGeneration | undefined;
  exhausted: boolean;
  pointsPerSet: number;
  /** sets is how many sets the request has had (the highest set number). */
  sets: number;
  deletedSets: number[];
  seed: number;
  now: Date;
  policy: Policy;
}

/** phaseOf computes the phase. */
export function phaseOf(input: StatusInput, counts: Counts): Phase {
  const { req, lastGeneration: lg } = input;
  if (lg?.state === "Running") return "Generating";
  const probe: HPORequest = {
    ...req,
    status: { ...req.status, lastGeneration: lg, exhausted: input.exhausted },
  };
  const failed = generationFailed(probe, input.policy);
  const capped = req.spec.maxPoints !== undefined && counts.total >= req.spec.maxPoints;
  const ended = failed || input.exhausted || capped;
  if (ended && counts.unevaluated === 0) {
    if (failed && counts.evaluated === 0) return "Failed";
    return counts.failed > 0 || failed ? "SubFinished" : "Finished";
  }
  if (req.spec.suspend) return "Suspended";
  return counts.total === 0 ? "Pending" : "Waiting";
}

function describeState(input: StatusInput, phase: Phase, counts: Counts): string {
  const { req, lastGeneration: lg } = input;
  const best = input.summary.best;
  const bestText = best ? `; best loss ${best.loss} (point ${best.id})` : "";
  const tally = `${counts.total} points, ${counts.evaluated} evaluated, ${counts.failed} failed, ${counts.unevaluated} waiting for a loss`;
  switch (phase) {
    case "Generating":
      return `generation ${lg?.number} is running (attempt ${lg?.attempts ?? 1}, ${lg?.requested} points asked for); ${tally}`;
    case "Finished":
    case "SubFinished":
    case "Failed": {
      const why = endReason(input, counts);
      return `${phase}: ${why}; ${tally}${bestText}`;
    }
    case "Suspended":
      return `suspended: no new generation until spec.suspend is false; losses are still recorded; ${tally}${bestText}`;
    case "Pending":
      return "no points yet";
    default: {
      const ended = endReason(input, counts);
      if (ended !== "")
        return `no more points will be generated (${ended}); waiting for the last losses; ${tally}${bestText}`;
      const threshold = req.spec.minUnevaluatedPoints ?? 0;
      return `${tally}${bestText}; the next generation starts when ${threshold} or fewer are waiting`;
    }
  }
}

/** endReason says why no more points will come, or "" when more may. */
export function endReason(input: StatusInput, counts: Counts): string {
  const { req, lastGeneration: lg } = input;
  if (lg?.state === "Failed" && (lg.attempts ?? 1) > (req.spec.generator?.retries ?? input.policy.retries)) {
    return `generation ${lg.number} failed ${lg.attempts} times: ${lg.message ?? "no message"}`;
  }
  if (input.exhausted) return "the generator has no more points to propose";
  if (req.spec.maxPoints !== undefined && counts.total >= req.spec.maxPoints)
    return `maxPoints (${req.spec.maxPoints}) reached`;
  return "";
}

function conditionsFor(input: StatusInput, phase: Phase, message: string): Desired[] {
  const lg = input.lastGeneration;
  const generating = lg?.state === "Running";
  const done = phase === "Finished" || phase === "SubFinished";
  const failedWhy = phase === "Failed" ? message : "the request has not failed";
  return [
    phase === "Failed"
      ? { type: "Ready", status: "False", reason: "GenerationFailed", message }
      : { type: "Ready", status: "True", reason: phase, message },
    { type: "SpecValid", status: "True", reason: "Valid", message: "the spec is valid" },
    generating
      ? { type: "Generating", status: "True", reason: "GenerationRunning", message }
      : { type: "Generating", status: "False", reason: "Idle", message: "no generation is running" },
    done
      ? { type: "Complete", status: "True", reason: phase, message }
      : { type: "Complete", status: "False", reason: "InProgress", message: "the request has not ended" },
    phase === "Failed"
      ? { type: "Failed", status: "True", reason: "GenerationFailed", message: failedWhy }
      : { type: "Failed", status: "False", reason: "NotFailed", message: failedWhy },
    ...kstatusConditions(phase, (lg?.number ?? 0) <= 1, "GenerationFailed", message),
  ];
}

/**
 * kstatusConditions are the two conditions kstatus (Flux's wait, kpt) reads: Reconciling while the
 * request has not handed out its first points, Stalled when it has failed. docs/gitops.md.
 */
export function kstatusConditions(
  phase: Phase,
  firstGeneration: boolean,
  failReason: string,
  message: string,
): Desired[] {
  const reconciling = phase === "Pending" || (phase === "Generating" && firstGeneration);
  return [
    reconciling
      ? { type: "Reconciling", status: "True", reason: phase, message }
      : { type: "Reconciling", status: "False", reason: "NotApplicable", message: "" },
    phase === "Failed"
      ? { type: "Stalled", status: "True", reason: failReason, message }
      : { type: "Stalled", status: "False", reason: "NotApplicable", message: "" },
  ];
}

/** buildStatus computes the whole status of a valid request. */
export function buildStatus(input: StatusInput): HPORequestStatus {
  const { req, summary, now } = input;
  const counts = summary.counts;
  const phase = phaseOf(input, counts);
  const message = describeState(input, phase, counts);
  const best = summary.best;
  const generation = req.metadata?.generation ?? 0;
  const status: HPORequestStatus = {
    phase,
    observedGeneration: generation,
    message,
    conditions: setConditions(
      ownConditions(req.status?.conditions),
      conditionsFor(input, phase, message),
      generation,
      now.toISOString(),
    ),
    points: counts,
    generations: input.lastGeneration?.number ?? 0,
    pointsPerSet: input.pointsPerSet,
    sets: input.sets,
    seed: input.seed,
  };
  if (best) status.best = best;
  if (input.lastGeneration) status.lastGeneration = input.lastGeneration;
  if (input.exhausted) status.exhausted = true;
  if (input.deletedSets.length > 0) status.deletedSets = input.deletedSets;
  return status;
}

/** reconcilerFields are the status fields the reconciler writes (its server-side apply field set). */
export const reconcilerFields = [
  "phase",
  "observedGeneration",
  "message",
  "conditions",
  "points",
  "best",
  "generations",
  "exhausted",
  "seed",
  "lastGeneration",
  "pointsPerSet",
  "sets",
  "deletedSets",
] as const;

/** ownConditions keeps the conditions the reconciler owns (the announcer owns Announced). */
export function ownConditions(conditions: readonly Condition[] | undefined): Condition[] {
  return (conditions ?? []).filter((c) => (conditionTypes as readonly string[]).includes(c.type));
}

/** ownFields keeps the status fields the reconciler owns. */
export function ownFields(status: HPORequestStatus | undefined): HPORequestStatus {
  const out: Record<string, unknown> = {};
  for (const k of reconcilerFields) {
    const v = status?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out as HPORequestStatus;
}

/** invalidStatus is the status of a request whose spec cannot be served: nothing is created. */
export function invalidStatus(
  req: HPORequest,
  problem: string,
  now: Date,
  reason = "InvalidSpec",
): HPORequestStatus {
  const generation = req.metadata?.generation ?? 0;
  // A spec the admin's policy refuses is valid as written: its message says it is refused, not invalid.
  const message = reason === "InvalidSpec" ? `invalid spec: ${problem}` : problem;
  return {
    ...ownFields(req.status),
    phase: "Failed",
    observedGeneration: generation,
    message,
    conditions: setConditions(
      ownConditions(req.status?.conditions),
      [
        { type: "Ready", status: "False", reason, message },
        { type: "SpecValid", status: "False", reason, message },
        {
          type: "Generating",
          status: "False",
          reason,
          message: `nothing is generated for ${reason === "InvalidSpec" ? "an invalid spec" : "a refused spec"}`,
        },
        { type: "Complete", status: "False", reason, message: "the request cannot run" },
        { type: "Failed", status: "True", reason, message },
        ...kstatusConditions("Failed", false, reason, message),
      ],
      generation,
      now.toISOString(),
    ),
  };
}
