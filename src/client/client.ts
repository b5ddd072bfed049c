/**
 * The typed client of hpo.dev requests, for training code and tools: the iDDS calls
 * (get_hyperparameters, update_hyperparameter) and a few more, against the cluster of the current
 * kubeconfig context and its namespace, as kubectl does.
 *
 *   import { HpoClient } from "hpo-operator/client";
 *   const hpo = new HpoClient();                       // or { namespace, context, kubeconfig }
 *   for (const p of await hpo.getHyperParameters("mnist", { status: "new", limit: 4 }))
 *     await hpo.updateHyperParameter("mnist", p.id, train(p.params));
 *
 * Points live in the request's HyperParameterSets, point id i in the set <request>-<ceil(i /
 * status.pointsPerSet)> (docs/api.md); reports are JSON merge patches of that set's spec.losses and
 * spec.failed, so concurrent reporters never overwrite each other.
 */
import {
  type HPORequest,
  HPORequestResource,
  type HyperParameterSet,
  HyperParameterSetResource,
  LABEL_REQUEST,
  type Point,
  pointsOfSet,
  pointsOfSets,
  setNameOf,
  setsOfRequest,
} from "../api/index.ts";
import { issuedUpTo } from "../controller/lifecycle.ts";
import { KubeClient, loadKubeConfig, paths } from "../runtime/client.ts";
import { ContextNotFoundError } from "../runtime/clientconfig.ts";
import { GoneError, InvalidError, NotFoundError, UnavailableError } from "../runtime/errors.ts";
import {
  ApiNotInstalledError,
  HpoClientError,
  OutcomeConflictError,
  RequestDeletedError,
  RequestNotFoundError,
  UnknownPointError,
} from "./errors.ts";
import {
  checkLoss,
  checkReason,
  convergence,
  type Outcome,
  planReport,
  pointId,
  type Query,
  type RequestStatus,
  type RequestSummary,
  selectPoints,
  summarize,
} from "./model.ts";

/** ClientOptions choose the cluster and namespace; by default those of kubectl's current context. */
export interface ClientOptions {
  /** A kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster service account). */
  kubeconfig?: string;
  /** A context of the kubeconfig (default: its current context). */
  context?: string;
  /** The namespace (default: the context's namespace, else "default"). */
  namespace?: string;
  /** A ready REST client, instead of kubeconfig and context. */
  kube?: KubeClient;
}

/** RequestRef names a request: its name (in the client's namespace) or a name and namespace. */
export type RequestRef = string | { name: string; namespace?: string };

/** ReportResult tells what a report did. */
export interface ReportResult {
  namespace: string;
  request: string;
  id: string;
  /** The HyperParameterSet the report went to (the one that holds the point). */
  set: string;
  /** false when the set already held exactly this outcome (nothing was written). */
  changed: boolean;
}

/** WatchOptions tune watchRequest. */
export interface WatchOptions {
  /** Stops the watch; watchRequest then rejects with the signal's reason. */
  signal?: AbortSignal;
}

const api = HPORequestResource.apiVersion;

/** HpoClient reads and reports the points of HPORequests. */
export class HpoClient {
  readonly namespace: string;
  private readonly kube: KubeClient;

  constructor(options: ClientOptions = {}) {
    this.kube = options.kube ?? new KubeClient(loadConfig(options.kubeconfig, options.context));
    this.namespace = options.namespace ?? this.kube.namespace;
  }

  private ref(request: RequestRef): { namespace: string; name: string } {
    return typeof request === "string"
      ? { namespace: this.namespace, name: request }
      : { namespace: request.namespace ?? this.namespace, name: request.name };
  }

  /** getRequest reads the HPORequest. */
  async getRequest(request: RequestRef): Promise<HPORequest> {
    const { namespace, name } = this.ref(request);
    try {
      return await this.kube.get<HPORequest>(paths.object(api, HPORequestResource.plural, namespace, name));
    } catch (e) {
      throw explain(e, namespace, name);
    }
  }

