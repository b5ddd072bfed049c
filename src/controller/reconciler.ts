/**
 * The HPORequest reconciler: the thin layer around the pure core (core.ts). It gathers what one
 * reconcile looks at (the request and its HyperParameterSets from the caches, the outcome of a
 * finished generation), asks decide() what to do, and carries the actions out: create sets, append
 * points to them (conditional on what they held), apply the request's status (server-side apply,
 * field manager hpo-reconciler), start generations, tell events. Level-based: every call re-reads
 * the state, so a missed, repeated or late event changes nothing.
 */
import {
  controllerRef,
  type HPORequest,
  HPORequestResource,
  type HPORequestStatus,
  type HyperParameterSet,
  HyperParameterSetResource,
  initialOf,
  LABEL_REQUEST,
  type StoredPoint,
} from "../api/index.ts";
import { applyStatus } from "../runtime/apply.ts";
import { type Calls, JsonPatch, type KubeClient, MergePatch, paths } from "../runtime/client.ts";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidError,
  NotFoundError,
  TerminalError,
} from "../runtime/errors.ts";
import type { Informer } from "../runtime/informer.ts";
import {
  type Action,
  type CoreSettings,
  type Decision,
  decide,
  type Finished,
  type Observed,
} from "./core.ts";
import type { Recorder } from "./events.ts";
import { statusRefusal } from "./failures.ts";
import type { Generator } from "./generator.ts";
import type { SetAggregates, SetsView } from "./setsview.ts";
import { seedOf, validateSpec } from "./spec.ts";

/** FIELD_MANAGER is the reconciler's server-side apply field manager. */
export const FIELD_MANAGER = "hpo-reconciler";

/** ReconcilerMetrics is what the reconciler reports. */
export interface ReconcilerMetrics {
  pointsGenerated(method: string, n: number): void;
  lossesRecorded(n: number): void;
  generationDuration(method: string, seconds: number): void;
  generationFailed(method: string): void;
  phase(key: string, phase: string | undefined): void;
}

/** ReconcileLog is the logging a reconcile needs. */
export interface ReconcileLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** ReconcilerDeps are the reconciler's collaborators, passed in so tests can use small fakes. */
export interface ReconcilerDeps {
  client: KubeClient;
  requests: Informer<HPORequest>;
  sets: Informer<HyperParameterSet>;
  /** aggregates follow the sets' cache: a reconcile reads a request's summary, not all its sets. */
  aggregates: SetAggregates;
  generatorFor: (req: HPORequest) => Generator;
  recorder: Recorder;
  metrics: ReconcilerMetrics;
  settings: CoreSettings;
  now?: () => Date;
}

/** ReconcileResult tells the work queue when to look again. */
export interface ReconcileResult {
  requeueAfterMs?: number;
  requeue?: boolean;
}

const { apiVersion: API, plural: REQUESTS } = HPORequestResource;
const SETS = HyperParameterSetResource.plural;

/** Step is one reconcile's context. */
interface Step {
  key: string;
  req: HPORequest;
  gen: Generator;
  log: ReconcileLog;
  api: Calls;
  result: ReconcileResult;
  /** sets is the view of the request's sets the last decision was made on (a generation reads their points). */
  sets?: SetsView;
}

