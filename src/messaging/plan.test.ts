import { describe, expect, it } from "vitest";
import type { HPORequest, HPORequestStatus, Point } from "../api/index.ts";
import { hps, ids, request } from "../controller/core.testkit.ts";
import { scanView } from "../controller/setsview.ts";
import { BrokerRefusedError, BrokerUnavailableError } from "./errors.ts";
import {
  batchesOf,
  conditionAfter,
  destinationOf,
  notificationAfter,
  pendingSteps,
  unconfirmedSets,
  withCondition,
} from "./plan.ts";

const p = (id: number, generation: number): Point => ({
  id: String(id),
  params: { x: id },
  generation,
  state: "New",
  set: "r-1",
});
const points = [p(1, 0), p(2, 0), p(3, 1), p(4, 1), p(5, 2)];
const req = (status: HPORequestStatus = {}, loss?: number): HPORequest => ({
  metadata: { name: "r", namespace: "n", uid: "u", generation: 1 },
  spec: { method: "random", initialPoints: [{ params: { x: 1 }, loss }, { params: { x: 2 } }] },
  status,
});

describe("batchesOf", () => {
  it("groups by generation in order; initial points given with a loss are not announced", () => {
    expect(batchesOf(points, req()).map((b) => [b.generation, b.points.map((x) => x.id)])).toEqual([
      [0, ["1", "2"]],
      [1, ["3", "4"]],
      [2, ["5"]],
    ]);
    expect(batchesOf(points, req({}, 0.5))[0]?.points.map((x) => x.id)).toEqual(["2"]);
  });
});

/** gen is status.lastGeneration recording generation number as Succeeded: its batch is stored whole. */
const gen = (number: number) => ({ lastGeneration: { number, state: "Succeeded" as const } });

describe("pendingSteps", () => {
  it("sends what is above the watermark, then the end once", () => {
    const steps = pendingSteps(req({ ...gen(2), notification: { confirmedGeneration: 0 } }), points);
    expect(steps.map((s) => (s.kind === "batch" ? s.batch.generation : s.key))).toEqual([1, 2]);
    const ended = req({
      ...gen(2),
      phase: "Finished",
      generations: 2,
      notification: { confirmedGeneration: 2 },
    });
    expect(pendingSteps(ended, points).map((s) => s.kind)).toEqual(["end"]);
    const done = req({
      ...gen(2),
      phase: "Finished",
      generations: 2,
      notification: { confirmedGeneration: 2, endConfirmed: "Finished/2" },
    });
    expect(pendingSteps(done, points)).toEqual([]);
    // resumed and ended again: a new end message
    const again = req({
      ...gen(3),
      phase: "Finished",
      generations: 3,
      notification: { confirmedGeneration: 2, endConfirmed: "Finished/2" },
    });
    expect(pendingSteps(again, [...points, p(6, 3)]).map((s) => s.kind)).toEqual(["batch", "end"]);
  });
  it.each([
    [
      "generation 2 is still Running (its sets are being written)",
      { lastGeneration: { number: 2, state: "Running" as const } },
      [0, 1],
    ],
    ["the status records only generation 1", gen(1), [0, 1]],
    ["no generation recorded yet", {}, [0]],
    ["a retried generation 2 failed", { lastGeneration: { number: 2, state: "Failed" as const } }, [0, 1]],
    ["generation 2 is recorded as stored", gen(2), [0, 1, 2]],
  ])("does not announce a batch not yet recorded as stored whole: %s", (_what, status, want) => {
    const steps = pendingSteps(req(status), points);
    expect(steps.map((s) => (s.kind === "batch" ? s.batch.generation : s.key))).toEqual(want);
  });
  it("announces initial points only once all of them are stored, or a generation is recorded", () => {
    expect(pendingSteps(req(), [p(1, 0)])).toEqual([]);
    expect(pendingSteps(req(gen(1)), [p(1, 0)]).map((s) => s.kind)).toEqual(["batch"]);
    expect(pendingSteps(req(), [p(1, 0), p(2, 0)]).map((s) => s.kind)).toEqual(["batch"]);
  });
  it("a failed request without points still ends", () => {
    expect(pendingSteps(req({ phase: "Failed" }), [])).toMatchObject([{ kind: "end", key: "Failed/0" }]);
  });
});

describe("notificationAfter and conditionAfter", () => {
  const base = { destination: "/queue/a", requestId: 5, workloadId: 6, now: "2026-01-01T00:00:00.000Z" };
  const steps = pendingSteps(req(gen(2)), points);
  it("moves the watermark only over confirmed steps and counts the backlog", () => {
    const n = notificationAfter(
      { confirmedMessages: 2 },
      { ...base, confirmed: steps.slice(0, 2), remaining: 1, error: new BrokerUnavailableError("down") },
    );
    expect(n).toEqual({
      enabled: true,
      requestId: 5,
      workloadId: 6,
      destination: "/queue/a",
      unconfirmedBatches: 1,
      confirmedGeneration: 1,
      confirmedMessages: 4,
      lastConfirmedAt: base.now,
      lastError: "down",
    });
    const ok = notificationAfter(n, { ...base, confirmed: steps.slice(2), remaining: 0 });
    expect(ok.confirmedGeneration).toBe(2);
    expect(ok.lastError).toBeUndefined();
  });
  it("names the failure in the condition", () => {
    const a = { ...base, confirmed: [], remaining: 3, error: new BrokerRefusedError("bad login") };
    expect(conditionAfter(a)).toMatchObject({ status: "False", reason: "BrokerRefused" });
    expect(conditionAfter(a).message).toContain("3 batches waiting");
    expect(conditionAfter({ ...base, confirmed: [], remaining: 0 }, 4)).toMatchObject({
      status: "True",
      reason: "Delivered",
    });
    expect(conditionAfter("disabled")).toMatchObject({ status: "False", reason: "MessagingDisabled" });
  });
  it("keeps other conditions and the transition time while the status stays", () => {
    const list = withCondition(
      [{ type: "Ready", status: "True", reason: "Waiting", message: "", lastTransitionTime: "t0" }],
      { status: "False", reason: "X", message: "m" },
      1,
      "t1",
    );
    expect(list.map((c) => c.type)).toEqual(["Ready", "Announced"]);
    expect(
      withCondition(list, { status: "False", reason: "Y", message: "m2" }, 1, "t2")[1]?.lastTransitionTime,
    ).toBe("t1");
    expect(
      withCondition(list, { status: "True", reason: "Delivered", message: "" }, 1, "t3")[1]
        ?.lastTransitionTime,
    ).toBe("t3");
  });
  it("uses the request's destination, else the default", () => {
    expect(destinationOf(req(), "/topic/hpo.points")).toBe("/topic/hpo.points");
    expect(
      destinationOf(
        { ...req(), spec: { method: "random", notification: { destination: "/queue/x" } } },
        "/topic/d",
      ),
    ).toBe("/queue/x");
  });
});

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
