import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { UnavailableError } from "./errors.ts";
import { RateLimiter, reserve } from "./ratelimit.ts";

describe("reserve (client-go's token bucket)", () => {
  it.each([
    // [tokens, at, now, qps, burst] -> [tokens after, waitMs]
    [30, 0, 0, 20, 30, 29, 0],
    [0.5, 0, 0, 20, 30, -0.5, 25],
    [0, 0, 50, 20, 30, 0, 0], // 50 ms at 20/s refills one token
    [-2, 0, 0, 20, 30, -3, 150], // two are reserved ahead: wait for the third
    [5, 0, 60_000, 20, 30, 29, 0], // never more than burst
    [1, 100, 50, 10, 5, 0, 0], // time going backwards refills nothing
  ])(
    "tokens %d at %d, now %d, qps %d, burst %d -> %d tokens, wait %d ms",
    (tokens, at, now, qps, burst, left, wait) => {
      const r = reserve({ tokens, at }, now, qps, burst);
      expect(r.bucket.tokens).toBeCloseTo(left);
      expect(r.waitMs).toBeCloseTo(wait);
    },
  );
});

describe("RateLimiter", () => {
  it("lets a burst through at once, then one request per 1/qps, in order", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(20, 3, clock);
    const done: number[] = [];
    const waits = Array.from({ length: 5 }, (_, i) => limiter.wait().then(() => done.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toEqual([0, 1, 2]);
    clock.advance(49);
    await Promise.resolve();
    expect(done).toEqual([0, 1, 2]);
    clock.advance(1);
    await Promise.resolve();
    expect(done).toEqual([0, 1, 2, 3]);
    clock.advance(50);
    await Promise.all(waits);
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  it("gives the token back when the waiter is aborted, and never waits with qps <= 0", async () => {
    const clock = new FakeClock(0);
    const limiter = new RateLimiter(10, 1, clock);
    await limiter.wait();
    const ac = new AbortController();
    const aborted = limiter.wait(ac.signal);
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(UnavailableError);
    // The next waiter waits 100 ms (one token), not 200.
    let ok = false;
    const next = limiter.wait().then(() => {
      ok = true;
    });
    clock.advance(100);
    await next;
    expect(ok).toBe(true);
    const off = new RateLimiter(-1, 1, clock);
    for (let i = 0; i < 100; i++) expect(await off.wait()).toBe(0);
  });
});