/** Reconciler reconciles HPORequests. */
export class Reconciler {
  private readonly d: ReconcilerDeps;
  private readonly now: () => Date;
  /** lastWrite is when each request's status was last written (status writes of counts are spaced). */
  private readonly lastWrite = new Map<string, number>();
  /** evaluated is the evaluated count last seen per request (for the losses metric). */
  private readonly evaluated = new Map<string, number>();
  /** started is when each request's generation in flight started (for the duration metric). */
  private readonly started = new Map<string, number>();
  constructor(deps: ReconcilerDeps) {
    this.d = deps;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * reconcile brings one request (key "namespace/name") one step closer to its spec. Its API calls
   * stop when signal aborts (the reconcile's timeout, or a shutdown past its deadline).
   */
  async reconcile(key: string, log: ReconcileLog, signal?: AbortSignal): Promise<ReconcileResult> {
    const api: Calls = signal ? this.d.client.bound(signal) : this.d.client;
    const [ns = "", name = ""] = key.split("/");
    const req = this.d.requests.get(ns, name);
    if (!req || req.metadata?.deletionTimestamp) {
      this.d.metrics.phase(key, undefined);
      for (const m of [this.lastWrite, this.evaluated, this.started]) m.delete(key);
      return {};
    }
    const step: Step = { key, req, gen: this.d.generatorFor(req), log, api, result: {} };
    try {
      await this.run(step);
      return step.result;
    } catch (e) {
      if (e instanceof ConflictError) {
        // A cache behind the API server (a set changed under an append): refresh and look again.
        log.debug("conflict; refreshing from the API server", { error: e.message });
        await this.refresh(step);
        return { requeue: true };
      }
      throw e;
    }
  }

  /** run decides and acts; when a generation finishes at once, it decides again with its outcome. */
  private async run(step: Step): Promise<void> {
    // An outcome the generator still holds (its store was cut short) is looked at from the start.
    let outcome: Observed["outcome"] = step.gen.kept?.(step.req.metadata?.uid ?? "");
    for (let pass = 1; pass <= 2; pass++) {
      const decision = decide(this.observe(step, outcome), this.d.settings);
      const asked = await this.act(step, decision, pass === 1);
      this.tell(step, decision);
      if (!asked) return;
      outcome = asked;
      step.req =
        this.d.requests.get(step.req.metadata?.namespace ?? "", step.req.metadata?.name ?? "") ?? step.req;
    }
  }

  /** observe gathers what decide() looks at, from the caches. */
  private observe(step: Step, outcome: Observed["outcome"]): Observed {
    const last = this.lastWrite.get(step.key);
    step.sets = this.d.aggregates.view(step.req);
    const obs: Observed = {
      request: step.req,
      sets: step.sets,
      recordsIntent: step.gen.recordsIntent,
      now: this.now(),
    };
    if (outcome) obs.outcome = outcome;
    if (last !== undefined) obs.sinceStatusWriteMs = this.now().getTime() - last;
    return obs;
  }

  /**
   * act carries out a decision's actions in order. It returns the outcome of a generation that
   * finished when asked (the caller decides again with it), else undefined.
   */
  private async act(step: Step, d: Decision, mayGenerate: boolean): Promise<Observed["outcome"]> {
    let asked: Observed["outcome"];
    // Sets are created together (empty sets change nothing); points are stored one set after the
    // other, in id order, so that whatever an interruption leaves stored is a run of ids from the first.
    const creates = d.actions.filter((a) => a.kind === "createSet");
    await Promise.all(creates.map((a) => this.createSet(step, a)));
    for (const a of d.actions) {
      if (a.kind === "createSet") continue;
      if (a.kind === "storePoints") await this.storePoints(step, a);
      else if (a.kind === "applyStatus") await this.writeStatus(step, a.status);
      else if (a.kind === "settle") {
        step.gen.settle?.(step.req.metadata?.uid ?? "", a.number);
        this.observeDuration(step);
      } else if (a.kind === "generate") {
        if (!mayGenerate) {
          step.result.requeue = true;
          continue;
        }
        asked = await this.generate(step, a);
      }
    }
    if (d.requeue) step.result.requeue = true;
    if (d.requeueAfterMs !== undefined)
      step.result.requeueAfterMs = minDefined(step.result.requeueAfterMs, d.requeueAfterMs);
    return asked;
  }

  /** generate asks the generator for a generation; a finished outcome is returned, else the look-again time. */
  private async generate(step: Step, a: Extract<Action, { kind: "generate" }>): Promise<Observed["outcome"]> {
    const check = validateSpec(step.req);
    if (!this.started.has(step.key)) this.started.set(step.key, performance.now());
    const outcome = await step.gen.generate({
      request: step.req,
      space: check.ok ? check.space : undefined,
      history: { sets: step.sets?.all() ?? [], initial: initialOf(step.req) },
      number: a.number,
      count: a.count,
      firstId: a.firstId,
      attempt: a.attempt,
      seed: seedOf(step.req),
    });
    if (outcome.kind === "running") {
      step.result.requeueAfterMs = minDefined(step.result.requeueAfterMs, outcome.requeueAfterMs);
      return undefined;
    }
    return { number: a.number, attempt: a.attempt, firstId: a.firstId, result: outcome as Finished };
  }

  private observeDuration(step: Step): void {
    const t = this.started.get(step.key);
    if (t === undefined) return;
    this.started.delete(step.key);
    this.d.metrics.generationDuration(step.req.spec.method, (performance.now() - t) / 1000);
  }

  /** createSet creates one HyperParameterSet of the request (owned by it); one that exists is read. */
  private async createSet(step: Step, a: Extract<Action, { kind: "createSet" }>): Promise<void> {
    const ns = step.req.metadata?.namespace ?? "";
    const request = step.req.metadata?.name ?? "";
    const body: HyperParameterSet = {
      apiVersion: API,
      kind: "HyperParameterSet",
      metadata: {
        name: a.name,
        namespace: ns,
        labels: { [LABEL_REQUEST]: request },
        ownerReferences: [controllerRef(step.req)],
      },
      spec: { request, firstId: a.firstId, lastId: a.lastId },
    };
    try {
      this.d.sets.upsert(await step.api.create<HyperParameterSet>(paths.collection(API, SETS, ns), body));
      step.log.info("created a HyperParameterSet", { set: a.name, firstId: a.firstId, lastId: a.lastId });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      this.d.sets.upsert(await step.api.get<HyperParameterSet>(paths.object(API, SETS, ns, a.name)));
      throw new ConflictError(409, `HyperParameterSet ${a.name} exists already`);
    }
  }

  /**
   * storePoints appends points to a set's status, conditional on the number of points it held when
   * the decision was made: a stale cache makes the write fail (the reconcile then looks again),
   * never store a point twice. Reporters' patches of spec do not make it fail.
   */
  private async storePoints(step: Step, a: Extract<Action, { kind: "storePoints" }>): Promise<void> {
    const ns = step.req.metadata?.namespace ?? "";
    const set = this.d.sets.get(ns, a.name);
    const path = paths.object(API, SETS, ns, a.name, "status");
    const total = a.stored + a.points.length;
    try {
      const written =
        a.stored === 0
          ? await step.api.request<HyperParameterSet>("PATCH", path, {
              body: {
                metadata: { resourceVersion: set?.metadata?.resourceVersion },
                status: { total, points: a.points },
              },
              contentType: MergePatch,
            })
          : await step.api.request<HyperParameterSet>("PATCH", path, {
              body: appendOps(a.stored, a.points),
              contentType: JsonPatch,
            });
      this.d.sets.upsert(written);
    } catch (e) {
      if (!isStale(e)) throw e;
      this.d.sets.upsert(await step.api.get<HyperParameterSet>(paths.object(API, SETS, ns, a.name)));
      throw new ConflictError(
        409,
        `HyperParameterSet ${a.name} changed under the append: ${(e as Error).message}`,
      );
    }
  }

  /** writeStatus applies the reconciler's status fields to the request. */
  private async writeStatus(step: Step, status: HPORequestStatus): Promise<void> {
    const ns = step.req.metadata?.namespace ?? "";
    const name = step.req.metadata?.name ?? "";
    try {
      const written = await applyStatus<HPORequest>(
        step.api,
        { apiVersion: API, kind: "HPORequest", plural: REQUESTS, namespace: ns, name },
        FIELD_MANAGER,
        status,
      );
      this.d.requests.upsert(written);
      step.req = written;
      this.lastWrite.set(step.key, this.now().getTime());
    } catch (e) {
      if (e instanceof NotFoundError) return; // deleted meanwhile
      const refused = statusRefusal(e, status);
      if (!refused) throw e;
      // Retrying sends the same status to the same refusal: tell it, and wait for a change.
      this.d.recorder.record(step.req, "Warning", "StatusRefused", refused);
      throw new TerminalError(refused, { cause: e });
    }
  }

  /** tell records the decision's events and metrics. */
  private tell(step: Step, d: Decision): void {
    for (const e of d.events) this.d.recorder.record(step.req, e.type, e.reason, e.message);
    const method = step.req.spec.method;
    if (d.generated) this.d.metrics.pointsGenerated(method, d.generated);
    if (d.failedGeneration) this.d.metrics.generationFailed(method);
    if (d.evaluated !== undefined) {
      const before = this.evaluated.get(step.key);
      if (before !== undefined && d.evaluated > before) this.d.metrics.lossesRecorded(d.evaluated - before);
      this.evaluated.set(step.key, d.evaluated);
    }
    this.d.metrics.phase(step.key, d.phase);
    if (d.events.length > 0) step.log.debug("decided", { events: d.events.map((e) => e.reason) });
  }

  private async refresh(step: Step): Promise<void> {
    const ns = step.req.metadata?.namespace ?? "";
    const name = step.req.metadata?.name ?? "";
    await step.api
      .get<HPORequest>(paths.object(API, REQUESTS, ns, name))
      .then((o) => this.d.requests.upsert(o))
      .catch(() => undefined);
  }
}

/** appendOps is the JSON patch that appends points to a set holding `stored` points, or fails. */
function appendOps(stored: number, points: readonly StoredPoint[]): unknown[] {
  return [
    { op: "test", path: "/status/total", value: stored },
    ...points.map((p) => ({ op: "add", path: "/status/points/-", value: p })),
    { op: "replace", path: "/status/total", value: stored + points.length },
  ];
}

function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

/**
 * isStale tells a failed conditional write: a conflict, or a JSON patch whose test operation failed
 * (the API server answers 422 with no field causes; an invalid status would name its fields).
 */
function isStale(e: unknown): boolean {
  if (e instanceof ConflictError) return true;
  return e instanceof InvalidError && !e.status?.details?.causes?.length;
}
