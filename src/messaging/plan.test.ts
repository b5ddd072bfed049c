import { describe, expect, it } from "vitest";
import { hps, ids, request } from "../controller/core.testkit.ts";
import { scanView } from "../controller/setsview.ts";
import { unconfirmedSets } from "./plan.ts";

describe("unconfirmedSets", () => {
  // Sets of 4: ids 1-2 initial (generation 0), 3-6 generation 1, 7-10 generation 2.
  const sets = [
    hps(1, 4, [...ids(1, 2, 0), ...ids(3, 4, 1)]),
    hps(2, 4, [...ids(5, 6, 1), ...ids(7, 8, 2)]),
    hps(3, 4, ids(9, 10, 2)),
  ];
  const view = scanView(request(), sets);
  const names = (mark: number, perSet: number | undefined) =>
    unconfirmedSets(view, perSet, mark)
      .map((s) => s.metadata?.name)
      .sort();

  it("reads every set until something is confirmed, or when the set size is not known", () => {
    expect(names(-1, 4)).toEqual(["r-1", "r-2", "r-3"]);
    expect(names(1, undefined)).toEqual(["r-1", "r-2", "r-3"]);
  });

  it("reads from the highest ids down to the set whose first point is at or below the watermark", () => {
    expect(names(0, 4)).toEqual(["r-1", "r-2", "r-3"]);
    expect(names(1, 4)).toEqual(["r-2", "r-3"]);
    expect(names(2, 4)).toEqual(["r-3"]);
  });

  it("steps over a set deleted by hand", () => {
    const gap = scanView(
      request(),
      [sets[0], sets[2]].filter((s) => s !== undefined),
    );
    expect(unconfirmedSets(gap, 4, 0).map((s) => s.metadata?.name)).toEqual(["r-3", "r-1"]);
  });
});
