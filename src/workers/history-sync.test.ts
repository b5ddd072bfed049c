import { describe, expect, it } from "vitest";
import type { Point } from "../api/index.ts";
import { compileSearchSpace } from "../generators/space.ts";
import type { SearchSpace } from "../generators/types.ts";
import { HistorySync, WorkerHistory } from "./history-sync.ts";

const compiled = compileSearchSpace({ x: { type: "float", low: 0, high: 1 } });
const space = (compiled.ok ? compiled.value : undefined) as SearchSpace;
const pt = (id: number, extra: Partial<Point> = {}): Point => ({
  id: String(id),
  params: { x: id / 100 },
  generation: 1,
  state: "New",
  set: "s-1",
  ...extra,
});

describe("history kept by a worker, sent as changes", () => {
  it("sends every point once, then only new points and changed outcomes", () => {
    const sync = new HistorySync();
    const first = [pt(1), pt(2)];
    const m1 = sync.message("u", 1, first);
    expect([m1.reset, m1.version, m1.changes]).toEqual([
      true,
      0,
      [
        [1, { x: 0.01 }, "N", null],
        [2, { x: 0.02 }, "N", null],
      ],
    ]);
    // The same point objects again: nothing to send.
    expect(sync.message("u", 1, first).changes).toEqual([]);
    // Point 1 evaluated (a new object, as when its set changed) and point 3 added.
    const m3 = sync.message("u", 1, [pt(1, { state: "Evaluated", loss: 0.5 }), first[1] as Point, pt(3)]);
    expect([m3.reset, m3.version, m3.changes]).toEqual([
      false,
      2,
      [
        [1, null, "E", 0.5],
        [3, { x: 0.03 }, "N", null],
      ],
    ]);
    // Another worker thread gets the whole history.
    expect(sync.message("u", 2, first).reset).toBe(true);
  });

  it("rebuilds the history and the seen keys from the changes, without touching the kept keys", () => {
    const sync = new HistorySync();
    const worker = new WorkerHistory();
    worker.apply(sync.message("u", 1, [pt(1), pt(2)]), space);
    const { history, seenKeys } = worker.apply(
      sync.message("u", 1, [
        pt(1, { state: "Evaluated", loss: 0.5 }),
        pt(2, { state: "Failed", reason: "x" }),
        pt(3),
      ]),
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
    const again = worker.apply(sync.message("u", 1, []), space);
    expect(again.seenKeys.size).toBe(3);
  });

  it("refuses a message that does not follow the last one it applied", () => {
    const sync = new HistorySync();
    const worker = new WorkerHistory();
    worker.apply(sync.message("u", 1, [pt(1)]), space);
    sync.message("u", 1, [pt(2)]); // lost on the way
    expect(() => worker.apply(sync.message("u", 1, [pt(3)]), space)).toThrow("out of sync");
    expect(() =>
      new WorkerHistory().apply({ uid: "v", reset: false, version: 3, changes: [] }, space),
    ).toThrow("no history kept");
  });
});
