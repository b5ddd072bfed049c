/**
 * method: container end to end: the real operator creates a Job per generation, the test kubelet
 * runs stage-in, a toy steering script and stage-out as processes, the real controller manager
 * tracks the Job, and the operator reads the framed output through the API server.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { DashboardReader } from "../../src/dashboard/reader.ts";
import { RequestView } from "../../src/dashboard/views.ts";
import type { GenerationRow } from "../../src/dashboard/wire.ts";
import { paths } from "../../src/runtime/client.ts";
import {
  api,
  applyRequest,
  eventsOf,
  points,
  startTrainer,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { steeringImages } from "../support/images.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;
let kubelet: Kubelet;
const opArgs = () => [
  `--namespaces=${ns}`,
  "--operator-image=hpo-operator:test",
  "--generation-retry-base=200ms",
  "--pending-timeout=2s",
];

beforeAll(async () => {
  ns = newNamespace("jobs");
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    images: steeringImages(),
  });
  op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: opArgs() });
}, 60_000);
afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  deleteNamespace(ns);
});

/** dashboardGenerations is the generations section of the dashboard's page of a request. */
async function dashboardGenerations(name: string): Promise<GenerationRow[]> {
  const view = new RequestView(new DashboardReader(api()), ns, name);
  try {
    await view.ready();
    return view.detail()?.generations ?? [];
  } finally {
    await view.stop();
  }
}

const space = { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } };
const args = (input = "%IN", output = "%OUT") => [
  "--max_points=%MAX_POINTS",
  "--num_points=%NUM_POINTS",
  `--input=${input}`,
  `--output=${output}`,
];
const branin = (p: Point) => {
  const { x, y } = p.params as { x: number; y: number };
  return (
    (y - (5.1 / (4 * Math.PI ** 2)) * x ** 2 + (5 / Math.PI) * x - 6) ** 2 +
    10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) +
    10
  );
};
const jobsOf = async (request: string) =>
  (
    await api().get<{ items: { metadata: { name: string } }[] }>(paths.collection("batch/v1", "jobs", ns), {
      query: { labelSelector: `hpo.dev/request=${request}` },
    })
  ).items.map((j) => j.metadata.name);

