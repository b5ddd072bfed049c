/**
 * The hpo.dev/v1alpha1 API: the generated types of crds/ and the names the rest of the code uses.
 * Never edit the types here: change the CRD and run `npm run generate`.
 */
import type {
  HPORequest,
  HPORequestSpecSearchSpaceEntry,
  HPORequestStatusConditionsItem,
  HyperParameterSetStatusPointsItem,
} from "./generated/types.ts";

export * from "./generated/types.ts";
export {
  initialOf,
  type Point,
  type PointSource,
  type PointState,
  pointsOfSet,
  pointsOfSets,
  pointsOfSource,
} from "./points.ts";
export * from "./shards.ts";

/** Group is the API group of every kind of this project. */
export const Group = "hpo.dev";
/** Version is the served and stored API version. */
export const Version = "v1alpha1";

/** Parameter is one hyperparameter of a request's searchSpace. */
export type Parameter = HPORequestSpecSearchSpaceEntry;
/** StoredPoint is one point as a HyperParameterSet's status stores it (no state: see points.ts). */
export type StoredPoint = HyperParameterSetStatusPointsItem;
/** Condition is a status condition in the metav1.Condition shape. */
export type Condition = HPORequestStatusConditionsItem;

/** LABEL_REQUEST labels every object the operator creates for a request with the request's name. */
export const LABEL_REQUEST = "hpo.dev/request";

/**
 * controllerRef is the owner reference the operator puts on every object it creates for a request:
 * deleting the request deletes them (garbage collection), and blockOwnerDeletion keeps foreground
 * deletion of the request waiting for them.
 */
export function controllerRef(req: HPORequest) {
  return {
    apiVersion: req.apiVersion ?? "hpo.dev/v1alpha1",
    kind: "HPORequest",
    name: req.metadata?.name ?? "",
    uid: req.metadata?.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}
