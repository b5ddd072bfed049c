import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import type { SearchSpace, SuggestInput, SuggestResult } from "../generators/types.ts";
import type { WorkerPool } from "../workers/pool.ts";
import { BuiltinGenerator, type GenerationRequest } from "./generator.ts";

/** FakePool answers each run() when the test says so, and records what it was asked. */
class FakePool {
  readonly asked: SuggestInput[] = [];
  private answers: ((r: SuggestResult | Error) => void)[] = [];
  run(_method: string, input: SuggestInput): Promise<SuggestResult> {
    this.asked.push(input);
    return new Promise((resolve, reject) => {
      this.answers.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
    });
  }
  /** answer settles the oldest run still waiting. */
  answer(r: SuggestResult | Error): void {
    this.answers.shift()?.(r);
  }
  /** forgotten are the requests whose kept history the generator dropped. */
  readonly forgotten: string[] = [];
  forget(uid: string): void {
    this.forgotten.push(uid);
  }
}

const space: SearchSpace = { dims: [{ name: "x", kind: "float", low: 0, high: 10, log: false }] };
const request: HPORequest = { metadata: { name: "r", namespace: "n", uid: "u" }, spec: { method: "random" } };
const ask = (over: Partial<GenerationRequest> = {}): GenerationRequest => ({
  request,
  space,
  history: { sets: [], initial: undefined },
  number: 1,
  count: 2,
  firstId: 1,
  attempt: 1,
  seed: 7,
  ...over,
});

/** world is a BuiltinGenerator over a fake pool; done() resolves when onDone is next called. */
function world() {
  const pool = new FakePool();
  let notify: () => void = () => {};
  let doneCalls = 0;
  const gen = new BuiltinGenerator(pool as unknown as WorkerPool, 30_000, () => {
    doneCalls++;
    notify();
  });
  const done = () =>
    new Promise<void>((resolve) => {
      notify = resolve;
    });
  return { pool, gen, done, doneCalls: () => doneCalls };
}

describe("BuiltinGenerator", () => {
  it("answers running, calls onDone when the method is done, and gives the outcome to the same question", async () => {
    const w = world();
    expect(await w.gen.generate(ask())).toEqual({ kind: "running", requeueAfterMs: 30_000 });
    // Asked again while it runs: still running, and the method is not started twice.
    expect((await w.gen.generate(ask())).kind).toBe("running");
    expect(w.pool.asked).toHaveLength(1);
    const finished = w.done();
    w.pool.answer({ points: [{ x: 1 }, { x: 2 }, { x: 3 }] });
    await finished;
    expect(await w.gen.generate(ask())).toEqual({
      kind: "points",
      points: [{ x: 1 }, { x: 2 }],
      warnings: ["the generator proposed 3 points; kept 2"],
    });
    // Kept until settled: asked again (the store failed), the same outcome, clipped to a smaller count.
    expect(await w.gen.generate(ask({ count: 1 }))).toMatchObject({ kind: "points", points: [{ x: 1 }] });
    w.gen.settle("u", 1);
    expect((await w.gen.generate(ask())).kind).toBe("running");
    expect(w.pool.asked).toHaveLength(2);
  });

  it("keeps a finished outcome for the next reconcile until it is settled", async () => {
    const w = world();
    await w.gen.generate(ask({ number: 3, attempt: 2, firstId: 9 }));
    expect(w.gen.kept("u")).toBeUndefined(); // still running
    const finished = w.done();
    w.pool.answer({ points: [{ x: 1 }] });
    await finished;
    expect(w.gen.kept("u")).toEqual({
      number: 3,
      attempt: 2,
      firstId: 9,
      result: { kind: "points", points: [{ x: 1 }], warnings: [] },
    });
    expect(w.gen.kept("other")).toBeUndefined();
    w.gen.settle("u", 3);
    expect(w.gen.kept("u")).toBeUndefined();
  });

  it("drops the result of a run that another question replaced", async () => {
    const w = world();
    await w.gen.generate(ask({ attempt: 1 }));
    await w.gen.generate(ask({ attempt: 2 }));
    const finished = w.done();
    w.pool.answer({ points: [{ x: 1 }] }); // attempt 1: stale
    w.pool.answer({ points: [{ x: 5 }] }); // attempt 2
    await finished;
    expect(w.doneCalls()).toBe(1);
    expect(await w.gen.generate(ask({ attempt: 2 }))).toMatchObject({ kind: "points", points: [{ x: 5 }] });
  });

  it("settles only the generation it is told", async () => {
    const w = world();
    await w.gen.generate(ask({ number: 2 }));
    const finished = w.done();
    w.pool.answer({ points: [{ x: 1 }] });
    await finished;
    w.gen.settle("u", 1);
    expect((await w.gen.generate(ask({ number: 2 }))).kind).toBe("points");
    w.gen.forget("u");
    expect(w.pool.forgotten).toEqual(["u"]); // the workers drop the history they keep of it
    expect((await w.gen.generate(ask({ number: 2 }))).kind).toBe("running");
  });

  it.each([
    ["the method returns no point: exhausted", { points: [] }, { kind: "exhausted" }],
    [
      "the method fails",
      new Error("worker crashed"),
      { kind: "failed", message: "method random: worker crashed" },
    ],
    [
      "a point outside the space",
      { points: [{ x: 11 }] },
      { kind: "failed", message: expect.stringMatching(/^point 1 of the batch is not in the search space/) },
    ],
  ])("%s", async (_what, answer, want) => {
    const w = world();
    await w.gen.generate(ask());
    const finished = w.done();
    w.pool.answer(answer as SuggestResult | Error);
    await finished;
    expect(await w.gen.generate(ask())).toEqual(want);
  });

  it("drops a point repeated within a batch (the worker checked the history), and fails a request without a search space", async () => {
    const w = world();
    await w.gen.generate(ask());
    let finished = w.done();
    w.pool.answer({ points: [{ x: 1 }, { x: 1 }] });
    await finished;
    expect(await w.gen.generate(ask())).toEqual({
      kind: "points",
      points: [{ x: 1 }],
      warnings: ['dropped 1 duplicate point(s), such as {"x":1}'],
    });
    const v = world();
    finished = v.done(); // no method runs: onDone comes at once
    await v.gen.generate(ask({ space: undefined }));
    await finished;
    expect(await v.gen.generate(ask({ space: undefined }))).toEqual({
      kind: "failed",
      message: "the built-in methods need a search space",
    });
    expect(v.pool.asked).toHaveLength(0);
  });
});