describe("a container generator", () => {
  it("runs from apply to Finished, and each generation gets exactly the iDDS input", async () => {
    // Not under /tmp: the generator has a /tmp volume of its own, which the test kubelet maps.
    const record = mkdtempSync("/var/tmp/hpo-record-");
    applyRequest(ns, "steer", {
      method: "container",
      searchSpace: space,
      maxPoints: 9,
      pointsPerGeneration: 3,
      generator: { image: "steering:test", args: args(), env: [{ name: "HPO_TEST_RECORD", value: record }] },
    });
    const fleet = startTrainer(ns, "steer", branin);
    const done = await waitForPhase(ns, "steer", "Finished", 90_000);
    await fleet.stop();
    const pts = await points(ns, "steer");
    expect(pts.map((p) => p.id)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(done.status?.generations).toBe(3);
    expect(readdirSync(record).sort()).toEqual(["input-0.json", "input-3.json", "input-6.json"]);
    for (const n of [0, 3, 6]) {
      const got = JSON.parse(readFileSync(join(record, `input-${n}.json`), "utf8"));
      expect(got).toEqual({ points: pts.slice(0, n).map((p) => [p.params, p.loss]), opt_space: space });
    }
    expect(await jobsOf("steer")).toEqual(["steer-gen-1", "steer-gen-2", "steer-gen-3"]);
    const reasons = (await eventsOf(ns, "steer")).map((e) => e.reason);
    expect(reasons).toContain("GenerationStarted");
    // The input ConfigMaps are deleted once their generation is read.
    const cms = kubectlOk(["get", "configmaps", "-n", ns, "-l", "hpo.dev/request=steer", "-o", "name"]);
    expect(cms.trim()).toBe("");
    // kubectl logs shows exactly what stage-out handed over.
    const pod = kubectlOk([
      "get",
      "pods",
      "-n",
      ns,
      "-l",
      "batch.kubernetes.io/job-name=steer-gen-1",
      "-o",
      "jsonpath={.items[0].metadata.name}",
    ]);
    expect(kubectlOk(["logs", "-n", ns, pod, "-c", "stage-out"])).toMatch(
      /^---HPO-OUTPUT v1 bytes=\d+ sha256=/,
    );
    expect(kubectlOk(["logs", "-n", ns, pod, "-c", "generator"])).toContain(
      "steering: 0 points known, asked for 3 (max 9)",
    );
    // The dashboard's generations: each one's Job, its pod, state and duration.
    const gens = await dashboardGenerations("steer");
    expect(gens.map((g) => [g.number, g.job, g.state, g.firstId, g.lastId])).toEqual([
      [1, "steer-gen-1", "Succeeded", 1, 3],
      [2, "steer-gen-2", "Succeeded", 4, 6],
      [3, "steer-gen-3", "Succeeded", 7, 9],
    ]);
    for (const g of gens) {
      expect(g.pods).toEqual([expect.stringMatching(new RegExp(`^${g.job}-\\w+ \\(Succeeded\\)$`))]);
      expect(g.durationSeconds).toBeGreaterThanOrEqual(0);
      expect(g.failures).toBe(0);
    }
  }, 120_000);

  it("understands iDDS-style /data/%IN and /data/%OUT", async () => {
    applyRequest(ns, "idds", {
      method: "container",
      searchSpace: space,
      maxPoints: 2,
      pointsPerGeneration: 2,
      generator: { image: "steering:test", args: args("/data/%IN", "/data/%OUT") },
    });
    const fleet = startTrainer(ns, "idds", branin);
    await waitForPhase(ns, "idds", "Finished", 60_000);
    await fleet.stop();
    expect(await points(ns, "idds")).toHaveLength(2);
  }, 90_000);

  it("ends cleanly when the generator returns []", async () => {
    applyRequest(ns, "empty", {
      method: "container",
      searchSpace: space,
      pointsPerGeneration: 2,
      generator: { image: "steering:test", args: args(), env: [{ name: "HPO_TEST_STOP_AT", value: "4" }] },
    });
    const fleet = startTrainer(ns, "empty", branin);
    const done = await waitForPhase(ns, "empty", "Finished", 90_000);
    await fleet.stop();
    expect(await points(ns, "empty")).toHaveLength(4);
    expect(done.status?.exhausted).toBe(true);
  }, 120_000);
});

describe("a failing generator", () => {
  const failing = async (name: string, mode: string, extra: Record<string, unknown> = {}) => {
    applyRequest(ns, name, {
      method: "container",
      searchSpace: space,
      maxPoints: 4,
      generator: {
        image: "steering:test",
        args: args(),
        retries: 2,
        env: [{ name: "HPO_TEST_MODE", value: mode }],
        ...extra,
      },
    });
    return waitForPhase(ns, name, "Failed", 90_000);
  };

  it("a crash is retried, then fails the request with the exit code and the log tail", async () => {
    const req = await failing("crash", "crash");
    expect(req.status?.lastGeneration).toMatchObject({ number: 1, state: "Failed", attempts: 3 });
    const msg = req.status?.lastGeneration?.message ?? "";
    expect(msg).toContain("the generator exited with code 3");
    expect(msg).toContain("ValueError: the model diverged");
    expect(req.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "GenerationFailed",
    });
    expect(await jobsOf("crash")).toEqual(["crash-gen-1", "crash-gen-1-r1", "crash-gen-1-r2"]);
    // The dashboard shows the latest attempt's Job, the failed pods of all three, and why.
    const [gen] = await dashboardGenerations("crash");
    expect(gen).toMatchObject({ number: 1, job: "crash-gen-1-r2", state: "Failed" });
    expect(gen?.failures).toBeGreaterThanOrEqual(3);
    expect(gen?.message).toContain("the generator exited with code 3");
    const warnings = (await eventsOf(ns, "crash")).filter((e) => e.reason === "GenerationFailed");
    expect(warnings).toHaveLength(3);
  }, 120_000);

  it("invalid JSON output fails with stage-out's reason", async () => {
    const req = await failing("invalid", "invalid");
    expect(req.status?.lastGeneration?.message).toContain("not valid JSON");
  }, 120_000);

  it("no output file fails with a message naming the file", async () => {
    const req = await failing("none", "none");
    // The test kubelet runs pods on this host, so /data stands translated to the pod's folder.
    expect(req.status?.lastGeneration?.message).toMatch(
      /the generator wrote no output file \S*\/output\.json$/,
    );
  }, 120_000);

  it("a generator past its timeoutSeconds is stopped and fails", async () => {
    const req = await failing("slow", "sleep", { timeoutSeconds: 2, retries: 0 });
    expect(req.status?.lastGeneration?.message).toContain("timed out after 2 s");
  }, 120_000);

  it("an image that cannot be pulled fails the generation", async () => {
    applyRequest(ns, "pull", {
      method: "container",
      searchSpace: space,
      generator: { image: "registry.example/missing:1", args: args(), retries: 0 },
    });
    const req = await waitForPhase(ns, "pull", "Failed", 60_000);
    expect(req.status?.lastGeneration?.message).toMatch(
      /container generator cannot start: (ErrImagePull|ImagePullBackOff)/,
    );
  }, 90_000);
});

