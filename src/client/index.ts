/**
 * hpo-operator/client: the typed client of HPORequests (see client.ts and docs/client.md).
 */
export type { Condition, HPORequest, HyperParameterSet, Point } from "../api/index.ts";
export {
  type ClientOptions,
  defaultClient,
  failHyperParameter,
  getHyperParameters,
  getStatus,
  HpoClient,
  type ReportResult,
  type RequestRef,
  updateHyperParameter,
  type WatchOptions,
  watchRequest,
} from "./client.ts";
export {
  ApiNotInstalledError,
  HpoClientError,
  InvalidArgumentError,
  OutcomeConflictError,
  RequestDeletedError,
  RequestNotFoundError,
  UnknownPointError,
} from "./errors.ts";
export {
  convergence,
  endedPhases,
  type Phase,
  type PointStatus,
  pointStatusValues,
  type Query,
  type RequestStatus,
  type RequestSummary,
  selectPoints,
  summarize,
} from "./model.ts";
