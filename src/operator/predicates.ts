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
 * setChanged: a new or deleted set, or a change of its spec (reported losses and failures). The
 * informer compares each event with the previous watched copy, so a report is news even when the
 * reply of the operator's own status write already carried it into the cache.
 */
export function setChanged(type: EventType, obj: KubeObject, old: KubeObject | undefined): boolean {
  return type !== "MODIFIED" || generationChanged(obj, old);
}
