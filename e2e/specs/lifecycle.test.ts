/**
 * End-to-end specs: what a user does, checked the same way on the local test control plane (CI)
 * and on a kind cluster with the operator installed from the Helm chart (`make test-e2e`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyRequest, points, startTrainer, waitForPhase } from "../../test/support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../../test/support/kubectl.ts";
import { type E2eEnv, OPERATOR_IMAGE, startEnv } from "../env.ts";

let ns = "";
let env: E2eEnv;
beforeAll(async () => {
  ns = newNamespace("e2e");
  env = await startEnv(ns);
}, 120_000);
afterAll(async () => {
  await env?.stop();
  deleteNamespace(ns);
});

const space = { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } };

describe("a built-in method, from kubectl apply to Finished", () => {
  it("tpe: every point evaluated, the best loss on the request", async () => {
    applyRequest(ns, "builtin", {
      method: "tpe",
      searchSpace: space,
      maxPoints: 12,
      pointsPerGeneration: 4,
      seed: 1,
    });
    const fleet = startTrainer(ns, "builtin", (p) => Number(p.params.x) ** 2 + Number(p.params.y));
    const done = await waitForPhase(ns, "builtin", "Finished", 120_000);
    await fleet.stop();
    const pts = await points(ns, "builtin");
    expect(pts).toHaveLength(12);
    expect(done.status?.best?.loss).toBe(Math.min(...pts.map((p) => p.loss ?? Number.POSITIVE_INFINITY)));
    expect(kubectlOk(["get", "hpor", "builtin", "-n", ns])).toMatch(/builtin\s+tpe\s+Finished\s+12\s+12/);
  }, 180_000);
});

describe("a container generator, from kubectl apply to Finished", () => {
  it("the operator's own image as an iDDS steering container (generate --method sobol)", async () => {
    applyRequest(ns, "steered", {
      method: "container",
      searchSpace: space,
      maxPoints: 6,
      pointsPerGeneration: 3,
      generator: {
        image: OPERATOR_IMAGE,
        args: [
          "generate",
          "--method=sobol",
          "--max_points=%MAX_POINTS",
          "--num_points=%NUM_POINTS",
          "--input=%IN",
          "--output=%OUT",
        ],
      },
    });
    const fleet = startTrainer(ns, "steered", (p) => Math.abs(Number(p.params.x)) + Number(p.params.y));
    const done = await waitForPhase(ns, "steered", "Finished", 180_000);
    await fleet.stop();
    expect(await points(ns, "steered")).toHaveLength(6);
    expect(done.status?.generations).toBe(2);
    const jobs = kubectlOk(["get", "jobs", "-n", ns, "-l", "hpo.dev/request=steered", "-o", "name"])
      .trim()
      .split("\n");
    expect(jobs).toEqual(["job.batch/steered-gen-1", "job.batch/steered-gen-2"]);
  }, 240_000);
});
