/**
 * Translates an iDDS HyperParameterOpt request (the body idds-client's `add_request` posts, or its
 * `request_metadata` alone) into an HPORequest, then checks the result as `hpo-operator validate`
 * does, so a translation that the API server or the operator would refuse is never returned. Every
 * field that cannot be translated throws an IddsConversionError naming the iDDS field; fields that
 * iDDS itself ignored, or that have no meaning on Kubernetes, are dropped with a note. Pure.
 *
 * The mapping (docs/idds-migration.md has the table):
 *   request_metadata.method                      spec.method (docker and container -> container)
 *   request_metadata.opt_space                   spec.optSpace, verbatim (every iDDS form)
 *   request_metadata.max_points                  spec.maxPoints
 *   request_metadata.num_points_per_generation   spec.pointsPerGeneration (or num_points_per_iteration)
 *   request_metadata.min_unevaluated_points      spec.minUnevaluatedPoints
 *   request_metadata.initial_points [(p, loss)]  spec.initialPoints [{params, loss}]
 *   sandbox / arguments / workdir / output_json  spec.generator image / args / workdir / outputFile
 *   workload_id                                  the hpo.dev/workload-id annotation (message workload_id)
 */
import type { HPORequest, HPORequestSpec, HPORequestSpecInitialPointsItem } from "../api/index.ts";
import { describe, isRecord } from "../generators/canonical.ts";
import { WorkloadAnnotation } from "../messaging/messages.ts";
import { validateObject } from "../validation/manifest.ts";
import { at, checkKeys, type Fields, IddsConversionError, integerAt, isAbsent, objectAt } from "./fields.ts";
import { type Resolved, resolveMethod } from "./method.ts";
import { HyperParameterOpt, RequestTypes, requestTypeOf } from "./request-type.ts";
import { fieldInIdds } from "./validate.ts";

export { IddsConversionError } from "./fields.ts";

