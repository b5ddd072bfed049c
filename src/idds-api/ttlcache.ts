/**
 * TtlCache remembers the outcome of a slow check (a TokenReview, a SubjectAccessReview) for a short
 * time, and shares one check among the callers that ask for the same key while it runs: 200 clients
 * that present one token at once cost the API server one review. A failed check (an error, not a
 * "no") is not remembered. Time comes from an injected clock.
 */

/** TtlCacheOptions size and time the cache. */
export interface TtlCacheOptions {
  /** ttlMs: how long a value is trusted. */
  ttlMs: number;
  /** maxEntries: the oldest entry is dropped beyond this (default 10,000). */
  maxEntries?: number;
  /** now: the clock, in milliseconds (default Date.now). */
  now?: () => number;
}

/** TtlCache maps keys to values computed by a loader, each kept for ttlMs. */
export class TtlCache<V> {
  private readonly values = new Map<string, { value: V; expires: number }>();
  private readonly pending = new Map<string, Promise<V>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** get returns the remembered value of key, or runs load once for all concurrent callers. */
  async get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.values.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    if (hit) this.values.delete(key);
    const running = this.pending.get(key);
    if (running) return running;
    const p = load().then(
      (value) => {
        this.pending.delete(key);
        this.store(key, value);
        return value;
      },
      (e: unknown) => {
        this.pending.delete(key);
        throw e;
      },
    );
    this.pending.set(key, p);
    return p;
  }

  private store(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.values.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.values.size > this.maxEntries) {
      const oldest = this.values.keys().next().value;
      if (oldest === undefined) break;
      this.values.delete(oldest);
    }
  }

  /** size is the number of remembered values (for tests and metrics). */
  get size(): number {
    return this.values.size;
  }
}
