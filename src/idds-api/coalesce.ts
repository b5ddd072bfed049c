/**
 * The coalescing policy of loss reports, pure: which reports of one batch (all for one
 * HyperParameterSet) go into its single merge patch of spec.losses, and what each PUT is answered.
 *
 * A set keeps the first loss of a point (a CEL rule of the CRD refuses a second different loss), so
 * the API answers a second, different loss with 409 ConflictRequestException, where iDDS would
 * overwrite it; the same loss again is answered as a success and writes nothing new. Two reports of
 * one point in one batch: the first decides, a later one with the same loss shares its answer, one
 * with another loss is refused.
 *
 * Without the set (the first, optimistic attempt) every report is written except those the request
 * alone decides (an initial point given with its loss); when the API server refuses the patch (a
 * report the set cannot take), the set is read and the batch planned again with it.
 */
import { type HPORequestSpec, type HyperParameterSet, pointsOfSet } from "../api/index.ts";
import { OutcomeConflictError, UnknownPointError } from "../client/errors.ts";
import { planReport } from "../client/model.ts";
import { IddsError, noObject } from "./envelope.ts";
import { toIddsId } from "./points.ts";

/** LossReport is one PUT: our point id (from 1) and its loss. */
export interface LossReport {
  id: string;
  loss: number;
}

/** Verdict is the answer to one report: written by the patch, already there, or refused. */
export type Verdict = { kind: "write" } | { kind: "done" } | { kind: "refused"; error: IddsError };

/** BatchPlan is the merge patch's losses and a verdict per report, in the reports' order. */
export interface BatchPlan {
  losses: Record<string, number>;
  verdicts: Verdict[];
}

/** conflict is the answer to a loss for a point that has another outcome. */
export function conflict(id: string, what: string): IddsError {
  return new IddsError(
    409,
    "ConflictRequestException",
    `point ${toIddsId(id)} ${what}; the first reported outcome stands (hpo-operator keeps the first loss)`,
  );
}

/** planBatch decides a batch of reports on one set (undefined: not read yet, the optimistic plan). */
export function planBatch(
  set: HyperParameterSet | undefined,
  initial: HPORequestSpec["initialPoints"],
  request: string,
  reports: readonly LossReport[],
): BatchPlan {
  const losses: Record<string, number> = {};
  const first = new Map<string, { loss: number; verdict: Verdict }>();
  const verdicts = reports.map((r): Verdict => {
    const earlier = first.get(r.id);
    if (earlier?.loss === r.loss) return earlier.verdict;
    if (earlier?.verdict.kind === "write") {
      return {
        kind: "refused",
        error: conflict(r.id, `was reported with the loss ${earlier.loss} just before`),
      };
    }
    if (earlier) return decideOne(set, initial, request, r);
    const verdict = decideOne(set, initial, request, r);
    first.set(r.id, { loss: r.loss, verdict });
    if (verdict.kind === "write") losses[r.id] = r.loss;
    return verdict;
  });
  return { losses, verdicts };
}

function decideOne(
  set: HyperParameterSet | undefined,
  initial: HPORequestSpec["initialPoints"],
  request: string,
  r: LossReport,
): Verdict {
  const given = initial?.[Number(r.id) - 1]?.loss;
  if (given !== undefined && given !== null) {
    if (given === r.loss) return { kind: "done" };
    return { kind: "refused", error: conflict(r.id, `is an initial point given with the loss ${given}`) };
  }
  if (!set) return { kind: "write" };
  try {
    return planReport(set, initial, request, r.id, { loss: r.loss }) === "done"
      ? { kind: "done" }
      : { kind: "write" };
  } catch (e) {
    return { kind: "refused", error: refusal(e, set, r.id, request) };
  }
}

function refusal(e: unknown, set: HyperParameterSet, id: string, request: string): IddsError {
  if (e instanceof UnknownPointError) {
    return noObject(`HPORequest "${request}" has no point ${toIddsId(id)} (yet)`);
  }
  if (e instanceof OutcomeConflictError) {
    const point = pointsOfSet(set).find((p) => p.id === id);
    const what =
      point?.loss !== undefined
        ? `already has the loss ${point.loss}`
        : `was reported failed (${point?.reason})`;
    return conflict(id, what);
  }
  throw e;
}

/** unknownSet is the verdict of every report whose set does not exist (no such points). */
export function unknownSet(request: string, reports: readonly LossReport[]): Verdict[] {
  return reports.map((r) => ({
    kind: "refused",
    error: noObject(`HPORequest "${request}" has no point ${toIddsId(r.id)} (yet)`),
  }));
}
