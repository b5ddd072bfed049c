import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet } from "../api/index.ts";
import type { KubeClient } from "../runtime/client.ts";
import { NotFoundError } from "../runtime/errors.ts";
import { HpoClient } from "./client.ts";
import { UnknownPointError } from "./errors.ts";

/** fake is an API of one request and its sets; it records the merge patches sent. */
function fake(req: HPORequest, sets: HyperParameterSet[]) {
  const patched: { path: string; body: unknown }[] = [];
  const kube = {
    namespace: "ns",
    get: async (path: string) => {
      const name = path.split("/").at(-1);
      if (path.includes("/hporequests/") && name === req.metadata?.name) return req;
      const set = sets.find((s) => s.metadata?.name === name);
      if (set) return set;
      throw new NotFoundError(404, `${name} not found`, { reason: "NotFound", details: { name } });
    },
    mergePatch: async (path: string, body: unknown) => {
      patched.push({ path, body });
      return {};
    },
  };
  return { hpo: new HpoClient({ kube: kube as unknown as KubeClient, namespace: "ns" }), patched };
}

const set1: HyperParameterSet = {
  metadata: { name: "r-1", namespace: "ns" },
  spec: { request: "r", firstId: 1, lastId: 8 },
  status: {
    total: 2,
    points: [
      { id: "1", params: { x: 1 }, generation: 1 },
      { id: "2", params: { x: 2 }, generation: 1 },
    ],
  },
};

describe("HpoClient reports", () => {
  it("go to the set that holds the point even before the request's status counts it", async () => {
    // The sets are written before the request's status: a point handed out a moment ago is in
    // its set while status.points still says 0.
    const req: HPORequest = {
      metadata: { name: "r", namespace: "ns" },
      spec: { method: "random" },
      status: { pointsPerSet: 8, points: { total: 0, evaluated: 0, unevaluated: 0, failed: 0 } },
    };
    const { hpo, patched } = fake(req, [set1]);
    expect(await hpo.updateHyperParameter("r", 2, 0.5)).toEqual({
      namespace: "ns",
      request: "r",
      id: "2",
      set: "r-1",
      changed: true,
    });
    expect(patched).toEqual([
      {
        path: "/apis/hpo.dev/v1alpha1/namespaces/ns/hyperparametersets/r-1",
        body: { spec: { losses: { "2": 0.5 } } },
      },
    ]);
  });

  it("refuse a point whose set does not exist, saying which ids were handed out", async () => {
    const served: HPORequest = {
      metadata: { name: "r", namespace: "ns" },
      spec: { method: "random" },
      status: { pointsPerSet: 8, lastGeneration: { number: 1, firstId: 1, added: 2, state: "Succeeded" } },
    };
    const { hpo } = fake(served, [set1]);
    const far = hpo.updateHyperParameter("r", 20, 0.5);
    await expect(far).rejects.toBeInstanceOf(UnknownPointError);
    await expect(far).rejects.toThrow(
      'HPORequest "r" has no point 20: ids handed out so far run up to 2 (the set r-3 that would hold it does not exist)',
    );
    const fresh = fake({ ...served, status: { pointsPerSet: 8 } }, []).hpo;
    await expect(fresh.updateHyperParameter("r", 1, 0.5)).rejects.toThrow(
      'HPORequest "r" has no point 1: it has no points yet (the set r-1 that would hold it does not exist)',
    );
  });
});
