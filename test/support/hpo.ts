/**
 * Reading HPORequests and HyperParameterSets in tests, and waiting for them to reach a state.
 * Reads go through the REST client (fast polling); user actions go through kubectl.
 */
import { inject } from "vitest";
import {
  type HPORequest,
  type HyperParameterSet,
  type Point,
  pointsOfSets,
  setNameOf,
  setsOfRequest,
} from "../../src/api/index.ts";
import { KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { NotFoundError } from "../../src/runtime/errors.ts";
import { kubectlOk } from "./kubectl.ts";

let client: KubeClient | undefined;

/** api is a REST client on the test cluster. */
export function api(): KubeClient {
  client ??= new KubeClient(loadKubeConfig(inject("kubeconfig")));
  return client;
}

/** getRequest reads a request, or undefined when it does not exist. */
export async function getRequest(ns: string, name: string): Promise<HPORequest | undefined> {
  try {
    return await api().get<HPORequest>(paths.object("hpo.dev/v1alpha1", "hporequests", ns, name));
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

/** getSet reads a set, or undefined when it does not exist. */
export async function getSet(ns: string, name: string): Promise<HyperParameterSet | undefined> {
  try {
    return await api().get<HyperParameterSet>(
      paths.object("hpo.dev/v1alpha1", "hyperparametersets", ns, name),
    );
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

/** waitFor polls check until it returns a value (not undefined/false), or fails with what it last saw. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  describe?: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const state = describe ? await describe().catch((e) => String(e)) : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${lastError}\n${state}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** setsOf lists the HyperParameterSets of a request (by its label), in id order. */
export async function setsOf(ns: string, request: string): Promise<HyperParameterSet[]> {
  const list = await api().get<{ items: HyperParameterSet[] }>(
    paths.collection("hpo.dev/v1alpha1", "hyperparametersets", ns),
    { query: { labelSelector: `hpo.dev/request=${request}` } },
  );
  return list.items.sort((a, b) => a.spec.firstId - b.spec.firstId);
}

/** points returns the points of a request, from all its sets (empty when it has none yet). */
export async function points(ns: string, request: string): Promise<Point[]> {
  const req = await getRequest(ns, request);
  if (!req) return [];
  return pointsOfSets(setsOfRequest(await setsOf(ns, request), req), req.spec.initialPoints);
}

/** setOfPoint is the name of the set that holds point id of a request (the rule of docs/api.md). */
export async function setOfPoint(ns: string, request: string, id: string | number): Promise<string> {
  const perSet = (await getRequest(ns, request))?.status?.pointsPerSet;
  if (!perSet) throw new Error(`${ns}/${request} has no status.pointsPerSet yet`);
  return setNameOf(request, Number(id), perSet);
}

/** waitForPoints waits until the request's sets hold exactly n points. */
export function waitForPoints(ns: string, name: string, n: number, timeoutMs = 30_000): Promise<Point[]> {
  return waitFor(
    `${n} points in ${ns}/${name}`,
    async () => {
      const p = await points(ns, name);
      return p.length === n ? p : undefined;
    },
    timeoutMs,
    async () => JSON.stringify((await getRequest(ns, name))?.status, null, 1),
  );
}

/** waitForPhase waits until the request reaches phase. */
export function waitForPhase(
  ns: string,
  name: string,
  phase: string,
  timeoutMs = 30_000,
): Promise<HPORequest> {
  return waitFor(
    `phase ${phase} of ${ns}/${name}`,
    async () => {
      const r = await getRequest(ns, name);
      return r?.status?.phase === phase ? r : undefined;
    },
    timeoutMs,
    async () => JSON.stringify((await getRequest(ns, name))?.status, null, 1),
  );
}

/** reportLosses reports losses with kubectl merge patches, one per set that holds some of the points. */
export async function reportLosses(
  ns: string,
  request: string,
  losses: Record<string, number>,
): Promise<void> {
  const bySet = new Map<string, Record<string, number>>();
  for (const [id, loss] of Object.entries(losses)) {
    const set = await setOfPoint(ns, request, id);
    bySet.set(set, { ...bySet.get(set), [id]: loss });
  }
  for (const [set, part] of bySet) {
    kubectlOk([
      "patch",
      "-n",
      ns,
      "hps",
      set,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { losses: part } }),
    ]);
  }
}

/** applyRequest applies a request manifest (JSON) with kubectl, server-side (a client-side apply keeps a
 * copy in an annotation, which a large warm start would push past its 256 KiB limit). */
export function applyRequest(ns: string, name: string, spec: Record<string, unknown>): void {
  const body = {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name, namespace: ns },
    spec,
  };
  kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(body));
}

/** eventsOf lists the reasons and messages of the events about an object. */
export async function eventsOf(
  ns: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const list = await api().get<{
    items: { type: string; reason: string; message: string; involvedObject: { name: string } }[];
  }>(`/api/v1/namespaces/${ns}/events`);
  return list.items
    .filter((e) => e.involvedObject.name === name)
    .map(({ type, reason, message }) => ({ type, reason, message }));
}

/** lossOf is a deterministic toy objective of a point, so tests can compute the expected best. */
export function lossOf(p: Point): number {
  const v = Object.values(p.params).map((x) => (typeof x === "number" ? x : String(x).length));
  return Math.round(v.reduce((a, b) => a + Math.abs(b - 0.3), 0) * 1e6) / 1e6;
}

/**
 * startTrainer is a simulated training fleet: it reports the loss (lossOf, or the given objective) of
 * every new point, two at a time, until stopped, and remembers what it reported.
 */
export function startTrainer(ns: string, name: string, objective: (p: Point) => number = lossOf) {
  const reported = new Map<string, number>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const fresh = (await points(ns, name).catch(() => [])).filter(
        (p) => p.state === "New" && !reported.has(p.id),
      );
      if (fresh.length > 0) {
        const batch = Object.fromEntries(fresh.slice(0, 2).map((p) => [p.id, objective(p)]));
        await reportLosses(ns, name, batch);
        for (const [id, l] of Object.entries(batch)) reported.set(id, l);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return {
    reported,
    stop: async () => {
      stop = true;
      await loop;
    },
  };
}
