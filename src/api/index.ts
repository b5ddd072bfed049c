/**
 * The hpo.dev/v1alpha1 API: the generated types of crds/ and the names the rest of the code uses.
 * Never edit the types here: change the CRD and run `npm run generate`.
 */
import type {
  HPORequestSpecSearchSpaceEntry,
  HPORequestStatusConditionsItem,
  HyperParameterSetStatusPointsItem,
} from "./generated/types.ts";

export * from "./generated/types.ts";

/** Group is the API group of every kind of this project. */
export const Group = "hpo.dev";
/** Version is the served and stored API version. */
export const Version = "v1alpha1";

/** Parameter is one hyperparameter of a request's searchSpace. */
export type Parameter = HPORequestSpecSearchSpaceEntry;
/** Point is one point of a HyperParameterSet's status. */
export type Point = HyperParameterSetStatusPointsItem;
/** Condition is a status condition in the metav1.Condition shape. */
export type Condition = HPORequestStatusConditionsItem;
