/**
 * The API server stopped and restarted mid-run, on a control plane of this file's own (the shared
 * one serves other files at the same time): the operator's watches recover, and losses reported
 * after the server's return are applied, and the next generation stored, within 30 s.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HyperParameterSet, pointsOfSet } from "../../src/api/index.ts";
import { KubeClient, loadKubeConfig, MergePatch, paths } from "../../src/runtime/client.ts";
import { type ControlPlane, installCrds, startControlPlane } from "../support/controlplane.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let cp: ControlPlane;
let client: KubeClient;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  cp = await startControlPlane({ withControllerManager: false, log: () => {} });
  installCrds(join(cp.binDir, "kubectl"), cp.kubeconfig);
  client = new KubeClient(loadKubeConfig(cp.kubeconfig));
}, 120_000);
afterAll(async () => {
  await op?.kill();
  client?.close();
  await cp?.stop();
});

const setPath = paths.object("hpo.dev/v1alpha1", "hyperparametersets", "default", "outage-1");
async function pointIds(): Promise<string[]> {
  const s = await client.get<HyperParameterSet>(setPath).catch(() => undefined);
  return (s?.status?.points ?? []).map((p) => p.id);
}
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${op?.logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

describe("an API server outage", () => {
  it("watches recover and reported losses are applied within 30 s of the server's return", async () => {
    op = await startOperatorProcess({ kubeconfig: cp.kubeconfig });
    await client.create(paths.collection("hpo.dev/v1alpha1", "hporequests", "default"), {
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: { name: "outage" },
      spec: {
        method: "random",
        searchSpace: { x: { type: "float", low: 0, high: 1 } },
        pointsPerGeneration: 4,
        maxPoints: 12,
      },
    });
    await until("the first 4 points", async () => (await pointIds()).length === 4, 30_000);

    await cp.stopApiServer();
    await new Promise((r) => setTimeout(r, 5_000)); // the operator's watches and calls fail meanwhile
    await cp.startApiServer();
    const back = Date.now();
    await client.mergePatch(
      setPath,
      { spec: { losses: { "1": 0.1, "2": 0.2, "3": 0.3, "4": 0.4 } } },
      { contentType: MergePatch },
    );
    const took = await until(
      "generation 2 after the outage",
      async () => (await pointIds()).length === 8,
      30_000,
    );
    expect(Date.now() - back).toBeLessThan(30_000);
    const set = await client.get<HyperParameterSet>(setPath);
    expect(
      pointsOfSet(set)
        .slice(0, 4)
        .map((p) => p.loss),
    ).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(op.child.exitCode).toBeNull();
    expect(op.logs()).toContain("list/watch failed; retrying");
    process.stderr.write(`losses applied and generation 2 stored ${took} ms after the API server returned\n`);
  }, 120_000);
});
