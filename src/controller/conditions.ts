/**
 * Status conditions in the metav1.Condition shape: setting one keeps its lastTransitionTime unless
 * its status changes, so a condition tells when it last changed, as Kubernetes tools expect.
 */
import type { Condition } from "../api/index.ts";

/** conditionTypes are the conditions of an HPORequest the reconciler owns, in the order it lists them. */
export const conditionTypes = [
  "Ready",
  "SpecValid",
  "Generating",
  "Complete",
  "Failed",
  "Reconciling",
  "Stalled",
] as const;

/** ConditionType names the conditions of an HPORequest the reconciler owns. */
export type ConditionType = (typeof conditionTypes)[number];

/** Desired is a condition without its bookkeeping fields. */
export interface Desired {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** setConditions returns the conditions list with each desired condition set, in a stable order. */
export function setConditions(
  current: readonly Condition[] | undefined,
  desired: readonly Desired[],
  observedGeneration: number,
  now: string,
): Condition[] {
  const byType = new Map((current ?? []).map((c) => [c.type, c]));
  for (const d of desired) {
    const old = byType.get(d.type);
    byType.set(d.type, {
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: d.message,
      observedGeneration,
      lastTransitionTime: old && old.status === d.status ? old.lastTransitionTime : now,
    });
  }
  const order: readonly string[] = conditionTypes;
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  return [...byType.values()].sort((a, b) => rank(a.type) - rank(b.type) || a.type.localeCompare(b.type));
}
