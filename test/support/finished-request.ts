/**
 * writeFinishedRequest lays a finished request out in the API server as the operator lays it out
 * (bench:scale's shape: float parameters x00, x01, ..., sets sized by the default --set-bytes 8192,
 * every point evaluated), written directly (request, sets, status, losses), so a request of
 * 100,000 points takes a minute or two instead of bench:scale's 17. No operator may follow its
 * namespace: the request is finished as written. Used by bench:dashboard and the dashboard's
 * browser test.
 */
import type { HPORequest } from "../../src/api/index.ts";
import { LABEL_REQUEST, setName, setRange } from "../../src/api/index.ts";
import { pointsPerSet } from "../../src/controller/sizing.ts";
import { type KubeClient, paths } from "../../src/runtime/client.ts";

const API = "hpo.dev/v1alpha1";

/** FinishedRequest says what to write. */
export interface FinishedRequest {
  namespace: string;
  name: string;
  points: number;
  /** How many float parameters each point has. */
  dims: number;
  /** Progress lines (every 1,000 sets). */
  log?: (line: string) => void;
}

/** writeFinishedRequest creates the namespace and the request and returns its points per set. */
export async function writeFinishedRequest(kube: KubeClient, r: FinishedRequest): Promise<number> {
  const { namespace, name, points: total, dims } = r;
  await kube.create("/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: namespace },
  });
  const names = Array.from({ length: dims }, (_, i) => `x${String(i).padStart(2, "0")}`);
  const space = Object.fromEntries(names.map((n) => [n, { type: "float", low: 0, high: 1 }]));
  const req = await kube.create<HPORequest>(paths.collection(API, "hporequests", namespace), {
    apiVersion: API,
    kind: "HPORequest",
    metadata: { name },
    spec: { method: "random", searchSpace: space, maxPoints: total, pointsPerGeneration: 1000, seed: 1 },
  });
  // The operator's sizing: the longest float is 24 bytes, plus the quoted name and a colon.
  const perSet = pointsPerSet(dims * (JSON.stringify(names[0]).length + 1 + 24), 8192, 1000);
  const sets = Math.ceil(total / perSet);
  let seed = 42;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  let best = { id: "1", loss: Number.POSITIVE_INFINITY, params: {} as Record<string, number> };
  const owner = { apiVersion: API, kind: "HPORequest", name, uid: req.metadata?.uid, controller: true };
  let next = 0;
  const worker = async () => {
    for (let k = ++next; k <= sets; k = ++next) {
      const { firstId } = setRange(k, perSet);
      const lastId = Math.min(total, firstId + perSet - 1);
      const points = [];
      const losses: Record<string, number> = {};
      for (let id = firstId; id <= lastId; id++) {
        const params = Object.fromEntries(names.map((n) => [n, rnd()]));
        const loss =
          names.reduce((s, n, i) => s + ((params[n] as number) - 0.3) ** 2 / (i + 1), 0) + rnd() * 0.01;
        if (loss < best.loss) best = { id: String(id), loss, params };
        points.push({ id: String(id), generation: Math.ceil(id / 1000), params });
        losses[String(id)] = loss;
      }
      const set = setName(name, k);
      await kube.create(paths.collection(API, "hyperparametersets", namespace), {
        apiVersion: API,
        kind: "HyperParameterSet",
        metadata: { name: set, labels: { [LABEL_REQUEST]: name }, ownerReferences: [owner] },
        spec: { request: name, firstId, lastId: firstId + perSet - 1 },
      });
      const obj = paths.object(API, "hyperparametersets", namespace, set);
      await kube.mergePatch(`${obj}/status`, { status: { total: points.length, points } });
      await kube.mergePatch(obj, { spec: { losses } });
      if (k % 1000 === 0) r.log?.(`wrote ${k}/${sets} sets`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await kube.mergePatch(paths.object(API, "hporequests", namespace, name, "status"), {
    status: {
      phase: "Finished",
      observedGeneration: 1,
      message: `Finished: maxPoints (${total}) reached`,
      points: { total, evaluated: total, unevaluated: 0, failed: 0 },
      best,
      generations: Math.ceil(total / 1000),
      pointsPerSet: perSet,
      sets,
    },
  });
  return perSet;
}
