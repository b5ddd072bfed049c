import { afterAll, describe, expect, it } from "vitest";
import { TimeoutError, WorkerPool } from "./pool.ts";

const space = { dims: [{ name: "x", kind: "float" as const, low: 0, high: 1, log: false }] };
const input = (count: number) => ({
  space,
  history: { evaluated: [], pending: [], failed: [] },
  count,
  seed: 3,
  direction: "minimize" as const,
});
const pool = new WorkerPool(1);
afterAll(() => pool.close());

describe("WorkerPool", () => {
  it("runs a method off the main thread and returns its points", async () => {
    const r = await pool.run("random", input(4), 30_000);
    expect(r.points).toHaveLength(4);
    expect(r.points.every((p) => typeof p.x === "number" && p.x >= 0 && p.x <= 1)).toBe(true);
  });
  it("is reproducible for the same seed", async () => {
    expect(await pool.run("random", input(3), 30_000)).toEqual(await pool.run("random", input(3), 30_000));
  });
  it("reports an unknown method as an error", async () => {
    await expect(pool.run("nope", input(1), 30_000)).rejects.toThrow('unknown built-in method "nope"');
  });
  it("fails a task that overruns its timeout, and the pool keeps working", async () => {
    const big = {
      ...input(1),
      space: {
        dims: Array.from({ length: 20 }, (_, i) => ({
          name: `x${i}`,
          kind: "float" as const,
          low: 0,
          high: 1,
          log: false,
        })),
      },
    };
    const history = {
      evaluated: Array.from({ length: 400 }, (_, i) => ({
        params: Object.fromEntries(big.space.dims.map((d, j) => [d.name, ((i * 7 + j * 13) % 100) / 100])),
        loss: i % 17,
      })),
      pending: [],
      failed: [],
    };
    await expect(pool.run("bayesian", { ...big, history, count: 10 }, 1)).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect((await pool.run("random", input(2), 30_000)).points).toHaveLength(2);
  });
});
