/**
 * A controller in the controller-runtime mould: N workers take keys from a WorkQueue and call a
 * level-based reconcile function, each call with its own child logger, reconcile id and timeout.
 * The outcome decides what happens to the key: forget on success, backoff on error, a timed requeue
 * on `requeueAfterMs`, and nothing more for a TerminalError (counted and logged, never retried).
 */
import { randomUUID } from "node:crypto";
import { type Clock, realClock } from "./clock.ts";
import { TerminalError } from "./errors.ts";
import { type Logger, noopLogger } from "./log.ts";
import type { Metrics, ReconcileResult } from "./metrics.ts";
import { type RateLimiter, WorkQueue } from "./workqueue.ts";

/** Result tells the controller when to look at a key again; an empty result means "not until it changes". */
export interface Result {
  /** requeueAfterMs re-adds the key after this delay (and resets its backoff). */
  requeueAfterMs?: number;
  /** requeue re-adds the key with backoff, as an error would, without logging one. */
  requeue?: boolean;
}

/** ReconcileContext is what one reconcile call gets besides its key. */
export interface ReconcileContext {
  /** log carries the fields controller, key and reconcileID. */
  log: Logger;
  /** signal aborts when the reconcile times out or the controller stops past its deadline. */
  signal: AbortSignal;
  reconcileID: string;
}

/** Reconcile brings the object named by key to its desired state. */
export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<Result | undefined> | Promise<void>;

/** ControllerOptions configure a Controller. */
export interface ControllerOptions {
  /** name labels metrics and logs and names the work queue. */
  name: string;
  reconcile: Reconcile;
  /** workers is the number of concurrent reconciles (default 1). */
  workers?: number;
  /** timeoutMs aborts each reconcile's signal after this long (default 60 s; 0 disables). */
  timeoutMs?: number;
  /** shutdownTimeoutMs is how long stop() waits for in-flight reconciles (default 30 s). */
  shutdownTimeoutMs?: number;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
  rateLimiter?: RateLimiter;
}

/** Controller runs workers that reconcile the keys of its work queue. */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcileFn: Reconcile;
  private readonly workers: number;
  private readonly timeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly clock: Clock;
  private readonly inFlight = new Set<AbortController>();
  private running: Promise<void>[] = [];
  private active = 0;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconcileFn = options.reconcile;
    this.workers = Math.max(1, options.workers ?? 1);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
    this.log = (options.logger ?? noopLogger).child({ controller: options.name });
    this.metrics = options.metrics;
    this.clock = options.clock ?? realClock;
    this.queue = new WorkQueue({
      name: options.name,
      clock: this.clock,
      metrics: options.metrics,
      rateLimiter: options.rateLimiter,
    });
  }

  /** start launches the workers; calling it twice does nothing. */
  start(): void {
    if (this.running.length > 0 || this.queue.shuttingDown) return;
    this.metrics?.maxConcurrentReconciles.set({ controller: this.name }, this.workers);
    this.metrics?.activeWorkers.set({ controller: this.name }, 0);
    this.log.info("Starting workers", { workers: this.workers });
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /** enqueue adds a key to the work queue. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /**
   * stop takes no more keys and waits up to shutdownTimeoutMs for in-flight reconciles; past the
   * deadline it aborts their signals. It resolves true when every worker finished in time.
   */
  async stop(): Promise<boolean> {
    this.log.info("Shutdown signal received, waiting for all workers to finish");
    this.queue.shutDown();
    const workers = Promise.all(this.running).then(() => true);
    let cancel = () => {};
    const deadline = new Promise<boolean>((resolve) => {
      cancel = this.clock.after(this.shutdownTimeoutMs, () => resolve(false));
    });
    const finished = await Promise.race([workers, deadline]);
    cancel();
    if (!finished) {
      this.log.warn("Workers still running after the shutdown timeout; aborting them", {
        inFlight: this.inFlight.size,
      });
      for (const ac of this.inFlight) ac.abort(new Error(`controller ${this.name} stopped`));
    }
    this.log.info("All workers finished", { graceful: finished });
    return finished;
  }

  private async worker(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      try {
        await this.reconcileHandler(key);
      } catch (err) {
        // Only bookkeeping (logging, metrics) can land here; keep the worker alive and the key retried.
        this.log.error("Worker failed around a reconcile", { key, err });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileHandler(key: string): Promise<void> {
    const reconcileID = randomUUID();
    const log = this.log.child({ key, reconcileID });
    const ac = new AbortController();
    const cancelTimeout = this.armTimeout(ac);
    const started = this.clock.now();
    this.inFlight.add(ac);
    this.setActive(+1);
    try {
      const outcome = await this.invoke(key, { log, signal: ac.signal, reconcileID });
      this.count(this.apply(key, outcome, log));
    } finally {
      cancelTimeout();
      this.inFlight.delete(ac);
      this.setActive(-1);
      this.metrics?.reconcileTime.observe({ controller: this.name }, (this.clock.now() - started) / 1000);
    }
  }

  private async invoke(key: string, ctx: ReconcileContext): Promise<{ result?: Result; error?: unknown }> {
    try {
      return { result: (await this.reconcileFn(key, ctx)) ?? {} };
    } catch (error) {
      return { error: error ?? new Error("reconcile threw a nullish value") };
    }
  }

  /** apply re-queues the key as the outcome asks and returns the result label. */
  private apply(key: string, outcome: { result?: Result; error?: unknown }, log: Logger): ReconcileResult {
    const { result, error } = outcome;
    if (error !== undefined) {
      this.metrics?.reconcileErrors.inc({ controller: this.name });
      if (isTerminal(error)) {
        this.metrics?.terminalReconcileErrors.inc({ controller: this.name });
        this.queue.forget(key);
        log.error("Reconciler error (terminal, not retried)", { err: error });
      } else {
        this.queue.addRateLimited(key);
        log.error("Reconciler error", { err: error, retries: this.queue.numRequeues(key) });
      }
      return "error";
    }
    if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
      return "requeue_after";
    }
    if (result?.requeue) {
      this.queue.addRateLimited(key);
      return "requeue";
    }
    this.queue.forget(key);
    return "success";
  }

  private armTimeout(ac: AbortController): () => void {
    if (this.timeoutMs <= 0) return () => {};
    return this.clock.after(this.timeoutMs, () =>
      ac.abort(new DOMException(`reconcile timed out after ${this.timeoutMs} ms`, "TimeoutError")),
    );
  }

  private count(result: ReconcileResult): void {
    this.metrics?.reconcileTotal.inc({ controller: this.name, result });
  }

  private setActive(delta: number): void {
    this.active += delta;
    this.metrics?.activeWorkers.set({ controller: this.name }, this.active);
  }
}

/** isTerminal tells whether err is, or wraps (through `cause`), a TerminalError. */
export function isTerminal(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof TerminalError) return true;
  }
  return false;
}
