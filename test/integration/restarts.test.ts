/**
 * Correct under kills and replicas: the operator process is killed with SIGKILL at random moments
 * while a simulated training fleet reports losses, and the final state must hold exactly the
 * expected point ids, no duplicates and every reported loss. Two replicas: only the leader acts,
 * and a killed leader is replaced within 20 s.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { pointKey } from "../../src/controller/generator.ts";
import {
  applyRequest,
  getRequest,
  lossOf,
  points,
  reportLosses,
  startTrainer,
  waitFor,
  waitForPhase,
} from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { metricSum, type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const space = {
  x: { type: "float", low: -5, high: 10 },
  y: { type: "float", low: 0, high: 15 },
  k: { type: "int", low: 1, high: 1000 },
};

const procs: OperatorProcess[] = [];
async function start(ns: string, extra: string[] = []): Promise<OperatorProcess> {
  const p = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, ...extra],
  });
  procs.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
});

function checkFinal(final: Point[], total: number, reported: Map<string, number>): void {
  expect(final.map((p) => p.id)).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
  expect(new Set(final.map((p) => pointKey(p.params))).size).toBe(total);
  for (const [id, loss] of reported)
    expect(final.find((p) => p.id === id)?.loss, `loss of point ${id}`).toBe(loss);
  const gens = [...new Set(final.map((p) => p.generation))].sort((a, b) => (a ?? 0) - (b ?? 0));
  expect(gens).toEqual(Array.from({ length: gens.length }, (_, i) => i + 1));
}

describe("the operator killed with SIGKILL at random moments", () => {
  let ns = "";
  beforeAll(() => {
    ns = newNamespace("kill");
  });
  afterAll(() => deleteNamespace(ns));

  it("20 kills: exactly the expected point ids, no duplicates, every reported loss", async () => {
    applyRequest(ns, "chaos", {
      method: "random",
      searchSpace: space,
      maxPoints: 60,
      pointsPerGeneration: 3,
      seed: 11,
    });
    const fleet = startTrainer(ns, "chaos");
    // Small sets (12 points of this space each): the 20 generations roll over to a new set 4 times.
    const small = ["--set-bytes=4096"];
    let op = await start(ns, small);
    for (let kill = 1; kill <= 20; kill++) {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 400));
      await op.kill("SIGKILL");
      op = await start(ns, small);
    }
    const done = await waitForPhase(ns, "chaos", "Finished", 90_000);
    await fleet.stop();
    const final = await points(ns, "chaos");
    checkFinal(final, 60, fleet.reported);
    expect(fleet.reported.size).toBe(60);
    expect(done.status?.points).toEqual({ total: 60, evaluated: 60, unevaluated: 0, failed: 0 });
    expect(done.status?.generations).toBe(20);
    expect(new Set(final.map((p) => p.set)).size).toBe(Math.ceil(60 / (done.status?.pointsPerSet ?? 60)));
  }, 240_000);
});

describe("two replicas with leader election", () => {
  let ns = "";
  beforeAll(() => {
    ns = newNamespace("leader");
  });
  afterAll(() => deleteNamespace(ns));

  const leaderOf = async (p: OperatorProcess) =>
    /leader_election_master_status\{[^}]*\} 1/.test(await p.metrics());
  const reconciles = async (p: OperatorProcess) =>
    metricSum(await p.metrics(), "controller_runtime_reconcile_total");

  it("only the leader reconciles; killing it hands over within 20 s", async () => {
    const args = [
      "--leader-elect=true",
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=hpo-test",
    ];
    const a = await start(ns, [...args, "--identity=replica-a"]);
    await waitFor("replica a to lead", () => leaderOf(a), 30_000);
    const b = await start(ns, [...args, "--identity=replica-b"]);
    applyRequest(ns, "ha", { method: "random", searchSpace: space, maxPoints: 9, pointsPerGeneration: 3 });
    const first = await waitFor("3 points", async () =>
      (await points(ns, "ha")).length === 3 ? points(ns, "ha") : undefined,
    );
    expect(await leaderOf(b)).toBe(false);
    expect(await reconciles(b)).toBe(0);
    expect(await reconciles(a)).toBeGreaterThan(0);

    const killedAt = Date.now();
    await a.kill("SIGKILL");
    await reportLosses(ns, "ha", Object.fromEntries(first.map((p) => [p.id, lossOf(p)])));
    await waitFor(
      "6 points (replica b took over)",
      async () => (await points(ns, "ha")).length === 6,
      30_000,
    );
    const handover = Date.now() - killedAt;
    expect(handover).toBeLessThan(20_000);
    expect(await leaderOf(b)).toBe(true);
    expect(await reconciles(b)).toBeGreaterThan(0);
    process.stderr.write(`leader handover after SIGKILL: ${handover} ms\n`);
  }, 90_000);

  it("a replica stopped with SIGTERM releases the lease at once", async () => {
    const args = [
      "--leader-elect=true",
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=hpo-term",
    ];
    const c = await start(ns, [...args, "--identity=replica-c"]);
    await waitFor("replica c to lead", () => leaderOf(c), 30_000);
    const d = await start(ns, [...args, "--identity=replica-d"]);
    const t0 = Date.now();
    expect(await c.kill("SIGTERM")).toBe(0);
    await waitFor("replica d to lead", () => leaderOf(d), 20_000);
    // Released, not expired: well under the 15 s lease.
    expect(Date.now() - t0).toBeLessThan(10_000);
    const req = await getRequest(ns, "ha");
    expect(req?.status?.phase).toBeDefined();
  }, 60_000);
});
