import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { paths } from "../../src/runtime/client.ts";
import { NotFoundError } from "../../src/runtime/errors.ts";
import {
  api,
  applyRequest,
  eventsOf,
  getRequest,
  getSet,
  points,
  waitFor,
  waitForPoints,
} from "../support/hpo.ts";
import { steeringImages } from "../support/images.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { metricSum, type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let kubelet: Kubelet;
let op: OperatorProcess;

beforeAll(async () => {
  ns = newNamespace("adopt");
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns],
    images: steeringImages(),
  });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--operator-image=hpo-operator:test"],
  });
}, 60_000);
afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  deleteNamespace(ns);
});

const HOLD = "test.hpo.dev/hold";
const args = ["--max_points=%MAX_POINTS", "--num_points=%NUM_POINTS", "--input=%IN", "--output=%OUT"];

interface Meta {
  metadata: {
    uid?: string;
    deletionTimestamp?: string;
    ownerReferences?: { uid: string }[];
  };
}
const objects = {
  set: (name: string) => paths.object("hpo.dev/v1alpha1", "hyperparametersets", ns, name),
  job: (name: string) => paths.object("batch/v1", "jobs", ns, name),
  configMap: (name: string) => paths.object("v1", "configmaps", ns, name),
};
const read = (path: string) =>
  api()
    .get<Meta>(path)
    .catch((e) => {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    });
const ownerOf = async (path: string) => (await read(path))?.metadata.ownerReferences?.[0]?.uid;
const hold = (path: string) => api().mergePatch(path, { metadata: { finalizers: [HOLD] } });
const release = (path: string) => api().mergePatch(path, { metadata: { finalizers: null } });
const reconciles = async () => metricSum(await op.metrics(), "controller_runtime_reconcile_total");
/** twoMoreReconciles waits until the operator has reconciled twice more (its only request is the new one). */
async function twoMoreReconciles(): Promise<void> {
  const before = await reconciles();
  await waitFor("two more reconciles", async () => (await reconciles()) >= before + 2, 30_000);
}

describe("a request deleted and recreated with the same name while a generation runs", () => {
  it("adopts none of its former self's set, Job and ConfigMap: it waits for them to go and makes its own", async () => {
    // The former request: an initial point in set again-1, and a generator that sleeps for minutes.
    applyRequest(ns, "again", {
      method: "container",
      searchSpace: { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } },
      initialPoints: [{ params: { x: 0, y: 0 } }],
      maxPoints: 3,
      pointsPerGeneration: 2,
      // The next generation starts while the initial point waits for its loss.
      minUnevaluatedPoints: 1,
      generator: { image: "steering:test", args, env: [{ name: "HPO_TEST_MODE", value: "sleep" }] },
    });
    const held = [objects.set("again-1"), objects.job("again-gen-1"), objects.configMap("again-gen-1")];
    await waitFor(
      "the former request's set, Job and ConfigMap",
      async () => (await Promise.all(held.map(read))).every(Boolean),
      30_000,
      async () =>
        JSON.stringify({ found: await Promise.all(held.map(read)), request: await getRequest(ns, "again") }),
    );
    const former = (await getRequest(ns, "again"))?.metadata?.uid as string;
    for (const path of held) await hold(path);
    kubectlOk(["delete", "hporequest", "again", "-n", ns]);
    await waitFor(
      "the garbage collector to delete the former request's objects",
      async () => (await Promise.all(held.map(read))).every((o) => o?.metadata.deletionTimestamp),
      // The garbage collector learns of new resource types (the CRDs) by discovery, every 30 s.
      90_000,
      async () => JSON.stringify((await Promise.all(held.map(read))).map((o) => o?.metadata)),
    );

    // The new request, with the same name: another space and another initial point.
    applyRequest(ns, "again", {
      method: "container",
      searchSpace: { x: { type: "float", low: 100, high: 200 }, y: { type: "float", low: 0, high: 15 } },
      initialPoints: [{ params: { x: 150, y: 1 } }],
      maxPoints: 3,
      pointsPerGeneration: 2,
      // The next generation starts while the initial point waits for its loss.
      minUnevaluatedPoints: 1,
      generator: { image: "steering:test", args },
    });
    const uid = (await getRequest(ns, "again"))?.metadata?.uid as string;
    expect(uid).not.toBe(former);

    // The former set stays the former request's: the new one neither reads nor writes it.
    await twoMoreReconciles();
    expect(await ownerOf(objects.set("again-1"))).toBe(former);
    expect((await getSet(ns, "again-1"))?.status?.points?.map((p) => p.params)).toEqual([{ x: 0, y: 0 }]);
    expect(await points(ns, "again")).toEqual([]);

    // Once it is gone, the new request makes its own set and starts its generation 1 ...
    await release(held[0] as string);
    await waitFor("the new request's generation 1", async () => {
      const r = await getRequest(ns, "again");
      return r?.status?.lastGeneration?.number === 1 && r.status.lastGeneration.state === "Running";
    });
    expect(await ownerOf(objects.set("again-1"))).toBe(uid);
    // ... but leaves the former Job alone: it waits for it to go.
    await twoMoreReconciles();
    expect(await ownerOf(objects.job("again-gen-1"))).toBe(former);
    await release(held[1] as string);
    await waitFor("the former Job to go", async () => (await ownerOf(objects.job("again-gen-1"))) !== former);
    // The former ConfigMap holds the former input: no Job of the new request may read it.
    await twoMoreReconciles();
    expect(await read(objects.job("again-gen-1"))).toBeUndefined();
    expect(await ownerOf(objects.configMap("again-gen-1"))).toBe(former);
    await release(held[2] as string);

    const all = await waitForPoints(ns, "again", 3, 60_000);
    expect(all.every((p) => Number(p.params.x) >= 100)).toBe(true);
    // The status follows the points (its writes are spaced): its generation 1 succeeded at the first attempt.
    const last = await waitFor("generation 1 recorded", async () => {
      const g = (await getRequest(ns, "again"))?.status?.lastGeneration;
      return g?.state === "Succeeded" ? g : undefined;
    });
    expect(last).toMatchObject({ number: 1, attempts: 1 });
    expect(await ownerOf(objects.job("again-gen-1"))).toBe(uid);
    const reasons = (await eventsOf(ns, "again")).map((e) => e.reason);
    expect(reasons).not.toContain("GenerationFailed");
  }, 240_000);
});
