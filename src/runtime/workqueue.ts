/**
 * A keyed work queue with the semantics of client-go's rate-limiting work queue, which
 * controller-runtime runs on: duplicate keys merge, a key is never handed out twice at once (adding
 * it while it is processed marks it dirty, and it comes back after done), delayed adds, and per-key
 * exponential backoff. The unit of work is a key; the reconciler re-reads the state it names.
 */
import { type Cancel, type Clock, realClock } from "./clock.ts";
import type { Metrics } from "./metrics.ts";

/** RateLimiter decides how long a key waits before its next retry. */
export interface RateLimiter {
  /** when returns the delay before the key's next retry and counts the retry. */
  when(key: string): number;
  /** forget resets the key's retry count. */
  forget(key: string): void;
  /** numRequeues is how many retries the key has had since it was last forgotten. */
  numRequeues(key: string): number;
}

/** BackoffOptions configure exponentialRateLimiter. */
export interface BackoffOptions {
  /** baseMs is the first delay (default 5 ms); each further failure doubles it. */
  baseMs?: number;
  /** maxMs caps the delay (default 60 s). */
  maxMs?: number;
}

/** exponentialRateLimiter delays the n-th retry of a key by baseMs × 2^n, capped at maxMs. */
export function exponentialRateLimiter(options: BackoffOptions = {}): RateLimiter {
  const base = options.baseMs ?? 5;
  const max = options.maxMs ?? 60_000;
  const failures = new Map<string, number>();
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      return Math.min(base * 2 ** n, max);
    },
    forget: (key) => void failures.delete(key),
    numRequeues: (key) => failures.get(key) ?? 0,
  };
}

/** WorkQueueOptions configure a WorkQueue. */
export interface WorkQueueOptions {
  /** name labels the workqueue_* metrics. */
  name: string;
  clock?: Clock;
  metrics?: Metrics;
  rateLimiter?: RateLimiter;
}

/** WorkQueue is a keyed, deduplicating, rate-limited work queue. */
export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly reporter: QueueReporter;
  /** queue holds the keys ready to hand out, in order; always a subset of dirty. */
  private readonly queue = new Set<string>();
  /** dirty holds every key that needs processing, including ones added while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { at: number; cancel: Cancel }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private drainers: (() => void)[] = [];
  private stopped = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.limiter = options.rateLimiter ?? exponentialRateLimiter();
    this.reporter = new QueueReporter(this.name, this.clock, options.metrics);
  }

  /** add queues key unless it is already queued; a key being processed is queued again after done. */
  add(key: string): void {
    if (this.stopped || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.reporter.added(key);
    if (this.processing.has(key)) return;
    this.queue.add(key);
    this.handOut();
  }

  /** addAfter adds key once ms have passed; of several pending delays for one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.reporter.retried();
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const prev = this.waiting.get(key);
    if (prev && prev.at <= at) return;
    prev?.cancel();
    const cancel = this.clock.after(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { at, cancel });
  }

  /** addRateLimited adds key after its backoff delay, which grows with each call until forget(key). */
  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  /** forget resets key's backoff (call it when the key was processed successfully). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** numRequeues is how many rate-limited adds key has had since it was last forgotten. */
  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** get waits for the next key and marks it processing; it resolves undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** done marks key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    this.reporter.finished(key);
    if (this.dirty.has(key) && !this.stopped) {
      this.queue.add(key);
      this.handOut();
    }
    if (this.processing.size === 0) this.releaseDrainers();
  }

  /** len is the number of keys ready to be handed out. */
  len(): number {
    return this.queue.size;
  }

  /** shuttingDown tells whether shutDown was called. */
  get shuttingDown(): boolean {
    return this.stopped;
  }

  /**
   * shutDown stops the queue: waiting and later get() calls resolve undefined, adds are ignored, and
   * queued or delayed keys are dropped (level-based: whoever runs next re-lists everything).
   */
  shutDown(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    this.queue.clear();
    this.dirty.clear();
    this.reporter.stop();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    if (this.processing.size === 0) this.releaseDrainers();
  }

  /** drained resolves once no key is being processed (after shutDown, when all in-flight work is done). */
  drained(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  private take(): string | undefined {
    const next = this.queue.values().next();
    if (next.done) return undefined;
    const key = next.value;
    this.queue.delete(key);
    this.dirty.delete(key);
    this.processing.add(key);
    this.reporter.started(key);
    return key;
  }

  private handOut(): void {
    while (this.getters.length > 0 && this.queue.size > 0) {
      const resolve = this.getters.shift();
      resolve?.(this.take());
    }
  }

  private releaseDrainers(): void {
    const drainers = this.drainers;
    this.drainers = [];
    for (const resolve of drainers) resolve();
  }
}

/** QueueReporter keeps the timestamps behind the workqueue_* metrics of one queue. */
class QueueReporter {
  private readonly labels: { name: string };
  private readonly clock: Clock;
  private readonly metrics: Metrics | undefined;
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly untrack: () => void;

  constructor(name: string, clock: Clock, metrics: Metrics | undefined) {
    this.labels = { name };
    this.clock = clock;
    this.metrics = metrics;
    this.untrack = metrics?.trackQueue(name, () => this.stats()) ?? (() => undefined);
    metrics?.workqueueDepth.set(this.labels, 0);
  }

  added(key: string): void {
    this.metrics?.workqueueAdds.inc(this.labels);
    this.metrics?.workqueueDepth.inc(this.labels);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.clock.now());
  }

  retried(): void {
    this.metrics?.workqueueRetries.inc(this.labels);
  }

  started(key: string): void {
    const now = this.clock.now();
    this.metrics?.workqueueDepth.dec(this.labels);
    const added = this.addedAt.get(key);
    if (added !== undefined) this.metrics?.workqueueQueueDuration.observe(this.labels, (now - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
  }

  finished(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) {
      this.metrics?.workqueueWorkDuration.observe(this.labels, (this.clock.now() - started) / 1000);
    }
    this.startedAt.delete(key);
  }

  stop(): void {
    this.untrack();
    this.addedAt.clear();
    this.metrics?.workqueueDepth.set(this.labels, 0);
  }

  stats(): { unfinishedSeconds: number; longestSeconds: number } {
    const now = this.clock.now();
    let unfinished = 0;
    let longest = 0;
    for (const t of this.startedAt.values()) {
      unfinished += now - t;
      longest = Math.max(longest, now - t);
    }
    return { unfinishedSeconds: unfinished / 1000, longestSeconds: longest / 1000 };
  }
}
