/**
 * The HPORequest reconciler: gather (the request and its set, from the caches), decide (the pure
 * rules of spec.ts, points.ts and lifecycle.ts), act (create the set, write statuses, run a
 * generation, emit events). Level-based: every call re-reads the state, so a missed, repeated or
 * late event changes nothing. A generation is written to the request's status (state Running)
 * before its points are stored, so an operator killed at any moment resumes it exactly once.
 */
import {
  controllerRef,
  type HPORequest,
  HPORequestResource,
  type HPORequestStatus,
  type HPORequestStatusLastGeneration,
  type HyperParameterSet,
  HyperParameterSetResource,
  type HyperParameterSetStatus,
  LABEL_REQUEST,
  type Point,
} from "../api/index.ts";
import type { Params, SearchSpace } from "../generators/types.ts";
import { type Calls, JsonPatch, type KubeClient, paths } from "../runtime/client.ts";
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from "../runtime/errors.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Recorder } from "./events.ts";
import type { GenerationOutcome, Generator } from "./generator.ts";
import {
  buildStatus,
  type GenerationPlan,
  invalidStatus,
  issuedUpTo,
  type Policy,
  planGeneration,
} from "./lifecycle.ts";
import { appendBatch, countPoints, hasGeneration, initialPoints, mergeReports } from "./points.ts";
import { seedOf, validateSpec } from "./spec.ts";

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
  generatorFor: (req: HPORequest) => Generator;
  recorder: Recorder;
  metrics: ReconcilerMetrics;
  policy: Policy;
  /** maxSetBytes is the largest HyperParameterSet the operator writes (below the API server's limit). */
  maxSetBytes: number;
  now?: () => Date;
}

/** ReconcileResult tells the work queue when to look again. */
export interface ReconcileResult {
  requeueAfterMs?: number;
  requeue?: boolean;
}

const { apiVersion: API, plural: REQUESTS } = HPORequestResource;
const SETS = HyperParameterSetResource.plural;
const MAX_MESSAGES = 50;
const WRITE_ATTEMPTS = 8;

/** Work is the state one reconcile carries from gathering to writing. */
interface Work {
  req: HPORequest;
  set: HyperParameterSet;
  space: SearchSpace | undefined;
  points: Point[];
  messages: string[];
  /** noted are the messages this reconcile already emitted an event for. */
  noted: Set<string>;
  lastGeneration: HPORequestStatusLastGeneration | undefined;
  exhausted: boolean;
  batch?: { number: number; firstId: number; params: Params[] };
  log: ReconcileLog;
  /** api makes this reconcile's calls; they stop with its signal. */
  api: Calls;
}