describe("large inputs and outputs", () => {
  it("a generator writing 10 MB: the operator keeps the points it asked for", async () => {
    applyRequest(ns, "big", {
      method: "container",
      searchSpace: space,
      maxPoints: 5,
      pointsPerGeneration: 5,
      generator: { image: "steering:test", args: args(), env: [{ name: "HPO_TEST_MODE", value: "big" }] },
    });
    const pts = await waitForPoints(ns, "big", 5, 90_000);
    expect(pts.every((p) => Number(p.params.x) >= -5 && Number(p.params.x) <= 10)).toBe(true);
    const finished = await waitFor("the GenerationFinished event", async () =>
      (await eventsOf(ns, "big")).find((e) => e.reason === "GenerationFinished"),
    );
    expect(finished.message).toContain("the generator proposed 200000 points; kept 5");
  }, 120_000);

  it("an input of 10,000 points reaches the generator (gzip in the ConfigMap)", async () => {
    // Not under /tmp: the generator has a /tmp volume of its own, which the test kubelet maps.
    const record = mkdtempSync("/var/tmp/hpo-record-");
    const initialPoints = Array.from({ length: 10_000 }, (_, i) => ({
      params: { x: -5 + (15 * i) / 10_000, y: (i * 7) % 15 },
      loss: i % 97,
    }));
    applyRequest(ns, "warm", {
      method: "container",
      searchSpace: space,
      maxPoints: 10_002,
      pointsPerGeneration: 2,
      initialPoints,
      generator: { image: "steering:test", args: args(), env: [{ name: "HPO_TEST_RECORD", value: record }] },
    });
    await waitFor("10,002 points", async () => (await points(ns, "warm")).length === 10_002, 120_000);
    const got = JSON.parse(readFileSync(join(record, "input-10000.json"), "utf8"));
    expect(got.points).toHaveLength(10_000);
    expect(got.points[9999]).toEqual([initialPoints[9999]?.params, initialPoints[9999]?.loss]);
  }, 180_000);
});

describe("restarts and deletion", () => {
  it("a restarted operator adopts the running Job instead of starting a second one", async () => {
    applyRequest(ns, "adopt", {
      method: "container",
      searchSpace: space,
      maxPoints: 2,
      pointsPerGeneration: 2,
      generator: {
        image: "steering:test",
        args: args(),
        env: [
          { name: "HPO_TEST_MODE", value: "sleep" },
          { name: "HPO_TEST_SLEEP_MS", value: "4000" },
        ],
      },
    });
    await waitFor("the Job", async () => (await jobsOf("adopt")).length === 1, 30_000);
    await op.kill("SIGKILL");
    op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: opArgs() });
    await waitFor("2 points", async () => (await points(ns, "adopt")).length === 2, 60_000);
    expect(await jobsOf("adopt")).toEqual(["adopt-gen-1"]);
  }, 120_000);

  it("deleting a request removes its Jobs, pods and ConfigMaps", async () => {
    applyRequest(ns, "gone", {
      method: "container",
      searchSpace: space,
      generator: { image: "steering:test", args: args(), env: [{ name: "HPO_TEST_MODE", value: "sleep" }] },
    });
    await waitFor(
      "a running generator",
      async () => (await kubelet.processes()).some((p) => p.pod.startsWith("gone-gen-1")),
      30_000,
    );
    kubectlOk(["delete", "hpor", "gone", "-n", ns]);
    await waitFor(
      "Jobs, pods, ConfigMaps and processes gone",
      async () => {
        const left = kubectlOk([
          "get",
          "jobs,pods,configmaps,hps",
          "-n",
          ns,
          "-l",
          "hpo.dev/request=gone",
          "-o",
          "name",
        ]);
        const hps = kubectlOk(["get", "hps", "-n", ns, "-o", "name"]);
        return (
          left.trim() === "" &&
          !hps.includes("/gone-") &&
          !(await kubelet.processes()).some((p) => p.pod.startsWith("gone-"))
        );
      },
      60_000,
    );
  }, 90_000);
});