/** ConvertOptions choose what the iDDS request does not say. */
export interface ConvertOptions {
  /** namespace of the HPORequest (omitted: none, so kubectl uses its current namespace). */
  namespace?: string;
  /** name of the HPORequest; omitted: hpo-<workload_id>, else generateName. */
  name?: string;
  /** generateName when there is neither name nor workload_id (default "hpo-"). */
  generateName?: string;
  /** nevergradOptimizer picks another optimizer of nevergrad's registry for method: nevergrad. */
  nevergradOptimizer?: string;
  /** labels and annotations to add to the HPORequest. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Conversion is the translated request and notes on what was dropped, and why. */
export interface Conversion {
  request: HPORequest;
  notes: string[];
}

/** The add_request fields that are bookkeeping of iDDS's own database: dropped without a note. */
const quietTopLevel = [
  "requester",
  "username",
  "userdn",
  "transform_tag",
  "locking",
  "new_poll_period",
  "update_poll_period",
  "command",
  "new_retries",
  "update_retries",
  "max_new_retries",
  "max_update_retries",
  "additional_data_storage",
  "max_processing_requests",
  "processing_metadata",
];

/** The add_request fields with an effect in iDDS that has no counterpart: dropped with a note. */
const notedTopLevel: Record<string, string> = {
  scope: "iDDS names the request's collections itself; the HPORequest's name and namespace name it",
  name: "iDDS replaces it by its own collection name; the HPORequest's name comes from --name or workload_id",
  status: "a new HPORequest always starts Pending; suspend one with spec.suspend: true",
  priority: "Kubernetes schedules generator Jobs by their PriorityClass, not a request priority",
  lifetime: "HPORequests do not expire; delete the HPORequest when it is no longer needed",
  site: "PanDA sites are chosen by PanDA (JEDI), not by the HPORequest",
  cloud: "PanDA clouds are chosen by PanDA (JEDI), not by the HPORequest",
  queue: "PanDA queues are chosen by PanDA (JEDI), not by the HPORequest",
  campaign: "iDDS campaigns have no counterpart; use a label on the HPORequest",
  campaign_scope: "iDDS campaigns have no counterpart; use a label on the HPORequest",
  campaign_group: "iDDS campaigns have no counterpart; use a label on the HPORequest",
  campaign_tag: "iDDS campaigns have no counterpart; use a label on the HPORequest",
};

const metadataKeys = [
  "workload_id",
  "method",
  "opt_space",
  "max_points",
  "num_points_per_generation",
  "num_points_per_iteration",
  "min_unevaluated_points",
  "initial_points",
  "executable",
  "sandbox",
  "arguments",
  "workdir",
  "output_json",
  "parameters",
  "is_pseudo_input",
];

/** convertIddsRequest translates an iDDS HyperParameterOpt request into an HPORequest (notes dropped). */
export function convertIddsRequest(request: unknown, options: ConvertOptions = {}): HPORequest {
  return translateIddsRequest(request, options).request;
}

/** translateIddsRequest translates an iDDS HyperParameterOpt request and says what it dropped. */
export function translateIddsRequest(request: unknown, options: ConvertOptions = {}): Conversion {
  const body = objectAt(request, "", "an iDDS request: a JSON object such as add_request's body");
  const notes: string[] = [];
  const whole = "request_metadata" in body || "request_type" in body;
  const top: Fields = { path: "", values: whole ? body : {} };
  const meta: Fields = {
    path: "request_metadata",
    values: whole ? objectAt(body.request_metadata, "request_metadata", "a JSON object") : body,
  };
  if (whole) readTopLevel(top, notes);
  if ("workflow" in meta.values || "build_workflow" in meta.values) {
    throw new IddsConversionError(
      at(meta, "workflow" in meta.values ? "workflow" : "build_workflow"),
      "iDDS workflows (idds-workflow objects) cannot be translated; only HyperParameterOpt requests can",
    );
  }
  checkKeys(meta, metadataKeys);
  const workloadId = workloadIdOf(top, meta);
  const method = resolveMethod(meta, options.nevergradOptimizer, notes);
  const spec = specOf(meta, method);
  const hpo: HPORequest = {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: metadataOf(options, workloadId),
    spec,
  };
  check(hpo);
  return { request: hpo, notes };
}

function readTopLevel(top: Fields, notes: string[]): void {
  const type = requestTypeOf(top.values.request_type);
  if (type !== HyperParameterOpt) {
    throw new IddsConversionError(
      "request_type",
      `${RequestTypes[type]} (${type}) requests cannot be translated; only HyperParameterOpt (4) requests can`,
    );
  }
  checkKeys(top, [
    "request_type",
    "request_metadata",
    "workload_id",
    ...quietTopLevel,
    ...Object.keys(notedTopLevel),
  ]);
  for (const [key, why] of Object.entries(notedTopLevel)) {
    const v = top.values[key];
    if (isAbsent(v) || v === 0 || (key === "status" && isNewStatus(v))) continue;
    notes.push(`${key} (${describe(v)}) is dropped: ${why}`);
  }
}

/** isNewStatus reports whether status is RequestStatus.New (0) in any of its forms. */
function isNewStatus(v: unknown): boolean {
  const attrs = isRecord(v) && isRecord(v.attributes) ? v.attributes : undefined;
  return v === "New" || (attrs !== undefined && attrs._value_ === 0);
}

/** workloadIdOf reads workload_id: the top-level one wins, as in iDDS. */
function workloadIdOf(top: Fields, meta: Fields): string | undefined {
  const fields = isAbsent(top.values.workload_id) ? meta : top;
  const n = integerAt(fields, "workload_id", 1, Number.MAX_SAFE_INTEGER);
  return n === undefined ? undefined : String(n);
}

function metadataOf(options: ConvertOptions, workloadId: string | undefined): HPORequest["metadata"] {
  const name = options.name ?? (workloadId ? `hpo-${workloadId}` : undefined);
  const annotations = { ...options.annotations, ...(workloadId ? { [WorkloadAnnotation]: workloadId } : {}) };
  return {
    ...(name ? { name } : { generateName: options.generateName ?? "hpo-" }),
    ...(options.namespace ? { namespace: options.namespace } : {}),
    ...(options.labels && Object.keys(options.labels).length > 0 ? { labels: options.labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

function specOf(meta: Fields, method: Resolved): HPORequestSpec {
  const spec: HPORequestSpec = { method: method.method };
  const optSpace = meta.values.opt_space;
  if (!isAbsent(optSpace))
    spec.optSpace = objectAt(
      optSpace,
      "request_metadata.opt_space",
      "a map from parameter name to its definition",
    );
  const maxPoints = integerAt(meta, "max_points", 1, 1_000_000);
  if (maxPoints !== undefined) spec.maxPoints = maxPoints;
  const perGeneration = pointsPerGenerationOf(meta);
  if (perGeneration !== undefined) spec.pointsPerGeneration = perGeneration;
  const minUnevaluated = integerAt(meta, "min_unevaluated_points", 0, 1_000_000);
  if (minUnevaluated !== undefined) spec.minUnevaluatedPoints = minUnevaluated;
  const initial = initialPointsOf(meta);
  if (initial.length > 0) spec.initialPoints = initial;
  if (method.generator) spec.generator = method.generator;
  return spec;
}

/**
 * pointsPerGenerationOf reads num_points_per_generation, the field iDDS documents, or
 * num_points_per_iteration, the one its server reads; both, different, is refused.
 */
function pointsPerGenerationOf(meta: Fields): number | undefined {
  const documented = integerAt(meta, "num_points_per_generation", 1, 10_000);
  const read = integerAt(meta, "num_points_per_iteration", 1, 10_000);
  if (documented !== undefined && read !== undefined && documented !== read) {
    throw new IddsConversionError(
      at(meta, "num_points_per_iteration"),
      `(${read}) differs from num_points_per_generation (${documented}); keep one of them`,
    );
  }
  return documented ?? read;
}

/** initialPointsOf reads initial_points, a list of (params, loss) pairs; loss null means not evaluated. */
function initialPointsOf(meta: Fields): HPORequestSpecInitialPointsItem[] {
  const raw = meta.values.initial_points;
  if (isAbsent(raw)) return [];
  const field = at(meta, "initial_points");
  if (!Array.isArray(raw))
    throw new IddsConversionError(field, `must be a list of (params, loss) pairs; got ${describe(raw)}`);
  return raw.map((pair, i) => {
    const where = `${field}[${i}]`;
    if (!Array.isArray(pair) || pair.length < 1 || pair.length > 2 || !isRecord(pair[0])) {
      throw new IddsConversionError(
        where,
        `must be a (params, loss) pair such as [{"A": 1}, 0.3]; got ${describe(pair)}`,
      );
    }
    const [params, loss] = pair as [Record<string, unknown>, unknown];
    if (loss === undefined || loss === null) return { params };
    if (typeof loss !== "number" || !Number.isFinite(loss)) {
      throw new IddsConversionError(
        `${where}[1]`,
        `a loss must be a number or null (not evaluated yet); got ${describe(loss)}`,
      );
    }
    return { params, loss };
  });
}

/** check validates the translation as hpo-operator validate does; a problem names the iDDS field. */
function check(hpo: HPORequest): void {
  const verdict = validateObject(hpo);
  if (!verdict.checked || verdict.problems.length === 0) return;
  const [first] = verdict.problems;
  if (!first) return;
  // A rule on spec as a whole names its field in its message ("spec.maxPoints must be ...").
  const named = /(?:^|: )spec\.(\w+)/.exec(first.message)?.[1];
  const path = first.path.length === 1 && named ? ["spec", named] : first.path;
  const field = fieldInIdds(path);
  throw new IddsConversionError(
    field,
    `${first.message} (as ${first.field || "the HPORequest"} of the translation)`,
  );
}