/** Reconciler reconciles HPORequests. */
export class Reconciler {
  private readonly d: ReconcilerDeps;
  private readonly now: () => Date;

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
      return {};
    }
    try {
      return await this.reconcileRequest(req, log, api);
    } catch (e) {
      if (e instanceof ConflictError) {
        // A cache behind our own writes, or a concurrent spec change: refresh and look again at once.
        log.debug("conflict; refreshing from the API server", { error: e.message });
        await this.refresh(ns, name, api);
        return { requeue: true };
      }
      throw e;
    }
  }

  private async refresh(ns: string, name: string, api: Calls): Promise<void> {
    await Promise.all([
      api
        .get<HPORequest>(paths.object(API, REQUESTS, ns, name))
        .then((o) => this.d.requests.upsert(o))
        .catch(() => undefined),
      api
        .get<HyperParameterSet>(paths.object(API, SETS, ns, name))
        .then((o) => this.d.sets.upsert(o))
        .catch(() => undefined),
    ]);
  }

  private async reconcileRequest(req: HPORequest, log: ReconcileLog, api: Calls): Promise<ReconcileResult> {
    const key = `${req.metadata?.namespace}/${req.metadata?.name}`;
    const check = validateSpec(req);
    if (!check.ok) {
      const status = invalidStatus(req, check.message, this.now());
      if (req.status?.message !== status.message) {
        this.d.recorder.record(req, "Warning", "InvalidSpec", status.message ?? "");
        await this.writeRequestStatus(req, status, api);
      }
      this.d.metrics.phase(key, "Failed");
      return {};
    }
    const set = await this.ensureSet(req, log, api);
    const w = this.gather(req, set, check.space, check.initial, log, api);
    const plan = planGeneration(w.req, w.points, this.now(), this.d.policy, this.sizeLimited(w));
    const result = await this.carryOut(w, plan);
    await this.writeSet(w);
    const status = await this.writeFinalStatus(w);
    this.d.metrics.phase(key, status.phase);
    // A report that lands while this runs is not lost: its watch event queues the key again (the
    // informer tells it even when this reconcile's own write already put that spec in the cache).
    return result;
  }

  /** gather merges the reports of the set into its points (seeding initial points the first time). */
  private gather(
    req: HPORequest,
    set: HyperParameterSet,
    space: SearchSpace | undefined,
    initial: Point["params"][],
    log: ReconcileLog,
    api: Calls,
  ): Work {
    const nowIso = this.now().toISOString();
    const base =
      set.status?.points ??
      initialPoints({
        ...req.spec,
        initialPoints: (req.spec.initialPoints ?? []).map((p, i) => ({
          ...p,
          params: initial[i] ?? p.params,
        })),
      });
    const merged = mergeReports(base, set.spec, nowIso);
    if (merged.evaluated > 0) this.d.metrics.lossesRecorded(merged.evaluated);
    const noted = new Set<string>();
    const messages = this.noteMessages(req, set, merged.messages, noted);
    return {
      req,
      set,
      space,
      points: merged.points,
      messages,
      noted,
      lastGeneration: req.status?.lastGeneration,
      exhausted: req.status?.exhausted ?? false,
      log,
      api,
    };
  }

  /** sizeLimited tells whether one more full batch would push the set past its size limit. */
  private sizeLimited(w: Work): boolean {
    const bytes = JSON.stringify(w.points).length;
    const per = w.points.length > 0 ? bytes / w.points.length : 256;
    const batch = w.req.spec.pointsPerGeneration ?? 10;
    return bytes + per * 1.5 * batch > this.d.maxSetBytes;
  }

  /**
   * carryOut runs the generation plan. A generator with side effects outside the set (a Job) has
   * its intent written to the request's status first; a built-in method's batch is stored with its
   * generation number in one conditional write of the set, which is the record itself.
   */
  private async carryOut(w: Work, plan: GenerationPlan): Promise<ReconcileResult> {
    switch (plan.kind) {
      case "none":
        return {};
      case "wait":
        return { requeueAfterMs: plan.afterMs };
      case "complete": {
        const lg =
          w.lastGeneration?.number === plan.number
            ? w.lastGeneration
            : { requested: plan.added, attempts: 1 };
        w.lastGeneration = {
          ...lg,
          number: plan.number,
          firstId: plan.firstId,
          state: "Succeeded",
          added: plan.added,
          completedAt: this.nowIso(),
          message: `added ${plan.added} points (ids ${plan.firstId}-${plan.firstId + plan.added - 1})`,
        };
        return {};
      }
      case "start":
      case "retry": {
        w.lastGeneration = {
          number: plan.number,
          requested: plan.count,
          firstId: plan.firstId,
          state: "Running",
          attempts: plan.attempt,
          startedAt: this.nowIso(),
        };
        if (this.d.generatorFor(w.req).recordsIntent) {
          // The generator's side effects live outside the set (a Job): record the intent first.
          w.req = await this.writeRequestStatus(w.req, this.statusOf(w), w.api);
          this.d.recorder.record(
            w.req,
            "Normal",
            "GenerationStarted",
            `generation ${plan.number} started: asking for ${plan.count} points (attempt ${plan.attempt})`,
          );
        }
        w.log.info("generation started", {
          generation: plan.number,
          count: plan.count,
          attempt: plan.attempt,
        });
        return this.runGeneration(w, plan);
      }
      case "resume":
        w.log.info("resuming the generation in flight", { generation: plan.number });
        return this.runGeneration(w, plan);
    }
  }

  private async runGeneration(
    w: Work,
    plan: { number: number; count: number; firstId: number; attempt: number },
  ): Promise<ReconcileResult> {
    const method = w.req.spec.method;
    const started = performance.now();
    const outcome: GenerationOutcome = await this.d.generatorFor(w.req).generate({
      request: w.req,
      space: w.space,
      points: w.points,
      number: plan.number,
      count: plan.count,
      firstId: plan.firstId,
      attempt: plan.attempt,
      seed: seedOf(w.req),
    });
    if (outcome.kind === "running") return { requeueAfterMs: outcome.requeueAfterMs };
    this.d.metrics.generationDuration(method, (performance.now() - started) / 1000);
    const lg = w.lastGeneration ?? {};
    const completedAt = this.nowIso();
    if (outcome.kind === "failed") {
      this.d.metrics.generationFailed(method);
      w.lastGeneration = { ...lg, state: "Failed", completedAt, message: clip(outcome.message), added: 0 };
      w.log.warn("generation failed", {
        generation: plan.number,
        attempt: plan.attempt,
        error: outcome.message,
      });
      this.d.recorder.record(
        w.req,
        "Warning",
        "GenerationFailed",
        `generation ${plan.number} failed (attempt ${plan.attempt}): ${outcome.message}`,
      );
      return { requeue: true };
    }
    if (outcome.kind === "exhausted") {
      w.exhausted = true;
      w.lastGeneration = {
        ...lg,
        state: "Succeeded",
        completedAt,
        added: 0,
        message: "the generator returned no points",
      };
      this.d.recorder.record(
        w.req,
        "Normal",
        "GeneratorExhausted",
        `generation ${plan.number}: the generator has no more points`,
      );
      return {};
    }
    w.batch = { number: plan.number, firstId: plan.firstId, params: outcome.points };
    w.points = appendBatch(w.points, outcome.points, plan.number, plan.firstId, completedAt);
    const last = plan.firstId + outcome.points.length - 1;
    const message = clip(
      [`added ${outcome.points.length} points (ids ${plan.firstId}-${last})`, ...outcome.warnings].join("; "),
    );
    w.lastGeneration = { ...lg, state: "Succeeded", completedAt, added: outcome.points.length, message };
    this.d.metrics.pointsGenerated(method, outcome.points.length);
    this.d.recorder.record(
      w.req,
      "Normal",
      "GenerationFinished",
      `generation ${plan.number} (${method}, attempt ${plan.attempt}): ${message}`,
    );
    return {};
  }

  private nowIso(): string {
    return this.now().toISOString();
  }

  private statusOf(w: Work): HPORequestStatus {
    return withForeign(
      w.req.status,
      buildStatus({
        req: w.req,
        points: w.points,
        lastGeneration: w.lastGeneration,
        exhausted: w.exhausted,
        sizeLimited: this.sizeLimited(w) && !w.batch,
        setName: w.set.metadata?.name ?? "",
        seed: seedOf(w.req),
        now: this.now(),
        policy: this.d.policy,
      }),
    );
  }

  /** ensureSet returns the request's HyperParameterSet, creating it with an owner reference. */
  private async ensureSet(req: HPORequest, log: ReconcileLog, api: Calls): Promise<HyperParameterSet> {
    const ns = req.metadata?.namespace ?? "";
    const name = req.metadata?.name ?? "";
    const cached = this.d.sets.get(ns, name);
    if (cached) return cached;
    const body: HyperParameterSet = {
      apiVersion: API,
      kind: "HyperParameterSet",
      metadata: {
        name,
        namespace: ns,
        labels: { [LABEL_REQUEST]: name },
        ownerReferences: [controllerRef(req)],
      },
      spec: { request: name },
    };
    try {
      const created = await api.create<HyperParameterSet>(paths.collection(API, SETS, ns), body);
      this.d.sets.upsert(created);
      log.info("created the HyperParameterSet");
      const lost = req.status?.points?.total ?? 0;
      if (lost > 0) {
        // Someone deleted the set: its points and reports are gone, but ids already handed out
        // stay taken (planGeneration continues after the last one the request's status records).
        this.d.recorder.record(
          req,
          "Warning",
          "SetRecreated",
          `HyperParameterSet ${name} was deleted and is created again: its ${lost} points and their losses are gone; initial points are seeded again and new ids continue after ${issuedUpTo(req.status?.lastGeneration) - 1}`,
        );
      } else this.d.recorder.record(req, "Normal", "SetCreated", `created HyperParameterSet ${name}`);
      return created;
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      const existing = await api.get<HyperParameterSet>(paths.object(API, SETS, ns, name));
      this.d.sets.upsert(existing);
      return existing;
    }
  }

  /**
   * writeSet stores the points (merged reports and any new batch). The write is conditional on the
   * status's own revision, not the object's resourceVersion: reporters patch spec.losses all the
   * time, and only another write of the status may make this one stale.
   */
  private async writeSet(w: Work): Promise<void> {
    const ns = w.set.metadata?.namespace ?? "";
    const name = w.set.metadata?.name ?? "";
    for (let attempt = 1; ; attempt++) {
      const { revision, ...current } = w.set.status ?? {};
      const status = this.setStatus(w);
      if (w.set.status && sameSetStatus(current, status)) return;
      const next = { ...status, revision: (revision ?? 0) + 1 };
      const ops =
        revision === undefined
          ? [{ op: "add", path: "/status", value: next }]
          : [
              { op: "test", path: "/status/revision", value: revision },
              { op: "replace", path: "/status", value: next },
            ];
      try {
        const written = await w.api.request<HyperParameterSet>(
          "PATCH",
          paths.object(API, SETS, ns, name, "status"),
          {
            body: ops,
            contentType: JsonPatch,
          },
        );
        this.d.sets.upsert(written);
        w.set = written;
        return;
      } catch (e) {
        if (!isStale(e) || attempt >= WRITE_ATTEMPTS) throw e;
        // Our cache was behind our own last write: merge again on the fresh set, keep the batch.
        const fresh = await w.api.get<HyperParameterSet>(paths.object(API, SETS, ns, name));
        this.d.sets.upsert(fresh);
        this.regather(w, fresh);
      }
    }
  }

  private regather(w: Work, fresh: HyperParameterSet): void {
    const nowIso = this.nowIso();
    let points = fresh.status?.points ?? w.points.filter((p) => p.generation === 0);
    if (w.batch && !hasGeneration(points, w.batch.number)) {
      points = appendBatch(points, w.batch.params, w.batch.number, w.batch.firstId, nowIso);
    }
    const merged = mergeReports(points, fresh.spec, nowIso);
    if (merged.evaluated > 0) this.d.metrics.lossesRecorded(merged.evaluated);
    w.set = fresh;
    w.points = merged.points;
    w.messages = this.noteMessages(w.req, fresh, merged.messages, w.noted);
  }

  /** noteMessages returns the set's messages with the new ones added, emitting a Warning for each new one. */
  private noteMessages(
    req: HPORequest,
    set: HyperParameterSet,
    messages: readonly string[],
    noted: Set<string>,
  ): string[] {
    const known = new Set(set.status?.messages ?? []);
    const fresh = [...new Set(messages)].filter((m) => !known.has(m));
    for (const m of fresh.filter((f) => !noted.has(f))) {
      noted.add(m);
      this.d.recorder.record(req, "Warning", "ReportIgnored", m);
    }
    return [...(set.status?.messages ?? []), ...fresh].slice(-MAX_MESSAGES);
  }

  private setStatus(w: Work): HyperParameterSetStatus {
    const counts = countPoints(w.points);
    return withForeign(w.set.status, {
      observedGeneration: w.set.metadata?.generation ?? 0,
      ...counts,
      messages: w.messages.length ? w.messages : undefined,
      points: w.points,
    });
  }

  /** writeFinalStatus writes the request's status, recomputed on a fresh copy after a conflict. */
  private async writeFinalStatus(w: Work): Promise<HPORequestStatus> {
    for (let attempt = 1; ; attempt++) {
      const status = this.statusOf(w);
      const before = w.req.status?.phase;
      try {
        w.req = await this.writeRequestStatus(w.req, status, w.api);
        if (before !== status.phase) this.announcePhase(w, status);
        return status;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw e;
        const ns = w.req.metadata?.namespace ?? "";
        const fresh = await w.api.get<HPORequest>(
          paths.object(API, REQUESTS, ns, w.req.metadata?.name ?? ""),
        );
        this.d.requests.upsert(fresh);
        w.req = { ...fresh, status: { ...fresh.status, lastGeneration: w.req.status?.lastGeneration } };
      }
    }
  }

  private announcePhase(w: Work, status: HPORequestStatus): void {
    const phase = status.phase ?? "";
    if (phase === "Generating" || phase === "Waiting" || phase === "Pending") return;
    const type = phase === "Failed" ? "Warning" : "Normal";
    w.log.info("phase changed", { phase });
    this.d.recorder.record(w.req, type, phase, status.message ?? phase);
  }

  /** writeRequestStatus replaces the request's status when it changed (conditional on resourceVersion). */
  private async writeRequestStatus(
    req: HPORequest,
    status: HPORequestStatus,
    api: Calls,
  ): Promise<HPORequest> {
    if (sameRequestStatus(req.status, status)) return req;
    const ns = req.metadata?.namespace ?? "";
    const name = req.metadata?.name ?? "";
    try {
      const written = await api.replace<HPORequest>(paths.object(API, REQUESTS, ns, name, "status"), {
        ...req,
        status,
      });
      this.d.requests.upsert(written);
      return written;
    } catch (e) {
      if (e instanceof NotFoundError) return req; // deleted meanwhile
      throw e;
    }
  }
}