  /**
   * getHyperParameterSets lists the request's HyperParameterSets (label hpo.dev/request, page by
   * page), in id order. A request the operator has not served yet has none.
   */
  async getHyperParameterSets(request: RequestRef): Promise<HyperParameterSet[]> {
    const { namespace, name } = this.ref(request);
    const out: HyperParameterSet[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await this.kube.get<{ items: HyperParameterSet[]; metadata: { continue?: string } }>(
          paths.collection(api, HyperParameterSetResource.plural, namespace),
          { query: { labelSelector: `${LABEL_REQUEST}=${name}`, limit: 500, continue: cont } },
        );
        out.push(...page.items);
        cont = page.metadata.continue || undefined;
      } while (cont);
    } catch (e) {
      throw explain(e, namespace, name);
    }
    return out.sort((a, b) => a.spec.firstId - b.spec.firstId);
  }

  /** pointsOf reads the request and the points of all its sets, each with its state and set. */
  private async pointsOf(request: RequestRef): Promise<{ req: HPORequest; points: Point[] }> {
    const req = await this.getRequest(request);
    const sets = setsOfRequest(await this.getHyperParameterSets(request), req);
    return { req, points: pointsOfSets(sets, req.spec.initialPoints) };
  }

  /**
   * getHyperParameters lists a request's points (iDDS get_hyperparameters): all of them, or those
   * of one status (new, evaluated, failed), at most limit of them, lowest ids first. Each point says
   * which set holds it. A request the operator has not served yet has none.
   */
  async getHyperParameters(request: RequestRef, query: Query = {}): Promise<Point[]> {
    selectPoints([], query); // checks the query before any call
    return selectPoints((await this.pointsOf(request)).points, query);
  }

  /**
   * getHyperParameter reads one point, with its state, from the one set that holds it (two small
   * reads, whatever the size of the request). UnknownPointError when there is no such point.
   */
  async getHyperParameter(request: RequestRef, id: string | number): Promise<Point> {
    const pid = pointId(id);
    const { req, setName, set } = await this.setFor(request, pid);
    const point = pointsOfSet(set, req.spec.initialPoints).find((p) => p.id === pid);
    if (!point) {
      const { name } = this.ref(request);
      throw new UnknownPointError(
        `HPORequest "${name}" has no point ${pid} (it would be in ${setName})`,
        pid,
      );
    }
    return point;
  }

  /**
   * updateHyperParameter reports a point's loss (iDDS update_hyperparameter) with one merge patch of
   * spec.losses on the set that holds the point (found by the rule of docs/api.md, without listing).
   * It refuses a loss that is not a finite number, an id that is not one of the request's points,
   * and a point that already has another loss or failed: the first outcome stands. Reporting the
   * same loss again changes nothing.
   */
  async updateHyperParameter(request: RequestRef, id: string | number, loss: number): Promise<ReportResult> {
    return this.report(request, pointId(id), { loss: checkLoss(loss) });
  }

  /** failHyperParameter reports that a point will never have a loss (spec.failed), with a short reason. */
  async failHyperParameter(request: RequestRef, id: string | number, reason: string): Promise<ReportResult> {
    return this.report(request, pointId(id), { reason: checkReason(reason) });
  }

  /** setFor reads the request and the set that holds point id; UnknownPointError when there is none. */
  private async setFor(
    request: RequestRef,
    id: string,
  ): Promise<{ req: HPORequest; setName: string; set: HyperParameterSet }> {
    const { namespace, name } = this.ref(request);
    const req = await this.getRequest(request);
    const perSet = req.status?.pointsPerSet;
    if (!perSet) {
      throw new UnknownPointError(
        `HPORequest "${name}" has no point ${id}: it has no points yet (the operator has not served it)`,
        id,
      );
    }
    // The set decides whether the point exists: the request's status counts points after the sets
    // hold them (and at most about once a second), so a point just handed out may not be counted yet.
    const setName = setNameOf(name, Number(id), perSet);
    try {
      const set = await this.kube.get<HyperParameterSet>(
        paths.object(api, HyperParameterSetResource.plural, namespace, setName),
      );
      return { req, setName, set };
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw explain(e, namespace, name);
      const last = handedOut(req);
      const known = last === 0 ? "it has no points yet" : `ids handed out so far run up to ${last}`;
      throw new UnknownPointError(
        `HPORequest "${name}" has no point ${id}: ${known} (the set ${setName} that would hold it does not exist)`,
        id,
      );
    }
  }

  private async report(request: RequestRef, id: string, outcome: Outcome): Promise<ReportResult> {
    const { namespace, name } = this.ref(request);
    const { req, setName, set } = await this.setFor(request, id);
    const result = { namespace, request: name, id, set: setName };
    if (planReport(set, req.spec.initialPoints, name, id, outcome) === "done")
      return { ...result, changed: false };
    const spec =
      "loss" in outcome ? { losses: { [id]: outcome.loss } } : { failed: { [id]: outcome.reason } };
    try {
      await this.kube.mergePatch(paths.object(api, HyperParameterSetResource.plural, namespace, setName), {
        spec,
      });
    } catch (e) {
      // The API server enforces the same rules (a report that raced another one): say so plainly.
      if (e instanceof InvalidError)
        throw new OutcomeConflictError(`point ${id} of "${name}": ${e.message}`, id);
      throw explain(e, namespace, name);
    }
    return { ...result, changed: true };
  }

  /** getStatus reads a request's phase, counts, best point and convergence curve. */
  async getStatus(request: RequestRef): Promise<RequestStatus> {
    const { req, points } = await this.pointsOf(request);
    const summary = summarize(req);
    return { ...summary, convergence: convergence(points, summary.direction) };
  }

  /**
   * watchRequest calls onChange with the request's summary now and at each change, until the
   * request ends (Finished, SubFinished or Failed, for its current spec), and resolves with the last
   * summary. It rejects with RequestDeletedError when the request is deleted, and with the signal's
   * reason when stopped. Dropped watches are resumed.
   */
  async watchRequest(
    request: RequestRef,
    onChange: (summary: RequestSummary) => void | Promise<void>,
    options: WatchOptions = {},
  ): Promise<RequestSummary> {
    const { namespace, name } = this.ref(request);
    const { signal } = options;
    let last = "";
    let summary: RequestSummary | undefined;
    const seen = async (obj: HPORequest): Promise<boolean> => {
      summary = summarize(obj);
      const key = JSON.stringify(summary);
      if (key !== last) {
        last = key;
        await onChange(summary);
      }
      return summary.ended;
    };
    const stopped = () => {
      signal?.throwIfAborted();
    };
    let rv: string | undefined;
    for (;;) {
      stopped();
      if (rv === undefined) {
        const obj = await this.getRequest({ namespace, name });
        if (await seen(obj)) return summary as RequestSummary;
        rv = obj.metadata?.resourceVersion;
      }
      try {
        const lines = this.kube.lines(paths.collection(api, HPORequestResource.plural, namespace), {
          query: {
            watch: true,
            fieldSelector: `metadata.name=${name}`,
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: 300,
          },
          signal,
          idleTimeoutMs: 330_000,
        });
        for await (const line of lines) {
          const ev = JSON.parse(line) as { type: string; object: HPORequest & { code?: number } };
          if (ev.type === "ERROR") {
            rv = undefined; // 410 Gone and friends: read the object again
            break;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (ev.type === "BOOKMARK") continue;
          if (ev.type === "DELETED") {
            throw new RequestDeletedError(`HPORequest "${name}" in namespace "${namespace}" was deleted`);
          }
          if (await seen(ev.object)) return summary as RequestSummary;
        }
      } catch (e) {
        stopped();
        if (e instanceof GoneError) rv = undefined;
        else if (e instanceof UnavailableError) {
          rv = undefined;
          await new Promise((r) => setTimeout(r, 1000));
        } else throw e;
      }
    }
  }

  /** close releases the client's connections. */
  close(): void {
    this.kube.close();
  }
}

