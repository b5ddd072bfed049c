/**
 * Failures that show: pure rules for a generation that cannot go on. An object the API server
 * refuses (invalid, denied by an admission webhook or policy, over a quota) fails the attempt with
 * the API server's own words and counts against the request's retries; a write refused as too large
 * fails the generation for good, since trying again sends the same bytes. docs/lifecycle.md.
 */
import type { HPORequestStatus, HPORequestStatusLastGeneration } from "../api/index.ts";
import {
  AlreadyExistsError,
  ApiError,
  ConflictError,
  InvalidError,
  NotFoundError,
  TooLargeError,
  UnavailableError,
} from "../runtime/errors.ts";
import type { Desired } from "./conditions.ts";

/** Refusal is a write the API server refused for good: its words, and whether a retry could help. */
export interface Refusal {
  message: string;
  /** terminal: the same write would be refused again (too large); the request fails at once. */
  terminal: boolean;
}

/** TOO_LONG_CAUSES are the field-error reasons of an object over a size limit (422 Invalid). */
const TOO_LONG_CAUSES = new Set(["FieldValueTooLong", "FieldValueTooMany"]);

/**
 * refusalOf classifies a failed write of `what` (such as "ConfigMap x"): a refusal when the API
 * server answered and will answer the same (invalid, forbidden, denied, too large), undefined when
 * the call may succeed later (the server is unreachable, overloaded, or a conflict) and should be
 * retried by the work queue.
 */
export function refusalOf(err: unknown, what: string): Refusal | undefined {
  if (!(err instanceof ApiError)) return undefined;
  if (err instanceof UnavailableError || err instanceof ConflictError) return undefined;
  if (err instanceof NotFoundError || err instanceof AlreadyExistsError) return undefined;
  const words = err.status?.message ?? err.message;
  const tooLong =
    err instanceof InvalidError &&
    (err.status?.details?.causes ?? []).some((c) => TOO_LONG_CAUSES.has(c.reason ?? ""));
  if (err instanceof TooLargeError || tooLong) {
    return {
      terminal: true,
      message: `the API server refused ${what} as too large (HTTP ${err.statusCode}): ${words}; the input grows with the request's points and search space: use a smaller search space or fewer points`,
    };
  }
  return { terminal: false, message: `the API server refused ${what} (HTTP ${err.statusCode}): ${words}` };
}

/** LastGeneration is the request's status.lastGeneration. */
type LastGeneration = NonNullable<HPORequestStatusLastGeneration>;

/**
 * failedRecord is lastGeneration once an attempt has failed with message; a terminal failure is
 * marked retryable: false, so the request fails without using its retries.
 */
export function failedRecord(lg: LastGeneration, message: string, terminal: boolean): LastGeneration {
  const out: LastGeneration = { ...lg, state: "Failed", message, added: 0 };
  if (terminal) out.retryable = false;
  else delete out.retryable;
  return out;
}

/** cannotRetry tells a failed generation that must not be tried again (retryable: false). */
export function cannotRetry(lg: HPORequestStatusLastGeneration | undefined): boolean {
  return lg?.state === "Failed" && lg.retryable === false;
}

/**
 * retryCondition is the Generating condition while a failed attempt waits for its retry: the
 * failure, in the words of whoever refused it, shows in status at once, not only in an event.
 */
export function retryCondition(
  lg: HPORequestStatusLastGeneration | undefined,
  retries: number,
): Desired | undefined {
  if (lg?.state !== "Failed" || cannotRetry(lg)) return undefined;
  const attempts = lg.attempts ?? 1;
  if (attempts > retries) return undefined;
  return {
    type: "Generating",
    status: "False",
    reason: "AttemptFailed",
    message: `generation ${lg.number} failed (attempt ${attempts} of ${retries + 1}), retried with backoff: ${lg.message ?? "no message"}`,
  };
}

/**
 * statusRefusal is the Warning to tell when the API server refuses a request's status write for
 * good (422, or too large), with the status's own message: without it the failure would show
 * nowhere, since the status is what was refused. Undefined for a failure worth retrying.
 */
export function statusRefusal(err: unknown, status: HPORequestStatus): string | undefined {
  if (!(err instanceof InvalidError || err instanceof TooLargeError)) return undefined;
  const words = err.status?.message ?? err.message;
  const verdict = status.message ? `; the operator's verdict was: ${status.message}` : "";
  return `the API server refuses this request's status (HTTP ${err.statusCode}): ${words}${verdict}; fix the spec, or delete the request and create it again`;
}
