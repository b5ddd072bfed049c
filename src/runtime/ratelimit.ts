/**
 * The client-side rate limit of API calls, with client-go's QPS/Burst semantics (a token bucket of
 * golang.org/x/time/rate, as flowcontrol.NewTokenBucketRateLimiter uses it): the bucket holds up to
 * `burst` tokens and refills at `qps` per second; each request takes one token, and when there is
 * none it reserves the next one and waits for it, so waiters are served in order at `qps`.
 */
import type { Clock } from "./clock.ts";
import { UnavailableError } from "./errors.ts";

/** Bucket is the state of a token bucket: tokens (negative when reserved ahead) at time `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

/**
 * reserve takes one token at time now and returns the new state and how long (ms) the caller must
 * wait before its token is there (0 when one was in the bucket).
 */
export function reserve(
  b: Bucket,
  now: number,
  qps: number,
  burst: number,
): { bucket: Bucket; waitMs: number } {
  const elapsed = Math.max(0, now - b.at);
  const tokens = Math.min(burst, b.tokens + (elapsed * qps) / 1000) - 1;
  return { bucket: { tokens, at: Math.max(now, b.at) }, waitMs: tokens >= 0 ? 0 : (-tokens * 1000) / qps };
}

/** RateLimiter makes callers wait for their token; a limiter with qps <= 0 never waits. */
export class RateLimiter {
  readonly qps: number;
  readonly burst: number;
  private bucket: Bucket;
  private readonly clock: Clock;

  constructor(qps: number, burst: number, clock: Clock) {
    this.qps = qps;
    this.burst = Math.max(1, burst);
    this.clock = clock;
    this.bucket = { tokens: this.burst, at: clock.now() };
  }

  /**
   * wait resolves when the caller may send its request; it returns the time waited (ms). An aborted
   * signal gives the token back and rejects with an UnavailableError.
   */
  wait(signal?: AbortSignal): Promise<number> {
    if (this.qps <= 0) return Promise.resolve(0);
    const { bucket, waitMs } = reserve(this.bucket, this.clock.now(), this.qps, this.burst);
    this.bucket = bucket;
    if (waitMs === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel();
        this.bucket = { ...this.bucket, tokens: this.bucket.tokens + 1 };
        reject(
          new UnavailableError(0, `request cancelled while waiting for the client rate limit`, undefined, {
            cause: signal?.reason,
          }),
        );
      };
      const cancel = this.clock.after(waitMs, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve(waitMs);
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
