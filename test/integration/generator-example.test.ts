/**
 * The "write your own generator" page keeps working: docs/examples/steering.py, its Dockerfile and
 * its request are the ones the page shows, and the request runs from apply to Finished through the
 * real operator, API server, Job controller and the test kubelet, with the script under python3.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { repoRoot } from "../support/controlplane.ts";
import { points, startTrainer, waitForPhase } from "../support/hpo.ts";
import { jobLog } from "../support/job-logs.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import { hadolintBinary } from "../support/tools.ts";

const examples = join(repoRoot, "docs/examples");
const read = (file: string) => readFileSync(join(examples, file), "utf8");

let ns = "";
let op: OperatorProcess;
let kubelet: Kubelet;

beforeAll(async () => {
  ns = newNamespace("example");
  // The real interpreter, not a version manager's shim that reads HOME (the kubelet sets its own).
  const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  if (python.status !== 0) throw new Error(`python3 is needed for the example: ${python.stderr}`);
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    images: {
      "hpo-operator:test": { entrypoint: [process.execPath, join(repoRoot, "src/cli/main.ts")] },
      "registry.example/my-steering:1.0": {
        entrypoint: ["python3", join(examples, "steering.py")],
        pathMap: { "/app": examples },
        env: { PATH: `${dirname(python.stdout.trim())}:${process.env.PATH}`, PYTHONDONTWRITEBYTECODE: "1" },
      },
    },
  });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--operator-image=hpo-operator:test"],
  });
}, 120_000);
afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  deleteNamespace(ns);
});

describe("docs/generators.md", () => {
  it("shows the example files as they are", () => {
    const page = readFileSync(join(repoRoot, "docs/generators.md"), "utf8");
    expect(page).toContain(`\`\`\`python\n${read("steering.py")}\`\`\``);
    expect(page).toContain(`\`\`\`dockerfile\n${read("Dockerfile")}\`\`\``);
    expect(page).toContain(`\`\`\`yaml\n${read("steering-request.yaml")}\`\`\``);
  });

  it("runs the example request from apply to Finished with the example script", async () => {
    kubectlOk(["apply", "-n", ns, "-f", join(examples, "steering-request.yaml")]);
    const objective = (p: Point) => {
      const { lr, layers, optimizer } = p.params as { lr: number; layers: number; optimizer: string };
      return (Math.log10(lr) + 2) ** 2 + Math.abs(layers - 4) / 4 + (optimizer === "adam" ? 0 : 0.3);
    };
    const fleet = startTrainer(ns, "my-steering", objective);
    const done = await waitForPhase(ns, "my-steering", "Finished", 150_000);
    await fleet.stop();
    const pts = await points(ns, "my-steering");
    expect(pts).toHaveLength(12);
    expect(done.status?.generations).toBe(3);
    expect(new Set(pts.map((p) => JSON.stringify(p.params))).size).toBe(12);
    for (const { params: p } of pts) {
      expect((p.lr as number) >= 1e-4 && (p.lr as number) <= 0.1).toBe(true);
      expect(Number.isInteger(p.layers) && (p.layers as number) >= 1 && (p.layers as number) <= 8).toBe(true);
      expect(["adam", "sgd"]).toContain(p.optimizer);
    }
    expect(jobLog(ns, "my-steering-gen-3", "generator")).toBe(
      "steering: 8 points known, 8 evaluated; wrote 4\n",
    );
  }, 180_000);

  it("has an example Dockerfile that passes hadolint", () => {
    const r = spawnSync(hadolintBinary(), ["--no-color", "Dockerfile"], { cwd: examples, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
