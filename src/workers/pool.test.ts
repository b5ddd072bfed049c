import { afterAll, describe, expect, it } from "vitest";
import type { HyperParameterSet } from "../api/index.ts";
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
  it("gives a method the history its worker keeps, as if the whole history had been sent", async () => {
    // Set s-1 holds four points of x = 0.1 .. 0.4, two of them evaluated.
    const set: HyperParameterSet = {
      metadata: { name: "s-1" },
      spec: { request: "s", firstId: 1, lastId: 8, losses: { "1": 0.5, "3": 0.25 } },
      status: {
        total: 4,
        points: [1, 2, 3, 4].map((id) => ({ id: String(id), params: { x: id / 10 }, generation: 1 })),
      },
    };
    const history = {
      evaluated: [
        { params: { x: 0.1 }, loss: 0.5 },
        { params: { x: 0.3 }, loss: 0.25 },
      ],
      pending: [{ x: 0.2 }, { x: 0.4 }],
      failed: [],
    };
    for (const method of ["tpe", "sobol"]) {
      const whole = await pool.run(method, { ...input(3), history }, 30_000);
      const synced = await pool.run(method, input(3), 30_000, {
        uid: `u-${method}`,
        source: { sets: [set], initial: undefined },
      });
      expect(synced.points, method).toEqual(whole.points);
    }
  });
});
