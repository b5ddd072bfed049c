import { describe, expect, it } from "vitest";
import type { HyperParameterSet, PointSource } from "../api/index.ts";
import { compileSearchSpace } from "../generators/space.ts";
import type { SearchSpace } from "../generators/types.ts";
import { HistorySync, WorkerHistory } from "./history-sync.ts";

const compiled = compileSearchSpace({ x: { type: "float", low: 0, high: 1 } });
const space = (compiled.ok ? compiled.value : undefined) as SearchSpace;
/** set builds set s-k holding points ids (params {x: id / 100}) with the reports given. */
const set = (
  k: number,
  ids: number[],
  reports: { losses?: Record<string, number>; failed?: Record<string, string> } = {},
): HyperParameterSet => ({
  metadata: { name: `s-${k}` },
  spec: { request: "s", firstId: ids[0] ?? 1, lastId: (ids[0] ?? 1) + 9, ...reports },
  status: {
    total: ids.length,
    points: ids.map((id) => ({ id: String(id), params: { x: id / 100 }, generation: 1 })),
  },
});
const src = (...sets: HyperParameterSet[]): PointSource => ({ sets, initial: undefined });

describe("history kept by a worker, sent as changes", () => {
  it("sends every point once, then only new points and changed outcomes, in id order", () => {
    const sync = new HistorySync();
    const first = set(1, [1, 2]);
    const m1 = sync.message("u", 1, src(first));
    expect([m1.reset, m1.version, m1.changes]).toEqual([
      true,
      0,
      [
        [1, { x: 0.01 }, "N", null],
        [2, { x: 0.02 }, "N", null],
      ],
    ]);
    // The same set object again: nothing to send.
    expect(sync.message("u", 1, src(first)).changes).toEqual([]);
    // Point 1 evaluated (a new copy of its set) and point 11 added in another set, listed first.
    const m3 = sync.message("u", 1, src(set(2, [11]), set(1, [1, 2], { losses: { "1": 0.5 } })));
    expect([m3.reset, m3.version, m3.changes]).toEqual([
      false,
      2,
      [
        [1, null, "E", 0.5],
        [11, { x: 0.11 }, "N", null],
      ],
    ]);
    // Another worker thread gets the whole history.
    expect(sync.message("u", 2, src(first)).reset).toBe(true);
  });

  it("rebuilds the history and the seen keys from the changes, without touching the kept keys", () => {
    const sync = new HistorySync();
    const worker = new WorkerHistory();
    worker.apply(sync.message("u", 1, src(set(1, [1, 2]))), space);
    const { history, seenKeys } = worker.apply(
      sync.message("u", 1, src(set(1, [1, 2, 3], { losses: { "1": 0.5 }, failed: { "2": "x" } }))),
      space,
    );
    expect(history).toEqual({
      evaluated: [{ params: { x: 0.01 }, loss: 0.5 }],
      pending: [{ x: 0.03 }],
      failed: [{ x: 0.02 }],
    });
    expect(seenKeys.size).toBe(3);
    seenKeys.add("a point the method proposed");
    expect(seenKeys.has("a point the method proposed")).toBe(true);
    const again = worker.apply(sync.message("u", 1, src()), space);
    expect(again.seenKeys.size).toBe(3);
  });

  it("refuses a message that does not follow the last one it applied", () => {
    const sync = new HistorySync();
    const worker = new WorkerHistory();
    worker.apply(sync.message("u", 1, src(set(1, [1]))), space);
    sync.message("u", 1, src(set(1, [1, 2]))); // lost on the way
    expect(() => worker.apply(sync.message("u", 1, src(set(1, [1, 2, 3]))), space)).toThrow("out of sync");
    expect(() =>
      new WorkerHistory().apply({ uid: "v", reset: false, version: 3, changes: [] }, space),
    ).toThrow("no history kept");
  });
});
