/**
 * The announcer: a controller of its own (its own work queue, keyed by request) that announces the
 * stored batches of points on ActiveMQ, at least once. It compares the set's batches with the
 * confirmed watermark in the request's status, sends what is not confirmed in generation order,
 * and moves the watermark only after the broker's receipt. While the broker cannot be reached it
 * retries with backoff and shows the Announced condition; generation never waits for it. It owns
 * status.notification and the Announced condition, and writes them conditionally, keeping every
 * other status field.
 */
import {
  type Condition,
  type HPORequest,
  HPORequestResource,
  type HPORequestStatus,
  type HyperParameterSet,
  initialOf,
  pointsOfSets,
} from "../api/index.ts";
import { canonical } from "../controller/core.ts";
import type { Recorder } from "../controller/events.ts";
import type { SetAggregates } from "../controller/setsview.ts";
import { applyStatus } from "../runtime/apply.ts";
import type { KubeClient } from "../runtime/client.ts";
import { Controller, type ReconcileContext, type Result } from "../runtime/controller.ts";
import { NotFoundError } from "../runtime/errors.ts";
import type { Informer } from "../runtime/informer.ts";
import type { Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { exponentialRateLimiter } from "../runtime/workqueue.ts";
import { MessagingError } from "./errors.ts";
import { batchMessage, endMessage, identityOf, type MessageOptions, type Outgoing } from "./messages.ts";
import type { MessagingMetrics } from "./metrics.ts";
import {
  type Attempt,
  ConditionType,
  conditionAfter,
  type Desired,
  destinationOf,
  notificationAfter,
  pendingSteps,
  type Step,
  unconfirmedSets,
  withCondition,
} from "./plan.ts";
import type { Publisher } from "./publisher.ts";

/** AnnouncerDeps are the announcer's collaborators; publisher undefined means messaging is off. */
export interface AnnouncerDeps {
  client: KubeClient;
  requests: Informer<HPORequest>;
  sets: Informer<HyperParameterSet>;
  /** aggregates are the sets' per-request views: only the sets that can hold unannounced points are read. */
  aggregates: SetAggregates;
  publisher: Publisher | undefined;
  recorder: Recorder;
  metrics: MessagingMetrics;
  /** runtime metrics for the controller and its queue (controller="announcer"). */
  runtimeMetrics?: Metrics;
  logger: Logger;
  destination: string;
  ttlMs: number;
  /** vo is the vo header (default atlas, as iDDS). */
  vo?: string;
  /** retry backoff of a request whose messages could not be delivered. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  workers?: number;
  /** connectGraceMs: right after start, a request waits this long for the first connection before a failure counts. */
  connectGraceMs?: number;
  now?: () => Date;
}

const { apiVersion: API, plural: REQUESTS } = HPORequestResource;
/** FIELD_MANAGER is the announcer's server-side apply field manager. */
export const FIELD_MANAGER = "hpo-announcer";

/** Announcer announces new points of every request on the broker. */
export class Announcer {
  readonly controller: Controller;
  private readonly d: AnnouncerDeps;
  private readonly now: () => Date;
  private startedAt = 0;

  constructor(deps: AnnouncerDeps) {
    this.d = deps;
    this.now = deps.now ?? (() => new Date());
    this.controller = new Controller({
      name: "announcer",
      reconcile: (key, ctx) => this.reconcile(key, ctx),
      workers: deps.workers ?? 2,
      logger: deps.logger,
      metrics: deps.runtimeMetrics,
      rateLimiter: exponentialRateLimiter({
        baseMs: deps.retryBaseMs ?? 1_000,
        maxMs: deps.retryMaxMs ?? 30_000,
      }),
    });
    deps.requests.on((type, obj, old) => {
      if (type === "DELETED") deps.metrics.backlog(keyOf(obj), undefined);
      else if (requestMoved(obj, old)) this.enqueue(keyOf(obj));
    });
    deps.sets.on((type, obj, old) => {
      if (type !== "DELETED" && obj.status?.total !== old?.status?.total)
        this.enqueue(`${obj.metadata?.namespace}/${obj.spec?.request ?? obj.metadata?.name}`);
    });
  }

  /** enqueue asks for a look at one request. */
  enqueue(key: string): void {
    this.controller.enqueue(key);
  }

  /** enqueueAll asks for a look at every request (after a reconnect, at start). */
  enqueueAll(): void {
    for (const r of this.d.requests.list()) this.enqueue(keyOf(r));
  }

  /** start runs the workers and looks at every request once. */
  start(): void {
    this.startedAt = this.now().getTime();
    this.controller.start();
    this.enqueueAll();
  }

  /** stop lets in-flight deliveries finish (or fail) and stops. */
  async stop(): Promise<void> {
    await this.controller.stop();
  }

  /** reconcile delivers what one request (key "namespace/name") owes the broker. */
  async reconcile(key: string, ctx: ReconcileContext): Promise<Result> {
    const [ns = "", name = ""] = key.split("/");
    const req = this.d.requests.get(ns, name);
    if (!req || req.metadata?.deletionTimestamp) {
      this.d.metrics.backlog(key, undefined);
      return {};
    }
    const publisher = this.d.publisher;
    if (!publisher) {
      await this.record(req, (s) => this.disabledStatus(s, req));
      return {};
    }
    const mark = req.status?.notification?.confirmedGeneration ?? -1;
    const sets = unconfirmedSets(this.d.aggregates.view(req), req.status?.pointsPerSet, mark);
    const steps = pendingSteps(req, pointsOfSets(sets, initialOf(req)));
    this.d.metrics.backlog(key, steps.filter((s) => s.kind === "batch").length);
    if (steps.length === 0 && req.status?.notification?.enabled) return {};
    const grace = this.startedAt + (this.d.connectGraceMs ?? 5_000) - this.now().getTime();
    if (!publisher.connected && grace > 0) return { requeueAfterMs: Math.min(grace, 500) };
    const attempt = await this.deliver(req, steps, publisher, ctx);
    this.d.metrics.backlog(key, attempt.remaining);
    await this.record(req, (s) => this.attemptStatus(s, req, attempt));
    if (attempt.error !== undefined) {
      ctx.log.warn("could not announce; retrying with backoff", {
        error: (attempt.error as Error).message,
        unconfirmed: attempt.remaining,
      });
      return { requeue: true };
    }
    return {};
  }

  /** deliver sends the steps in order, stopping at the first failure. */
  private async deliver(
    req: HPORequest,
    steps: Step[],
    publisher: Publisher,
    ctx: ReconcileContext,
  ): Promise<Attempt> {
    const id = identityOf(req);
    const destination = destinationOf(req, this.d.destination);
    const confirmed: Step[] = [];
    let error: unknown;
    for (const step of steps) {
      if (ctx.signal.aborted) {
        // Cut short (reconcile timeout or shutdown): the rest is retried, like a failed send.
        error = new MessagingError("cut short before every message was sent (timeout or shutdown)");
        break;
      }
      const msg = this.messageOf(req, step, destination);
      try {
        await publisher.send(msg);
        this.d.metrics.sent(msg.msgType);
        confirmed.push(step);
        ctx.log.debug("announced", { message: msg.id, destination });
      } catch (e) {
        this.d.metrics.failed(msg.msgType);
        error = e;
        break;
      }
    }
    const remaining = steps.filter((s) => s.kind === "batch" && !confirmed.includes(s)).length;
    const now = this.now().toISOString();
    return {
      confirmed,
      remaining,
      error,
      destination,
      requestId: id.requestId,
      workloadId: id.workloadId,
      now,
    };
  }

  private messageOf(req: HPORequest, step: Step, destination: string): Outgoing {
    const opts: MessageOptions = {
      destination,
      ttlMs: this.d.ttlMs,
      vo: this.d.vo,
      now: this.now().getTime(),
    };
    const id = identityOf(req);
    return step.kind === "batch"
      ? batchMessage(id, step.batch.generation, step.batch.points, opts)
      : endMessage(id, step.end, opts);
  }

  private disabledStatus(s: HPORequestStatus, req: HPORequest): HPORequestStatus {
    const id = identityOf(req);
    const notification = {
      ...s.notification,
      enabled: false,
      requestId: id.requestId,
      workloadId: id.workloadId,
    };
    return this.withDesired({ ...s, notification }, req, conditionAfter("disabled"));
  }

  private attemptStatus(s: HPORequestStatus, req: HPORequest, a: Attempt): HPORequestStatus {
    const notification = notificationAfter(s.notification, a);
    const desired = conditionAfter(a, notification.confirmedMessages ?? 0);
    return this.withDesired({ ...s, notification }, req, desired);
  }

  private withDesired(s: HPORequestStatus, req: HPORequest, d: Desired): HPORequestStatus {
    const conditions = withCondition(
      s.conditions,
      d,
      req.metadata?.generation ?? 0,
      this.now().toISOString(),
    );
    return { ...s, conditions };
  }

  /**
   * record applies the announcer's fields (status.notification and the Announced condition, as
   * mutate leaves them) with server-side apply under its own field manager: the reconciler's fields
   * are never touched, so neither writer can undo the other. A condition that turns False (or
   * changes its reason) is also told as an event, once.
   */
  private async record(req: HPORequest, mutate: (s: HPORequestStatus) => HPORequestStatus): Promise<void> {
    const mine = (s: HPORequestStatus) => ({
      notification: s.notification,
      conditions: (s.conditions ?? []).filter((c) => c.type === ConditionType),
    });
    const next = mine(mutate(req.status ?? {}));
    if (canonical(next) === canonical(mine(req.status ?? {}))) return;
    const ns = req.metadata?.namespace ?? "";
    const name = req.metadata?.name ?? "";
    try {
      const written = await applyStatus<HPORequest>(
        this.d.client,
        { apiVersion: API, kind: "HPORequest", plural: REQUESTS, namespace: ns, name },
        FIELD_MANAGER,
        next,
      );
      this.d.requests.upsert(written);
      this.tell(written, req.status?.conditions);
    } catch (e) {
      if (e instanceof NotFoundError) return;
      throw e;
    }
  }

  /** tell records an event when the Announced condition turned False or changed its reason. */
  private tell(req: HPORequest, before: Condition[] | undefined): void {
    const find = (l: Condition[] | undefined) => l?.find((c) => c.type === ConditionType);
    const [old, now] = [find(before), find(req.status?.conditions)];
    if (now?.status !== "False" || (old?.status === "False" && old.reason === now.reason)) return;
    const disabled = now.reason === "MessagingDisabled";
    const reason = disabled ? "MessagingDisabled" : "AnnounceFailed";
    this.d.recorder.record(req, disabled ? "Normal" : "Warning", reason, now.message);
  }
}

function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

/** requestMoved: a new request, or a change that can owe the broker a message (phase, spec, annotations). */
function requestMoved(obj: HPORequest, old: HPORequest | undefined): boolean {
  if (!old) return true;
  return (
    obj.status?.phase !== old.status?.phase ||
    obj.status?.generations !== old.status?.generations ||
    obj.metadata?.generation !== old.metadata?.generation ||
    JSON.stringify(obj.metadata?.annotations ?? {}) !== JSON.stringify(old.metadata?.annotations ?? {})
  );
}
