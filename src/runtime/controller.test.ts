import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "./clock.ts";
import {
  Controller,
  type ControllerOptions,
  isTerminal,
  type Reconcile,
  type ReconcileContext,
  type Result,
} from "./controller.ts";
import { TerminalError } from "./errors.ts";
import { createLogger } from "./log.ts";
import { createMetrics, metricValue } from "./metrics.ts";

interface Call {
  key: string;
  at: number;
  ctx: ReconcileContext;
}

type Outcome = Result | Error | ((ctx: ReconcileContext) => Promise<Result | undefined>);

/** hang waits until the reconcile's signal aborts, then rejects with its reason. */
const hang = (ctx: ReconcileContext) =>
  new Promise<undefined>((_r, reject) =>
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
  );

/** harness runs a controller on a fake clock; outcomes are consumed per call, then the last repeats. */
function harness(outcomes: Outcome[], opts: Partial<ControllerOptions> = {}) {
  const clock = new FakeClock(0);
  const metrics = createMetrics({ processMetrics: false });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: "debug", stream: { write: (l) => lines.push(JSON.parse(l)) } });
  const calls: Call[] = [];
  const reconcile: Reconcile = async (key, ctx) => {
    calls.push({ key, at: clock.now(), ctx });
    const o = outcomes.length > 1 ? outcomes.shift() : outcomes[0];
    if (o instanceof Error) throw o;
    return typeof o === "function" ? o(ctx) : o;
  };
  const c = new Controller({ name: "test", reconcile, clock, metrics, logger, ...opts });
  const count = (result: string) =>
    metricValue(metrics.registry, "controller_runtime_reconcile_total", { controller: "test", result });
  return { clock, metrics, lines, calls, c, count };
}

/** tick advances the fake clock by ms and lets the workers run. */
async function tick(clock: FakeClock, ms = 0): Promise<void> {
  const flush = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  await flush();
  clock.advance(ms);
  await flush();
}