/**
 * isStale tells a failed conditional write: a conflict, or a JSON patch whose test operation failed
 * (the API server answers 422 with no field causes; an invalid status would name its fields).
 */
function isStale(e: unknown): boolean {
  if (e instanceof ConflictError) return true;
  return e instanceof InvalidError && !e.status?.details?.causes?.length;
}

/** ownedKeys are the status fields this reconciler computes; any other field belongs to another controller. */
const ownedKeys = new Set([
  "phase",
  "observedGeneration",
  "message",
  "conditions",
  "points",
  "best",
  "generations",
  "lastGeneration",
  "hyperParameterSets",
  "exhausted",
  "seed",
  "total",
  "evaluated",
  "unevaluated",
  "failed",
  "messages",
  "revision",
]);

/**
 * withForeign keeps the status fields other controllers own (such as the announcer's) beside the
 * ones computed here. Safe because every status write is conditional on the resourceVersion read.
 */
export function withForeign<T extends object>(current: T | undefined, computed: T): T {
  const foreign = Object.fromEntries(Object.entries(current ?? {}).filter(([k]) => !ownedKeys.has(k)));
  return { ...foreign, ...computed };
}

/** clip keeps a status message readable and the object small: at most 4,000 characters. */
export function clip(message: string, max = 4000): string {
  return message.length <= max ? message : `${message.slice(0, max - 15)} ... (clipped)`;
}

/** canonical is JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(
          Object.keys(val)
            .sort()
            .map((k) => [k, (val as Record<string, unknown>)[k]]),
        )
      : val,
  );
}

/** sameRequestStatus tells whether a write would change nothing (it is then skipped). */
function sameRequestStatus(a: HPORequestStatus | undefined, b: HPORequestStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

function sameSetStatus(a: HyperParameterSetStatus | undefined, b: HyperParameterSetStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}