/** loadConfig loads the kubeconfig as kubectl would, with an error that says what is wrong. */
function loadConfig(
  file: string | undefined,
  context: string | undefined,
): ReturnType<typeof loadKubeConfig> {
  try {
    return loadKubeConfig(file, context);
  } catch (e) {
    if (e instanceof ContextNotFoundError && e.context === context) {
      throw new HpoClientError(
        `context "${context}" is not in the kubeconfig (kubectl config get-contexts lists them)`,
        { cause: e },
      );
    }
    throw new HpoClientError(`cannot load the kubeconfig: ${(e as Error).message}`, { cause: e });
  }
}

/** handedOut is the highest point id a request's status records as handed out. */
function handedOut(req: HPORequest): number {
  return Math.max(issuedUpTo(req.status?.lastGeneration) - 1, req.spec.initialPoints?.length ?? 0);
}

/** explain turns a 404 into RequestNotFoundError or ApiNotInstalledError; other errors pass. */
function explain(e: unknown, namespace: string, name: string): unknown {
  if (!(e instanceof NotFoundError)) return e;
  if (e.status?.details?.name) return new RequestNotFoundError(namespace, name, { cause: e });
  return new ApiNotInstalledError(
    "the cluster does not serve hpo.dev/v1alpha1: install the CRDs (kubectl apply -f crds/, or the Helm chart)",
    { cause: e },
  );
}

let shared: HpoClient | undefined;

/** defaultClient is the client of the current kubeconfig context, made on first use. */
export function defaultClient(): HpoClient {
  shared ??= new HpoClient();
  return shared;
}

/** getHyperParameters: HpoClient.getHyperParameters with the current context (iDDS get_hyperparameters). */
export function getHyperParameters(request: RequestRef, query?: Query): Promise<Point[]> {
  return defaultClient().getHyperParameters(request, query);
}
/** updateHyperParameter: HpoClient.updateHyperParameter with the current context (iDDS update_hyperparameter). */
export function updateHyperParameter(
  request: RequestRef,
  id: string | number,
  loss: number,
): Promise<ReportResult> {
  return defaultClient().updateHyperParameter(request, id, loss);
}
/** failHyperParameter: HpoClient.failHyperParameter with the current context. */
export function failHyperParameter(
  request: RequestRef,
  id: string | number,
  reason: string,
): Promise<ReportResult> {
  return defaultClient().failHyperParameter(request, id, reason);
}
/** getStatus: HpoClient.getStatus with the current context. */
export function getStatus(request: RequestRef): Promise<RequestStatus> {
  return defaultClient().getStatus(request);
}
/** watchRequest: HpoClient.watchRequest with the current context. */
export function watchRequest(
  request: RequestRef,
  onChange: (summary: RequestSummary) => void | Promise<void>,
  options?: WatchOptions,
): Promise<RequestSummary> {
  return defaultClient().watchRequest(request, onChange, options);
}