describe("Controller", () => {
  it("reconciles an enqueued key once and forgets it on success", async () => {
    const h = harness([{}]);
    h.c.enqueue("ns/a");
    h.c.enqueue("ns/a");
    h.c.start();
    await tick(h.clock);
    expect(h.calls.map((c) => c.key)).toEqual(["ns/a"]);
    await tick(h.clock, 120_000);
    expect(h.calls).toHaveLength(1);
    expect(await h.count("success")).toBe(1);
    expect(h.c.queue.numRequeues("ns/a")).toBe(0);
  });

  it("retries an error with exponential backoff, then forgets on success", async () => {
    const h = harness([new Error("boom"), new Error("boom"), new Error("boom"), {}]);
    h.c.start();
    h.c.enqueue("k");
    for (let t = 0; t < 100; t++) await tick(h.clock, 1);
    expect(h.calls.map((c) => c.at)).toEqual([0, 5, 15, 35]);
    expect(h.c.queue.numRequeues("k")).toBe(0);
    expect(await h.count("error")).toBe(3);
    expect(await h.count("success")).toBe(1);
    expect(await metricValue(h.metrics.registry, "controller_runtime_reconcile_errors_total")).toBe(3);
    const errs = h.lines.filter((l) => l.msg === "Reconciler error");
    expect(errs).toHaveLength(3);
    expect(errs[0]).toMatchObject({
      level: "error",
      controller: "test",
      key: "k",
      err: { name: "Error", message: "boom" },
    });
  });

  it("does not retry a TerminalError, even wrapped, and counts it", async () => {
    const wrapped = new Error("outer", { cause: new TerminalError("bad spec") });
    const h = harness([new TerminalError("bad spec"), wrapped]);
    h.c.start();
    h.c.enqueue("a");
    h.c.enqueue("b");
    await tick(h.clock);
    await tick(h.clock, 600_000);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b"]);
    expect(await h.count("error")).toBe(2);
    expect(await metricValue(h.metrics.registry, "controller_runtime_terminal_reconcile_errors_total")).toBe(
      2,
    );
    expect(h.c.queue.numRequeues("a")).toBe(0);
    expect(h.clock.pending()).toBe(0);
  });

  it("requeues after requeueAfterMs, resetting the backoff", async () => {
    const h = harness([new Error("x"), { requeueAfterMs: 1000 }, {}]);
    h.c.start();
    h.c.enqueue("k");
    await tick(h.clock);
    await tick(h.clock, 5);
    expect(h.calls).toHaveLength(2);
    expect(h.c.queue.numRequeues("k")).toBe(0);
    await tick(h.clock, 999);
    expect(h.calls).toHaveLength(2);
    await tick(h.clock, 1);
    expect(h.calls.map((c) => c.at)).toEqual([0, 5, 1005]);
    expect(await h.count("requeue_after")).toBe(1);
  });

  it("requeue: true re-adds with backoff", async () => {
    const h = harness([{ requeue: true }, { requeue: true }, {}]);
    h.c.start();
    h.c.enqueue("k");
    for (let t = 0; t < 30; t++) await tick(h.clock, 1);
    expect(h.calls.map((c) => c.at)).toEqual([0, 5, 15]);
    expect(await h.count("requeue")).toBe(2);
  });

  it("aborts the signal of a reconcile that runs past its timeout, and retries it", async () => {
    const h = harness([hang, {}], { timeoutMs: 2000 });
    h.c.start();
    h.c.enqueue("k");
    await tick(h.clock, 1999);
    expect(h.calls[0]?.ctx.signal.aborted).toBe(false);
    await tick(h.clock, 1);
    expect(h.calls[0]?.ctx.signal.aborted).toBe(true);
    expect((h.calls[0]?.ctx.signal.reason as Error | undefined)?.name).toBe("TimeoutError");
    await tick(h.clock, 5);
    expect(h.calls).toHaveLength(2);
    expect(h.calls[1]?.ctx.signal.aborted).toBe(false);
    expect(await h.count("error")).toBe(1);
  });

  it("gives each reconcile a child logger with controller, key and a fresh reconcileID", async () => {
    const h = harness([{}]);
    h.c.start();
    h.c.enqueue("a");
    await tick(h.clock);
    h.c.enqueue("a");
    await tick(h.clock);
    for (const call of h.calls) call.ctx.log.info("hello");
    const hello = h.lines.filter((l) => l.msg === "hello");
    expect(hello).toHaveLength(2);
    expect(hello[0]).toMatchObject({ controller: "test", key: "a" });
    expect(hello[0]?.reconcileID).toBe(h.calls[0]?.ctx.reconcileID);
    expect(hello[0]?.reconcileID).not.toBe(hello[1]?.reconcileID);
  });

  it("runs up to `workers` different keys at once, and one key never twice at once", async () => {
    const h = harness([hang], { workers: 2, timeoutMs: 1000 });
    h.c.start();
    for (const k of ["a", "b", "c"]) h.c.enqueue(k);
    await tick(h.clock);
    h.c.enqueue("a");
    await tick(h.clock);
    expect(h.calls.map((c) => c.key)).toEqual(["a", "b"]);
    expect(await metricValue(h.metrics.registry, "controller_runtime_active_workers")).toBe(2);
    expect(await metricValue(h.metrics.registry, "controller_runtime_max_concurrent_reconciles")).toBe(2);
  });

  it("stop waits for in-flight reconciles and takes no new keys", async () => {
    let release = () => {};
    const manual = () => new Promise<Result>((r) => (release = () => r({})));
    const h = harness([manual], { shutdownTimeoutMs: 1000 });
    h.c.enqueue("a");
    h.c.enqueue("b");
    h.c.start();
    await tick(h.clock);
    const onStop = vi.fn();
    void h.c.stop().then(onStop);
    await tick(h.clock, 999);
    expect(onStop).not.toHaveBeenCalled();
    release();
    await tick(h.clock);
    expect(onStop).toHaveBeenCalledWith(true);
    expect(h.calls.map((x) => x.key)).toEqual(["a"]);
    expect(h.clock.pending()).toBe(0);
  });

  it("stop aborts reconciles still running at the shutdown deadline", async () => {
    const h = harness([hang], { shutdownTimeoutMs: 500, timeoutMs: 0 });
    h.c.start();
    h.c.enqueue("x");
    await tick(h.clock);
    const stopped = h.c.stop();
    await tick(h.clock, 499);
    expect(h.calls[0]?.ctx.signal.aborted).toBe(false);
    await tick(h.clock, 1);
    expect(await stopped).toBe(false);
    expect(h.calls[0]?.ctx.signal.aborted).toBe(true);
  });

  it("records reconcile time", async () => {
    const h = harness([{}]);
    h.c.start();
    h.c.enqueue("a");
    await tick(h.clock);
    expect(await metricValue(h.metrics.registry, "controller_runtime_reconcile_time_seconds_count")).toBe(1);
  });
});

describe("isTerminal", () => {
  it("finds a TerminalError through causes", () => {
    expect(isTerminal(new TerminalError("x"))).toBe(true);
    expect(isTerminal(new Error("a", { cause: new Error("b", { cause: new TerminalError("c") }) }))).toBe(
      true,
    );
    expect(isTerminal(new Error("a", { cause: new Error("b") }))).toBe(false);
    expect(isTerminal("a string")).toBe(false);
  });
});
