/**
 * method: nevergrad end to end with the real library: the operator fills spec.generator from its
 * preset (the nevergrad image, `python /app/main.py` and the iDDS args), the test kubelet runs the
 * checkout's generators/nevergrad/main.py in the pinned virtualenv of setup-venv.sh, and the
 * points come back through stage-out and the API server.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { paths } from "../../src/runtime/client.ts";
import { repoRoot } from "../support/controlplane.ts";
import { api, applyRequest, points, startTrainer, waitForPhase } from "../support/hpo.ts";
import { jobLog } from "../support/job-logs.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { NEVERGRAD_IMAGE, nevergradImage } from "../support/nevergrad.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import { hadolintBinary } from "../support/tools.ts";

let ns = "";
let op: OperatorProcess;
let kubelet: Kubelet;

beforeAll(async () => {
  ns = newNamespace("nevergrad");
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    images: {
      "hpo-operator:test": { entrypoint: [process.execPath, `${repoRoot}/src/cli/main.ts`] },
      [NEVERGRAD_IMAGE]: nevergradImage(),
    },
  });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--operator-image=hpo-operator:test", "--generation-retry-base=200ms"],
  });
}, 600_000);
afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  deleteNamespace(ns);
});

/** The generator container of a generation's Job, as the operator wrote it. */
async function generatorOf(job: string) {
  const j = await api().get<{
    spec: {
      template: {
        spec: { initContainers: { name: string; image: string; command: string[]; args: string[] }[] };
      };
    };
  }>(paths.object("batch/v1", "jobs", ns, job));
  return j.spec.template.spec.initContainers.find((c) => c.name === "generator");
}

const key = (p: Pick<Point, "params">) =>
  JSON.stringify(Object.entries(p.params).sort(([a], [b]) => a.localeCompare(b)));

describe("method: nevergrad", () => {
  it("runs from apply to Finished on an iDDS nevergrad opt_space, with distinct points in the space", async () => {
    const optSpace = {
      lr: { type: "Log", bounds: [1e-4, 1e-1] },
      layers: { type: "Scalar", params: { lower: 1, upper: 6, integer: true } },
      opt: { type: "Choice", params: { choices: ["adam", "sgd", "rmsprop"] } },
      dropout: { type: "Scalar", bounds: [0, 0.5] },
    };
    applyRequest(ns, "idds", { method: "nevergrad", optSpace, maxPoints: 9, pointsPerGeneration: 3 });
    const objective = (p: Point) => {
      const { lr, layers, opt, dropout } = p.params as {
        lr: number;
        layers: number;
        opt: string;
        dropout: number;
      };
      return (Math.log10(lr) + 2.5) ** 2 + (layers - 3) ** 2 / 4 + (opt === "adam" ? 0 : 0.5) + dropout;
    };
    const fleet = startTrainer(ns, "idds", objective);
    const done = await waitForPhase(ns, "idds", "Finished", 240_000);
    await fleet.stop();
    const pts = await points(ns, "idds");
    expect(pts.map((p) => p.id)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(new Set(pts.map(key)).size).toBe(9);
    for (const { params: p } of pts) {
      expect(Object.keys(p).sort()).toEqual(["dropout", "layers", "lr", "opt"]);
      expect(p.lr).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(p.layers) && (p.layers as number) >= 1 && (p.layers as number) <= 6).toBe(true);
      expect(["adam", "sgd", "rmsprop"]).toContain(p.opt);
      expect((p.dropout as number) >= 0 && (p.dropout as number) <= 0.5).toBe(true);
    }
    expect(pts.every((p) => p.state === "Evaluated")).toBe(true);
    expect(done.status?.generations).toBe(3);
    // The preset: the nevergrad image, python /app/main.py and the iDDS args, substituted.
    expect(await generatorOf("idds-gen-3")).toMatchObject({
      image: NEVERGRAD_IMAGE,
      command: ["python", "/app/main.py"],
      args: ["--max_points=9", "--num_points=3", "--input=idds_input.json", "--output=output.json"],
    });
    expect(jobLog(ns, "idds-gen-3", "generator")).toMatch(
      /wrote 3 point\(s\) to output\.json \(optimizer DiscreteOnePlusOne.*history 6 evaluated, 0 without a loss, 6 told/,
    );
  }, 300_000);

  it("takes the user's args over the preset's and ends with [] once a finite canonical space is used up", async () => {
    const searchSpace = {
      layers: { type: "int", low: 1, high: 3 },
      opt: { type: "categorical", choices: ["adam", "sgd"] },
    };
    const args = [
      "--max_points=%MAX_POINTS",
      "--num_points=%NUM_POINTS",
      "--input=/data/%IN",
      "--output=/data/%OUT",
    ];
    applyRequest(ns, "small", {
      method: "nevergrad",
      searchSpace,
      pointsPerGeneration: 4,
      generator: { args: [...args, "--optimizer=DiscreteOnePlusOne", "--seed=7"] },
    });
    const fleet = startTrainer(
      ns,
      "small",
      (p) => Number(p.params.layers) + (p.params.opt === "sgd" ? 1 : 0),
    );
    const done = await waitForPhase(ns, "small", "Finished", 240_000);
    await fleet.stop();
    const pts = await points(ns, "small");
    expect(pts.map(key).sort()).toEqual(
      [1, 2, 3].flatMap((layers) => ["adam", "sgd"].map((opt) => key({ params: { layers, opt } }))).sort(),
    );
    expect(done.status?.exhausted).toBe(true);
    expect(done.status?.generations).toBe(3);
    const gen = await generatorOf("small-gen-3");
    expect(gen?.command).toEqual(["python", "/app/main.py"]);
    expect(gen?.args).toEqual([
      "--max_points=1000000",
      "--num_points=4",
      "--input=/data/idds_input.json",
      "--output=/data/output.json",
      "--optimizer=DiscreteOnePlusOne",
      "--seed=7",
    ]);
    expect(jobLog(ns, "small-gen-3", "generator")).toContain("wrote 0 point(s)");
  }, 300_000);

  it("has a Dockerfile that passes hadolint", () => {
    const r = spawnSync(hadolintBinary(), ["--no-color", "generators/nevergrad/Dockerfile"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
