/**
 * Every built-in method, selected in an HPORequest, runs from apply to Finished through the real
 * operator: points respect the space's types and bounds, none repeats, and grid ends cleanly when
 * it has proposed every point of its grid (the generator's `[]`).
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { pointKey } from "../../src/controller/generator.ts";
import { applyRequest, points, startTrainer, waitForPhase } from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;
beforeAll(async () => {
  ns = newNamespace("methods");
  op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] });
});
afterAll(async () => {
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

const space = {
  lr: { type: "float", low: 1e-4, high: 0.1, log: true },
  units: { type: "int", low: 8, high: 64, step: 8 },
  act: { type: "categorical", choices: ["relu", "tanh", "gelu"] },
};

/** objective is a smooth toy loss with its optimum near lr = 0.01, units = 32, act = gelu. */
function objective(p: Point): number {
  const { lr, units, act } = p.params as { lr: number; units: number; act: string };
  return (Math.log10(lr) + 2) ** 2 + ((units - 32) / 32) ** 2 + (act === "gelu" ? 0 : 0.5);
}

function checkSpace(pts: Point[]): void {
  for (const p of pts) {
    const { lr, units, act } = p.params as { lr: number; units: number; act: string };
    expect(lr).toBeGreaterThanOrEqual(1e-4);
    expect(lr).toBeLessThanOrEqual(0.1);
    expect(Number.isInteger(units) && units >= 8 && units <= 64 && units % 8 === 0, `units ${units}`).toBe(
      true,
    );
    expect(["relu", "tanh", "gelu"]).toContain(act);
  }
  expect(new Set(pts.map((p) => pointKey(p.params))).size).toBe(pts.length);
}

describe.each(["random", "sobol", "tpe", "cmaes", "bayesian"])("method %s", (method) => {
  it("runs from apply to Finished with points in the space and no duplicates", async () => {
    const name = `m-${method}`;
    applyRequest(ns, name, { method, searchSpace: space, maxPoints: 16, pointsPerGeneration: 4, seed: 3 });
    const fleet = startTrainer(ns, name, objective);
    const done = await waitForPhase(ns, name, "Finished", 90_000);
    await fleet.stop();
    const pts = await points(ns, name);
    expect(pts).toHaveLength(16);
    checkSpace(pts);
    expect(done.status?.generations).toBe(4);
    const best = Math.min(...pts.map((p) => p.loss ?? Number.POSITIVE_INFINITY));
    expect(done.status?.best?.loss).toBe(best);
  }, 120_000);
});

describe("method grid", () => {
  it("proposes every grid point once and ends cleanly when the grid is exhausted", async () => {
    applyRequest(ns, "m-grid", {
      method: "grid",
      searchSpace: {
        units: { type: "int", low: 8, high: 32, step: 8 },
        act: { type: "categorical", choices: ["relu", "gelu"] },
      },
      pointsPerGeneration: 3,
    });
    const fleet = startTrainer(ns, "m-grid", (p) => Number((p.params as { units: number }).units));
    const done = await waitForPhase(ns, "m-grid", "Finished", 90_000);
    await fleet.stop();
    const pts = await points(ns, "m-grid");
    expect(pts.map((p) => `${p.params.units}/${p.params.act}`).sort()).toEqual([
      "16/gelu",
      "16/relu",
      "24/gelu",
      "24/relu",
      "32/gelu",
      "32/relu",
      "8/gelu",
      "8/relu",
    ]);
    expect(done.status?.exhausted).toBe(true);
    expect(done.status?.message).toContain("the generator has no more points");
  }, 120_000);
});
