import { describe, expect, it } from "vitest";
import type { HyperParameterSet } from "../api/index.ts";
import { KeyedBatcher } from "./batcher.ts";
import { planBatch } from "./coalesce.ts";

const set = (losses: Record<string, number>, failed: Record<string, string> = {}): HyperParameterSet =>
  ({
    metadata: { name: "r-1" },
    spec: { request: "r", firstId: 1, lastId: 4, losses, failed },
    status: { points: ["1", "2", "3", "4"].map((id) => ({ id, params: { x: Number(id) }, generation: 1 })) },
  }) as unknown as HyperParameterSet;

describe("planBatch", () => {
  it("writes every report in one patch when the set is not read yet", () => {
    const plan = planBatch(undefined, undefined, "r", [
      { id: "1", loss: 0.1 },
      { id: "2", loss: 0.2 },
    ]);
    expect(plan.losses).toEqual({ "1": 0.1, "2": 0.2 });
    expect(plan.verdicts.map((v) => v.kind)).toEqual(["write", "write"]);
  });
  it("keeps the first loss: same loss done, another refused with 409 naming the point", () => {
    const plan = planBatch(set({ "2": 0.5 }), undefined, "r", [
      { id: "2", loss: 0.5 },
      { id: "2", loss: 0.7 },
      { id: "3", loss: 0.3 },
    ]);
    expect(plan.losses).toEqual({ "3": 0.3 });
    expect(plan.verdicts[0]).toEqual({ kind: "done" });
    expect(plan.verdicts[1]).toMatchObject({
      kind: "refused",
      error: { status: 409, exceptionClass: "ConflictRequestException" },
    });
    expect((plan.verdicts[1] as { error: Error }).error.message).toMatch(/^point 2 already has the loss 0.5/);
  });
  it("lets the first of two reports of one point in one batch decide", () => {
    const plan = planBatch(undefined, undefined, "r", [
      { id: "1", loss: 0.1 },
      { id: "1", loss: 0.1 },
      { id: "1", loss: 0.9 },
    ]);
    expect(plan.losses).toEqual({ "1": 0.1 });
    expect(plan.verdicts.map((v) => v.kind)).toEqual(["write", "write", "refused"]);
  });
  it("refuses unknown points (404) and points that failed (409)", () => {
    const plan = planBatch(set({}, { "4": "OOMKilled" }), undefined, "r", [
      { id: "9", loss: 1 },
      { id: "4", loss: 1 },
    ]);
    expect(plan.verdicts[0]).toMatchObject({
      kind: "refused",
      error: { status: 404, exceptionClass: "NoObject" },
    });
    expect(plan.verdicts[1]).toMatchObject({ kind: "refused", error: { status: 409 } });
    expect((plan.verdicts[1] as { error: Error }).error.message).toContain("was reported failed (OOMKilled)");
    expect(plan.losses).toEqual({});
  });
  it("decides initial points given with a loss from the request alone", () => {
    const initial = [{ params: { x: 1 }, loss: 0.3 }];
    const plan = planBatch(undefined, initial, "r", [
      { id: "1", loss: 0.3 },
      { id: "1", loss: 0.4 },
    ]);
    expect(plan.verdicts.map((v) => v.kind)).toEqual(["done", "refused"]);
  });
});

describe("KeyedBatcher", () => {
  it("sends the items of one tick together, and those arriving during a flight as the next batch", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const b = new KeyedBatcher<number, number>(async (_k, items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((i) => i * 10);
    });
    const first = [b.submit("s", 1), b.submit("s", 2)];
    await Promise.resolve();
    await Promise.resolve();
    const later = [b.submit("s", 3), b.submit("s", 4), b.submit("s", 5)];
    expect(batches).toEqual([[1, 2]]);
    release();
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
  });
  it("runs keys independently and settles each item with its own outcome", async () => {
    const b = new KeyedBatcher<number, number>(async (_k, items) =>
      items.map((i) => (i < 0 ? new Error(`bad ${i}`) : i)),
    );
    const [a, c, d] = await Promise.allSettled([b.submit("a", 1), b.submit("b", -2), b.submit("a", 3)]);
    expect(a).toEqual({ status: "fulfilled", value: 1 });
    expect(c).toMatchObject({ status: "rejected", reason: { message: "bad -2" } });
    expect(d).toEqual({ status: "fulfilled", value: 3 });
    expect(b.pending).toBe(0);
  });
  it("rejects every item of a batch whose run fails, and keeps serving the key", async () => {
    let fail = true;
    const b = new KeyedBatcher<number, number>(async (_k, items) => {
      if (fail) throw new Error("API server down");
      return items;
    });
    await expect(b.submit("a", 1)).rejects.toThrow("API server down");
    fail = false;
    await expect(b.submit("a", 2)).resolves.toBe(2);
  });
  it("caps a batch at maxBatch", async () => {
    const sizes: number[] = [];
    const b = new KeyedBatcher<number, number>(async (_k, items) => items, {
      maxBatch: 2,
      onBatch: (n) => sizes.push(n),
    });
    await Promise.all([1, 2, 3, 4, 5].map((i) => b.submit("k", i)));
    expect(sizes).toEqual([2, 2, 1]);
  });
});
