/**
 * The lifecycle a user relies on, on the real control plane with the real operator process and the
 * real kubectl: apply, read points, report losses one by one and in bulk, new generations at the
 * threshold, a clean end with the right best point; overlap with minUnevaluatedPoints; suspend;
 * raising maxPoints of a finished request; and bad input that must never crash or lose a loss.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import {
  applyRequest,
  eventsOf,
  getRequest,
  getSet,
  lossOf,
  points,
  reportLosses,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;

beforeAll(async () => {
  ns = newNamespace("life");
  // Small sets (13 points of this space each), so that requests here span several of them.
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--set-bytes=4096"],
  });
});
afterAll(async () => {
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

const space = {
  lr: { type: "float", low: 1e-5, high: 0.1, log: true },
  layers: { type: "int", low: 1, high: 8 },
  optimizer: { type: "categorical", choices: ["adam", "sgd"] },
};

function inSpace(p: Point): boolean {
  const { lr, layers, optimizer } = p.params as { lr: number; layers: number; optimizer: string };
  return (
    lr >= 1e-5 &&
    lr <= 0.1 &&
    Number.isInteger(layers) &&
    layers >= 1 &&
    layers <= 8 &&
    ["adam", "sgd"].includes(optimizer)
  );
}

describe("a whole lifecycle", () => {
  it("generates at the threshold, records every loss and ends Finished with the best point", async () => {
    applyRequest(ns, "life", {
      method: "random",
      searchSpace: space,
      maxPoints: 25,
      pointsPerGeneration: 10,
      initialPoints: [{ params: { lr: 0.01, layers: 2, optimizer: "adam" }, loss: 0.41 }],
      seed: 7,
    });
    // The initial point is evaluated, so the first generation starts at once: 1 + 10 points.
    let pts = await waitForPoints(ns, "life", 11);
    expect(pts[0]).toMatchObject({ id: "1", state: "Evaluated", loss: 0.41, generation: 0 });
    expect(pts.slice(1).map((p) => p.id)).toEqual(["2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
    expect(pts.slice(1).every((p) => p.generation === 1 && p.state === "New" && inSpace(p))).toBe(true);
    // The sets are written before the request's status: wait for the status to count them.
    const req = await waitFor("the status of 11 points", async () => {
      const r = await getRequest(ns, "life");
      return r?.status?.phase === "Waiting" && r.status.points?.total === 11 ? r : undefined;
    });
    expect(req.status?.points).toEqual({ total: 11, evaluated: 1, unevaluated: 10, failed: 0 });

    // A user reads the points with kubectl (13 to a set here) and reports losses one by one...
    const sets = JSON.parse(kubectlOk(["get", "-n", ns, "hps", "-l", "hpo.dev/request=life", "-o", "json"]))
      .items as {
      metadata: { name: string };
      spec: { firstId: number; lastId: number };
      status: { points: Point[] };
    }[];
    expect(sets.map((s) => [s.metadata.name, s.spec.firstId, s.spec.lastId])).toEqual([["life-1", 1, 13]]);
    expect(sets.flatMap((s) => s.status.points).map((p) => p.id)).toEqual(pts.map((p) => p.id));
    expect(req.status?.pointsPerSet).toBe(13);
    const reported = new Map<string, number>([["1", 0.41]]);
    for (const p of pts.slice(1, 6)) {
      reported.set(p.id, lossOf(p));
      await reportLosses(ns, "life", { [p.id]: lossOf(p) });
    }
    await waitFor(
      "5 losses recorded",
      async () => (await getRequest(ns, "life"))?.status?.points?.evaluated === 6,
    );
    expect(await points(ns, "life")).toHaveLength(11); // threshold not crossed: no new generation

    // ...and the rest in bulk: crossing the threshold brings generation 2.
    const bulk = Object.fromEntries(pts.slice(6).map((p) => [p.id, lossOf(p)]));
    for (const [id, l] of Object.entries(bulk)) reported.set(id, l);
    await reportLosses(ns, "life", bulk);
    pts = await waitForPoints(ns, "life", 21);
    expect(pts.slice(11).every((p) => p.generation === 2 && p.state === "New")).toBe(true);

    const gen2 = Object.fromEntries(pts.slice(11).map((p) => [p.id, lossOf(p)]));
    for (const [id, l] of Object.entries(gen2)) reported.set(id, l);
    await reportLosses(ns, "life", gen2);
    // maxPoints 25: the last generation asks for 4.
    pts = await waitForPoints(ns, "life", 25);
    expect(pts.slice(21).map((p) => p.id)).toEqual(["22", "23", "24", "25"]);
    const gen3 = Object.fromEntries(pts.slice(21).map((p) => [p.id, lossOf(p)]));
    for (const [id, l] of Object.entries(gen3)) reported.set(id, l);
    await reportLosses(ns, "life", gen3);

    const done = await waitForPhase(ns, "life", "Finished");
    const final = (await points(ns, "life")) as Point[];
    expect(final).toHaveLength(25);
    expect([...new Set(final.map((p) => p.set))]).toEqual(["life-1", "life-2"]);
    const listed = kubectlOk(["get", "-n", ns, "hps", "-l", "hpo.dev/request=life"]);
    expect(listed).toMatch(/life-1\s+life\s+1\s+13\s+13/);
    expect(listed).toMatch(/life-2\s+life\s+14\s+26\s+12/);
    expect(new Set(final.map((p) => p.id)).size).toBe(25);
    for (const p of final) expect(p.loss).toBe(reported.get(p.id));
    const [bestId, bestLoss] = [...reported].sort(
      (a, b) => a[1] - b[1] || Number(a[0]) - Number(b[0]),
    )[0] as [string, number];
    expect(done.status?.best).toMatchObject({ id: bestId, loss: bestLoss });
    expect(done.status?.points).toEqual({ total: 25, evaluated: 25, unevaluated: 0, failed: 0 });
    expect(done.status?.generations).toBe(3);
    const cond = Object.fromEntries((done.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(cond.Ready).toMatchObject({
      status: "True",
      reason: "Finished",
      observedGeneration: done.metadata?.generation,
    });
    expect(cond.Complete).toMatchObject({ status: "True" });
    expect(cond.Failed).toMatchObject({ status: "False" });
    expect(cond.SpecValid).toMatchObject({ status: "True" });

    const events = await eventsOf(ns, "life");
    const reasons = events.map((e) => e.reason);
    for (const r of ["SetCreated", "GenerationFinished", "Finished"]) expect(reasons).toContain(r);
    expect(events.filter((e) => e.reason === "GenerationFinished").map((e) => e.message)).toContain(
      "generation 3 (random, attempt 1): added 4 points (ids 22-25)",
    );
    const printed = kubectlOk(["get", "-n", ns, "hpor", "life"]);
    expect(printed).toMatch(new RegExp(`life\\s+random\\s+Finished\\s+25\\s+25\\s+${bestLoss}`));
  });

  it("raising maxPoints of a Finished request resumes it", async () => {
    kubectlOk(["patch", "-n", ns, "hpor", "life", "--type", "merge", "-p", '{"spec":{"maxPoints":30}}']);
    const pts = await waitForPoints(ns, "life", 30);
    expect(pts.slice(25).every((p) => p.generation === 4)).toBe(true);
    await waitForPhase(ns, "life", "Waiting");
  });
});

describe("minUnevaluatedPoints overlaps generation with evaluation", () => {
  it("starts the next generation when the unevaluated points fall to the threshold", async () => {
    applyRequest(ns, "overlap", {
      method: "random",
      searchSpace: space,
      pointsPerGeneration: 4,
      minUnevaluatedPoints: 2,
      maxPoints: 12,
    });
    const gen1 = await waitForPoints(ns, "overlap", 4);
    await reportLosses(ns, "overlap", { [gen1[0]?.id ?? ""]: 1 });
    await waitFor(
      "1 loss recorded",
      async () => (await getRequest(ns, "overlap"))?.status?.points?.evaluated === 1,
    );
    expect(await points(ns, "overlap")).toHaveLength(4); // 3 unevaluated > 2
    await reportLosses(ns, "overlap", { [gen1[1]?.id ?? ""]: 2 });
    const pts = await waitForPoints(ns, "overlap", 8); // 2 unevaluated <= 2: generation 2 while 2 still train
    expect(pts.filter((p) => p.state === "New").map((p) => p.id)).toEqual(["3", "4", "5", "6", "7", "8"]);
  });
});

describe("a HyperParameterSet deleted by hand", () => {
  it("is told once with a Warning, and new ids continue after the ones handed out", async () => {
    applyRequest(ns, "gone", { method: "random", searchSpace: space, pointsPerGeneration: 3, maxPoints: 30 });
    const gen1 = await waitForPoints(ns, "gone", 3);
    await reportLosses(ns, "gone", Object.fromEntries(gen1.map((p, i) => [p.id, i])));
    await waitForPoints(ns, "gone", 6);
    kubectlOk(["delete", "-n", ns, "hps", "gone-1", "--wait=true"]);
    // Its points are gone; the set is created again for the next ids, which start at 7, never at 1.
    const again = await waitForPoints(ns, "gone", 3);
    expect(again.map((p) => p.id)).toEqual(["7", "8", "9"]);
    expect(again.every((p) => p.set === "gone-1")).toBe(true);
    const req = await waitFor("deletedSets", async () => {
      const r = await getRequest(ns, "gone");
      return r?.status?.deletedSets?.length ? r : undefined;
    });
    expect(req.status?.deletedSets).toEqual([1]);
    const warnings = await waitFor("the SetDeleted event", async () => {
      const w = (await eventsOf(ns, "gone")).filter((e) => e.reason === "SetDeleted");
      return w.length > 0 ? w : undefined;
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.type).toBe("Warning");
    expect(warnings[0]?.message).toMatch(
      /gone-1 was deleted: its points \(ids 1-13\).*new ids continue after 6/,
    );
    // A loss for a point that went with the set is refused by the API server, naming what it holds.
    const refused = kubectl([
      "patch",
      "-n",
      ns,
      "hps",
      "gone-1",
      "--type",
      "merge",
      "-p",
      '{"spec":{"losses":{"2":0.5}}}',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("it holds ids 7 to 9");
  });
});

describe("suspend", () => {
  it("pauses generation without losing losses, and resumes", async () => {
    applyRequest(ns, "pause", { method: "random", searchSpace: space, pointsPerGeneration: 3, maxPoints: 9 });
    const gen1 = await waitForPoints(ns, "pause", 3);
    kubectlOk(["patch", "-n", ns, "hpor", "pause", "--type", "merge", "-p", '{"spec":{"suspend":true}}']);
    await waitForPhase(ns, "pause", "Suspended");
    await reportLosses(ns, "pause", Object.fromEntries(gen1.map((p, i) => [p.id, i])));
    await waitFor(
      "losses recorded while suspended",
      async () => (await getRequest(ns, "pause"))?.status?.points?.evaluated === 3,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await points(ns, "pause")).toHaveLength(3);
    kubectlOk(["patch", "-n", ns, "hpor", "pause", "--type", "merge", "-p", '{"spec":{"suspend":false}}']);
    await waitForPoints(ns, "pause", 6);
  });
});

describe("bad input never crashes the operator nor loses a loss", () => {
  it("the API server refuses a loss for an unknown id, a second different loss and a loss on a failed point", async () => {
    applyRequest(ns, "bad", { method: "random", searchSpace: space, pointsPerGeneration: 3, maxPoints: 3 });
    const [a, b, c] = (await waitForPoints(ns, "bad", 3)) as [Point, Point, Point];
    const patch = (spec: unknown) =>
      kubectl(["patch", "-n", ns, "hps", "bad-1", "--type", "merge", "-p", JSON.stringify({ spec })]);
    expect(patch({ failed: { [c.id]: "OOMKilled" } }).code).toBe(0);
    expect(patch({ losses: { [a.id]: 0.5 } }).code).toBe(0);
    const unknown = patch({ losses: { "9": 0.1 } });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("spec.losses names a point this set does not hold: it holds ids 1 to 3");
    const second = patch({ losses: { [a.id]: 0.7 } });
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain("the first reported loss of a point stands");
    const onFailed = patch({ losses: { [c.id]: 0.2 } });
    expect(onFailed.code).not.toBe(0);
    expect(onFailed.stderr).toContain("a point has one outcome");
    const removed = patch({ losses: null });
    expect(removed.code).not.toBe(0);
    expect(removed.stderr).toContain("spec.losses cannot be removed");
    const elsewhere = patch({ losses: { "5000": 0.1 } });
    expect(elsewhere.code).not.toBe(0);
    expect(elsewhere.stderr).toContain("names a point of another set");
    const byId = Object.fromEntries((await points(ns, "bad")).map((p) => [p.id, p]));
    expect(byId[a.id]).toMatchObject({ state: "Evaluated", loss: 0.5 });
    expect(byId[c.id]).toMatchObject({ state: "Failed", reason: "OOMKilled" });
    // The request still ends: b is reported; c failed, so the end is SubFinished. Nothing was ignored.
    await reportLosses(ns, "bad", { [b.id]: 0.3 });
    const done = await waitForPhase(ns, "bad", "SubFinished");
    expect(done.status?.points).toEqual({ total: 3, evaluated: 2, unevaluated: 0, failed: 1 });
    expect((await eventsOf(ns, "bad")).filter((e) => e.type === "Warning")).toEqual([]);
    expect(op.child.exitCode).toBeNull();
  });

  it("an invalid search space sets SpecValid=False with what to fix, and creates nothing", async () => {
    applyRequest(ns, "invalid", {
      method: "tpe",
      searchSpace: { opt: { type: "categorical", choices: [{ a: 1 }] } },
    });
    const req = await waitForPhase(ns, "invalid", "Failed");
    const specValid = req.status?.conditions?.find((c) => c.type === "SpecValid");
    expect(specValid).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(specValid?.message).toContain("spec.searchSpace");
    expect(specValid?.message).toContain('"opt"');
    expect(req.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False" });
    expect(await getSet(ns, "invalid")).toBeUndefined();
    // The Event is posted beside the status write, not before it: wait for it.
    const ev = await waitFor("the InvalidSpec event", async () =>
      (await eventsOf(ns, "invalid")).find((e) => e.reason === "InvalidSpec"),
    );
    expect(ev.type).toBe("Warning");
  });
});
