/**
 * 50 requests at once across 5 namespaces, served by one operator: every request runs to Finished
 * with exactly its own points and losses.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { getRequest, lossOf, points, reportLosses, waitFor } from "../support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const namespaces: string[] = [];
let op: OperatorProcess;

beforeAll(async () => {
  for (let i = 0; i < 5; i++) namespaces.push(newNamespace(`par${i}`));
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${namespaces.join(",")}`],
  });
});
afterAll(async () => {
  await op?.kill("SIGTERM");
  for (const ns of namespaces) deleteNamespace(ns);
});

describe("50 requests in parallel", () => {
  it("all reach Finished with their own points and losses", async () => {
    const keys = namespaces.flatMap((ns) => Array.from({ length: 10 }, (_, i) => [ns, `req-${i}`] as const));
    const manifests = keys.map(([ns, name], i) => ({
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: { name, namespace: ns },
      spec: {
        method: "random",
        seed: i,
        searchSpace: { a: { type: "float", low: 0, high: 1 }, b: { type: "int", low: 0, high: 100 } },
        maxPoints: 6,
        pointsPerGeneration: 3,
      },
    }));
    kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }));

    const reported = new Map<string, Map<string, number>>(keys.map(([ns, n]) => [`${ns}/${n}`, new Map()]));
    await waitFor(
      "every request Finished",
      async () => {
        let finished = 0;
        for (const [ns, name] of keys) {
          const req = await getRequest(ns, name);
          if (req?.status?.phase === "Finished") {
            finished++;
            continue;
          }
          const mine = reported.get(`${ns}/${name}`) as Map<string, number>;
          const fresh = (await points(ns, name)).filter((p) => p.state === "New" && !mine.has(p.id));
          if (fresh.length === 0) continue;
          const losses = Object.fromEntries(fresh.map((p) => [p.id, lossOf(p)]));
          await reportLosses(ns, name, losses);
          for (const [id, l] of Object.entries(losses)) mine.set(id, l);
        }
        return finished === keys.length;
      },
      180_000,
    );
    for (const [ns, name] of keys) {
      const pts = await points(ns, name);
      expect(pts.map((p) => p.id)).toEqual(["1", "2", "3", "4", "5", "6"]);
      const mine = reported.get(`${ns}/${name}`) as Map<string, number>;
      for (const p of pts) expect(p.loss).toBe(mine.get(p.id));
      const req = await getRequest(ns, name);
      expect(req?.status?.points).toEqual({ total: 6, evaluated: 6, unevaluated: 0, failed: 0 });
    }
    expect(await op.metrics()).toMatch(/hpo_requests\{phase="Finished"\} 50/);
  }, 240_000);
});
