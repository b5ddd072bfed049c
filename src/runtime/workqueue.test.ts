import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { createMetrics, metricValue } from "./metrics.ts";
import { exponentialRateLimiter, WorkQueue } from "./workqueue.ts";

function setup() {
  const clock = new FakeClock(1_000_000);
  const metrics = createMetrics({ processMetrics: false });
  const q = new WorkQueue({ name: "test", clock, metrics });
  return { clock, metrics, q };
}

/** settled tells whether a promise has settled, after letting pending callbacks run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("WorkQueue", () => {
  it("merges duplicate keys and hands them out in order", async () => {
    const { q } = setup();
    for (const k of ["a", "b", "a", "c", "b", "a"]) q.add(k);
    expect(q.len()).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(["a", "b", "c"]);
    expect(q.len()).toBe(0);
  });

  it("never hands out a key that is being processed", async () => {
    const { q } = setup();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.add("a");
    expect(q.len()).toBe(0);
    const second = q.get();
    expect(await settled(second)).toBe(false);
    q.done("a");
    expect(await second).toBe("a");
  });

  it("re-queues a key added while processing once, after done", async () => {
    const { q } = setup();
    q.add("a");
    await q.get();
    q.add("a");
    q.add("a");
    q.add("b");
    q.done("a");
    expect(q.len()).toBe(2);
    expect([await q.get(), await q.get()]).toEqual(["b", "a"]);
    q.done("a");
    q.done("b");
    expect(q.len()).toBe(0);
  });

  it("does not re-queue a key that was not added again", async () => {
    const { q } = setup();
    q.add("a");
    await q.get();
    q.done("a");
    expect(q.len()).toBe(0);
  });

  it("wakes a waiting get when a key arrives", async () => {
    const { q } = setup();
    const waiting = q.get();
    expect(await settled(waiting)).toBe(false);
    q.add("x");
    expect(await waiting).toBe("x");
  });

  it("adds a key after the delay of addAfter, and the earliest of two delays wins", async () => {
    const { q, clock } = setup();
    q.addAfter("a", 100);
    q.addAfter("a", 500);
    q.addAfter("b", 300);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe("a");
    clock.advance(199);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(await q.get()).toBe("b");
    clock.advance(1000);
    expect(q.len()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("shortens a pending delay when a sooner one comes", async () => {
    const { q, clock } = setup();
    q.addAfter("a", 1000);
    q.addAfter("a", 10);
    clock.advance(10);
    expect(await q.get()).toBe("a");
    q.done("a");
    clock.advance(2000);
    expect(q.len()).toBe(0);
  });

  it("adds at once when the delay is not positive", () => {
    const { q } = setup();
    q.addAfter("a", 0);
    expect(q.len()).toBe(1);
  });

  it("backs off per key: 5 ms doubling, then forget resets", async () => {
    const { q, clock } = setup();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = clock.now();
      q.addRateLimited("a");
      for (let t = 0; t < 1000 && q.len() === 0; t++) clock.advance(1);
      delays.push(clock.now() - before);
      q.done((await q.get()) as string);
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(q.numRequeues("a")).toBe(4);
    expect(q.numRequeues("b")).toBe(0);
    q.forget("a");
    expect(q.numRequeues("a")).toBe(0);
  });

  it("caps the backoff", () => {
    const limiter = exponentialRateLimiter({ baseMs: 5, maxMs: 1000 });
    const delays = Array.from({ length: 12 }, () => limiter.when("k"));
    expect(delays.slice(0, 3)).toEqual([5, 10, 20]);
    expect(delays.slice(8)).toEqual([1000, 1000, 1000, 1000]);
    expect(exponentialRateLimiter().when("k")).toBe(5);
    const big = exponentialRateLimiter();
    expect(Math.max(...Array.from({ length: 40 }, () => big.when("k")))).toBe(60_000);
  });

  it("keeps separate backoff for each key", () => {
    const limiter = exponentialRateLimiter();
    limiter.when("a");
    limiter.when("a");
    expect(limiter.when("a")).toBe(20);
    expect(limiter.when("b")).toBe(5);
  });

  it("resolves waiting and later gets with undefined after shutDown, and ignores adds", async () => {
    const { q, clock } = setup();
    const w1 = q.get();
    const w2 = q.get();
    q.addAfter("late", 50);
    q.shutDown();
    expect(await w1).toBeUndefined();
    expect(await w2).toBeUndefined();
    q.add("a");
    clock.advance(100);
    expect(q.len()).toBe(0);
    expect(clock.pending()).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("drained waits for in-flight keys after shutDown", async () => {
    const { q } = setup();
    q.add("a");
    q.add("b");
    await q.get();
    q.shutDown();
    const drained = q.drained();
    expect(await settled(drained)).toBe(false);
    q.add("a");
    q.done("a");
    expect(await settled(drained)).toBe(true);
    expect(q.len()).toBe(0);
  });

  it("reports workqueue metrics", async () => {
    const { q, clock, metrics } = setup();
    const r = metrics.registry;
    q.add("a");
    q.add("a");
    q.add("b");
    expect(await metricValue(r, "workqueue_adds_total", { name: "test" })).toBe(2);
    expect(await metricValue(r, "workqueue_depth", { name: "test" })).toBe(2);
    clock.advance(250);
    await q.get();
    expect(await metricValue(r, "workqueue_depth", { name: "test" })).toBe(1);
    clock.advance(1500);
    expect(await metricValue(r, "workqueue_longest_running_processor_seconds", { name: "test" })).toBe(1.5);
    expect(await metricValue(r, "workqueue_unfinished_work_seconds", { name: "test" })).toBe(1.5);
    q.done("a");
    expect(await metricValue(r, "workqueue_longest_running_processor_seconds", { name: "test" })).toBe(0);
    expect(await metricValue(r, "workqueue_queue_duration_seconds_sum", { name: "test" })).toBe(0.25);
    expect(await metricValue(r, "workqueue_work_duration_seconds_sum", { name: "test" })).toBe(1.5);
    q.addRateLimited("c");
    q.addAfter("d", 10);
    expect(await metricValue(r, "workqueue_retries_total", { name: "test" })).toBe(2);
  });
});
