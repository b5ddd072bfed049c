/**
 * Whose an object of a generation is, by its controller owner reference: a Job or ConfigMap is
 * adopted by the UID of its owner, never by its name alone. Pure.
 */
import type { HPORequest } from "../api/index.ts";

/** OwnerReference is the part of an owner reference read here. */
export interface OwnerReference {
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/** Owned is an object's relation to a request. */
export type Owned =
  /** its controller is the request */
  | "ours"
  /** its controller is an HPORequest of the same name and another UID: the request's deleted former self */
  | "predecessor"
  /** anything else: no controller, or another kind or name */
  | "foreign";

/** OwnedObject is the part of an object read here. */
export interface OwnedObject {
  metadata?: { ownerReferences?: OwnerReference[] };
}

/** ownership says whose obj is, seen from req. */
export function ownership(obj: OwnedObject, req: HPORequest): Owned {
  const ref = (obj.metadata?.ownerReferences ?? []).find((o) => o.controller);
  if (!ref) return "foreign";
  if (ref.uid === req.metadata?.uid) return "ours";
  return ref.kind === "HPORequest" && ref.name === req.metadata?.name ? "predecessor" : "foreign";
}
