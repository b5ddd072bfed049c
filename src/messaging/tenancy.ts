/**
 * Broker tenancy: every request is announced under the operator's one broker login, so the
 * operator decides, by the admin's policy, where a namespace's messages may go and which
 * workload_id (hpo.dev/workload-id, such as a PanDA task id) it may claim. Pure: parsing the
 * policy (flags, see src/operator/config.ts) and judging one request. A refused request is told
 * (the Announced condition and a Warning event) and nothing of it is published. docs/messaging.md.
 */
import type { HPORequest } from "../api/index.ts";
import { WorkloadAnnotation } from "./messages.ts";

/** NamespacePlaceholder stands for the request's namespace in destinations and patterns. */
export const NamespacePlaceholder = "{namespace}";

/** WorkloadRule lets a namespace ("*": every namespace) use workload ids from low to high. */
export interface WorkloadRule {
  namespace: string;
  low: number;
  high: number;
}

/** TenancyPolicy is what the admin allows; the defaults allow anything (no tenancy). */
export interface TenancyPolicy {
  /**
   * destinations a request's own destination must match, "{namespace}" replaced by its namespace; a
   * pattern ending in "*" matches that prefix and a rest of letters, digits, ".", "_" and "-". Empty:
   * any destination.
   */
  destinations: string[];
  /** workloadIds: which ids each namespace may set; empty: no request may set one. */
  workloadIds: WorkloadRule[];
}

/** Verdict is a request's destination, or why its messages are refused. */
export type Verdict =
  | { ok: true; destination: string }
  | { ok: false; reason: "DestinationRefused" | "WorkloadIdRefused"; message: string };

const MAX_ID = Number.MAX_SAFE_INTEGER;

/** parseDestinationPatterns reads "/topic/hpo.{namespace}.*,/queue/shared" (empty: any destination). */
export function parseDestinationPatterns(list: string, what: string): string[] {
  const patterns = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of patterns) {
    if (!/^\/(topic|queue)\/[^\s*,>]+\*?$/.test(p))
      throw new Error(
        `${what}: "${p}" must look like /topic/NAME or /queue/NAME, optionally ending in * (a prefix), with {namespace} for the request's namespace`,
      );
  }
  return patterns;
}

/** parseWorkloadIds reads "team-a=1000-1999,team-b=4711,*=*" ("*" alone: any namespace, any id; empty: none). */
export function parseWorkloadIds(list: string, what: string): WorkloadRule[] {
  if (list.trim() === "*") return [{ namespace: "*", low: 1, high: MAX_ID }];
  return list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|\*)=(\*|(\d{1,16})(-(\d{1,16}))?)$/.exec(entry);
      const low = m?.[3] === "*" ? 1 : Number(m?.[4]);
      const high = m?.[3] === "*" ? MAX_ID : Number(m?.[6] ?? m?.[4]);
      if (!m || !(low >= 1 && high >= low && high <= MAX_ID))
        throw new Error(
          `${what}: "${entry}" must be NAMESPACE=ID, NAMESPACE=LOW-HIGH or NAMESPACE=* (NAMESPACE may be *), ids from 1`,
        );
      return { namespace: m[1] as string, low, high };
    });
}

/** destinationFor is where a request's messages go: its own destination, else the default, for its namespace. */
export function destinationFor(req: HPORequest, fallback: string): string {
  const ns = req.metadata?.namespace ?? "";
  return (req.spec.notification?.destination || fallback).replaceAll(NamespacePlaceholder, ns);
}

/**
 * checkDefault throws when the operator's default destination is outside the allowed patterns (for
 * a sample namespace): every request without its own destination would be refused.
 */
export function checkDefault(destination: string, patterns: readonly string[], what: string): void {
  const sample = "team-a";
  const d = destination.replaceAll(NamespacePlaceholder, sample);
  if (patterns.length > 0 && !patterns.some((p) => matches(d, p, sample)))
    throw new Error(
      `${what}: the default destination "${destination}" is not among the allowed destinations (${patterns.join(", ")}): requests without their own destination would all be refused; use {namespace} in both, such as /topic/hpo.{namespace}.points`,
    );
}

function matches(destination: string, pattern: string, ns: string): boolean {
  const p = pattern.replaceAll(NamespacePlaceholder, ns);
  if (!p.endsWith("*")) return destination === p;
  const prefix = p.slice(0, -1);
  return (
    destination.startsWith(prefix) &&
    /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(destination.slice(prefix.length))
  );
}

/** judge decides whether a request's messages may be published, and where. */
export function judge(req: HPORequest, policy: TenancyPolicy, fallback: string): Verdict {
  const ns = req.metadata?.namespace ?? "";
  const destination = destinationFor(req, fallback);
  if (policy.destinations.length > 0 && !policy.destinations.some((p) => matches(destination, p, ns))) {
    const allowed = policy.destinations.map((p) => p.replaceAll(NamespacePlaceholder, ns)).join(", ");
    const own = req.spec.notification?.destination
      ? "spec.notification.destination"
      : "the operator's default destination";
    return {
      ok: false,
      reason: "DestinationRefused",
      message: `${own} ${destination} is not allowed for namespace ${ns}: the cluster admin allows ${allowed} (a trailing * is any name made of letters, digits, ".", "_" and "-"); nothing is published until it is changed`,
    };
  }
  const annotated = req.metadata?.annotations?.[WorkloadAnnotation]?.trim();
  if (annotated === undefined) return { ok: true, destination };
  return workloadVerdict(annotated, ns, policy.workloadIds, destination);
}

function workloadVerdict(annotated: string, ns: string, rules: WorkloadRule[], destination: string): Verdict {
  const refuse = (why: string): Verdict => ({
    ok: false,
    reason: "WorkloadIdRefused",
    message: `annotation ${WorkloadAnnotation}="${annotated}" ${why}; nothing is published until it is changed or removed`,
  });
  if (!/^[1-9]\d{0,15}$/.test(annotated) || Number(annotated) > MAX_ID)
    return refuse(`is not a whole number from 1 to ${MAX_ID}`);
  const id = Number(annotated);
  const mine = rules.filter((r) => r.namespace === ns || r.namespace === "*");
  if (mine.some((r) => id >= r.low && id <= r.high)) return { ok: true, destination };
  if (mine.length === 0)
    return refuse(`is not allowed: the cluster admin lets namespace ${ns} set no workload id`);
  const ranges = mine.map((r) => (r.low === r.high ? `${r.low}` : `${r.low}-${r.high}`)).join(", ");
  return refuse(`is not allowed: the cluster admin lets namespace ${ns} use ${ranges}`);
}
