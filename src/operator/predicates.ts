/**
 * Predicates: which watch events are worth a reconcile. The operator's own status writes change
 * neither metadata.generation nor labels, so they do not loop back into the queue.
 */
import type { EventType, KubeObject } from "../runtime/informer.ts";

function generationChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return obj.metadata?.generation !== old?.metadata?.generation;
}

function labelsChanged(obj: KubeObject, old: KubeObject | undefined): boolean {
  return JSON.stringify(obj.metadata?.labels ?? {}) !== JSON.stringify(old?.metadata?.labels ?? {});
}

/** requestChanged: a new or deleted request, a spec change, a label change, or deletion started. */
export function requestChanged(type: EventType, obj: KubeObject, old: KubeObject | undefined): boolean {
  if (type !== "MODIFIED") return true;
  return (
    generationChanged(obj, old) ||
    labelsChanged(obj, old) ||
    Boolean(obj.metadata?.deletionTimestamp) !== Boolean(old?.metadata?.deletionTimestamp)
  );
}

/**
 * setChanged: a new or deleted set, a change of its spec (reported losses and failures), or reports
 * its status has not merged yet. The last matters because the cache may already hold the newer
 * generation (the reply of the operator's own write carries it), so old and new look alike.
 */
export function setChanged(
  type: EventType,
  obj: KubeObject & { status?: { observedGeneration?: number } },
  old: KubeObject | undefined,
): boolean {
  if (type !== "MODIFIED" || generationChanged(obj, old)) return true;
  return obj.metadata?.generation !== undefined && obj.status?.observedGeneration !== obj.metadata.generation;
}
