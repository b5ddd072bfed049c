/**
 * A request's points across several HyperParameterSets, on the real control plane with the operator
 * as a process (small sets: --set-bytes=4096, 12 points of this space a set): batches roll over
 * from one set to the next while a fleet reports; a kill -9 in the middle of a rollover loses no id
 * and stores none twice; a report goes to the set that holds the point, found by the rule.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type HyperParameterSet, setNameOf } from "../../src/api/index.ts";
import { pointKey } from "../../src/controller/generator.ts";
import { paths } from "../../src/runtime/client.ts";
import {
  api,
  applyRequest,
  eventsOf,
  getRequest,
  points,
  setsOf,
  startTrainer,
  waitFor,
  waitForPhase,
} from "../support/hpo.ts";
import { deleteNamespace, kubectl, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const space = {
  x: { type: "float", low: -5, high: 10 },
  y: { type: "float", low: 0, high: 15 },
  k: { type: "int", low: 1, high: 1000 },
};
const SMALL = "--set-bytes=4096";

let ns = "";
const procs: OperatorProcess[] = [];
async function start(): Promise<OperatorProcess> {
  const p = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, SMALL],
  });
  procs.push(p);
  return p;
}
beforeAll(() => {
  ns = newNamespace("shards");
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  deleteNamespace(ns);
});

/** exactIds checks that the points are ids 1..n, each once, each with distinct params. */
function exactIds(final: { id: string; params: Record<string, unknown> }[], n: number): void {
  expect(final.map((p) => p.id)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
  expect(new Set(final.map((p) => pointKey(p.params))).size).toBe(n);
}

describe("batches roll over from set to set", () => {
  it("while a fleet reports: every loss recorded, ids exact, the sets hold the ranges of the rule", async () => {
    const op = await start();
    applyRequest(ns, "roll", {
      method: "random",
      searchSpace: space,
      maxPoints: 70,
      pointsPerGeneration: 10,
      minUnevaluatedPoints: 4, // generation overlaps the reports: sets fill while reporters write
      seed: 3,
    });
    const fleet = startTrainer(ns, "roll");
    const done = await waitForPhase(ns, "roll", "Finished", 90_000);
    await fleet.stop();
    const final = await points(ns, "roll");
    exactIds(final, 70);
    for (const p of final) expect(p.loss, `loss of point ${p.id}`).toBe(fleet.reported.get(p.id));
    const perSet = done.status?.pointsPerSet ?? 0;
    expect(perSet).toBe(12);
    for (const p of final) expect(p.set).toBe(setNameOf("roll", Number(p.id), perSet));
    const sets = await setsOf(ns, "roll");
    expect(sets.map((s) => [s.metadata?.name, s.spec.firstId, s.spec.lastId, s.status?.total])).toEqual(
      Array.from({ length: 6 }, (_, i) => [`roll-${i + 1}`, 12 * i + 1, 12 * (i + 1), i < 5 ? 12 : 10]),
    );
    const best = [...fleet.reported].sort((a, b) => a[1] - b[1] || Number(a[0]) - Number(b[0]))[0];
    expect(done.status?.best).toMatchObject({ id: best?.[0], loss: best?.[1] });
    expect(done.status?.sets).toBe(6);
    // The largest object the operator wrote stays far below 512 KiB.
    for (const s of sets) expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(8 * 1024);
    await op.kill("SIGTERM");
  }, 120_000);
});

describe("kill -9 in the middle of a rollover", () => {
  it("loses no id and stores none twice", async () => {
    applyRequest(ns, "cut", {
      method: "random",
      searchSpace: space,
      maxPoints: 90,
      pointsPerGeneration: 30,
      seed: 5,
    });
    let op = await start();
    const fleet = startTrainer(ns, "cut");
    // Kill the operator as soon as a batch's last set exists: it is between two sets of one batch
    // (creating them, or appending to the first ones); sets 3 and 6 are the last of batches 1 and 3.
    for (const k of [3, 6]) {
      await waitFor(
        `set cut-${k}`,
        async () => (await setsOf(ns, "cut")).some((s) => s.metadata?.name === `cut-${k}`),
        60_000,
      );
      await op.kill("SIGKILL");
      op = await start();
    }
    await waitForPhase(ns, "cut", "Finished", 90_000);
    await fleet.stop();
    const final = await points(ns, "cut");
    exactIds(final, 90);
    for (const [id, loss] of fleet.reported) expect(final.find((p) => p.id === id)?.loss).toBe(loss);
    // Whatever a kill left of a batch was recorded as that generation: its ids continue exactly.
    const gens = [...new Set(final.map((p) => p.generation))];
    expect(gens).toEqual(Array.from({ length: gens.length }, (_, i) => i + 1));
    await op.kill("SIGTERM");
  }, 240_000);
});

describe("reports on the sets", () => {
  it("are refused on the wrong set, and a repeated refused report raises no Warning", async () => {
    const op = await start();
    applyRequest(ns, "where", {
      method: "random",
      searchSpace: space,
      maxPoints: 20,
      pointsPerGeneration: 20,
    });
    await waitFor("20 points", async () => (await points(ns, "where")).length === 20);
    const req = await getRequest(ns, "where");
    expect(req?.status?.pointsPerSet).toBe(12);
    // Point 15 lives in where-2; reporting it on where-1 is refused, twice, with the same message.
    for (let i = 0; i < 2; i++) {
      const r = kubectl([
        "patch",
        "-n",
        ns,
        "hps",
        "where-1",
        "--type",
        "merge",
        "-p",
        '{"spec":{"losses":{"15":0.5}}}',
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("names a point of another set");
    }
    const ok = kubectl([
      "patch",
      "-n",
      ns,
      "hps",
      "where-2",
      "--type",
      "merge",
      "-p",
      '{"spec":{"losses":{"15":0.5}}}',
    ]);
    expect(ok.code).toBe(0);
    const set = await api().get<HyperParameterSet>(
      paths.object("hpo.dev/v1alpha1", "hyperparametersets", ns, "where-2"),
    );
    expect(set.spec.losses).toEqual({ "15": 0.5 });
    await waitFor(
      "the loss counted",
      async () => (await getRequest(ns, "where"))?.status?.points?.evaluated === 1,
    );
    expect((await eventsOf(ns, "where")).filter((e) => e.type === "Warning")).toEqual([]);
    await op.kill("SIGTERM");
  }, 60_000);
});
