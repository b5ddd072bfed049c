/**
 * Fixtures of the reconcile core's tests (core.test.ts, core-status.test.ts): a request with one
 * float parameter, its HyperParameterSets built from [id, generation] pairs, and short views of a
 * decision. Test code only.
 */
import type { HPORequest, HPORequestStatus, HyperParameterSet } from "../api/index.ts";
import type { Action, CoreSettings, Decision, Finished, Observed } from "./core.ts";
import { scanView } from "./setsview.ts";

/** settings are the operator settings the core tests use (retries 2, 8 KiB sets). */
export const settings: CoreSettings = {
  policy: { retries: 2, retryBaseMs: 5_000, retryMaxMs: 60_000 },
  setBytes: 8192,
  statusIntervalMs: 1_000,
  paramsBytesWithoutSpace: 1_024,
};
/** now is the tests' clock. */
export const now = new Date("2026-12-07T04:00:00Z");
const UID = "u-1";

/** request builds HPORequest r (one float parameter x) with spec and status overrides. */
export function request(spec: Partial<HPORequest["spec"]> = {}, status?: HPORequestStatus): HPORequest {
  return {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name: "r", namespace: "ns", uid: UID, generation: 1 },
    spec: {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 100 } },
      pointsPerGeneration: 6,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/**
 * hps builds set r-k of perSet points per set, holding the points [id, generation] (params {x: id})
 * and the reports given.
 */
export function hps(
  k: number,
  perSet: number,
  points: [number, number][],
  reports: { losses?: Record<string, number>; failed?: Record<string, string> } = {},
): HyperParameterSet {
  return {
    metadata: {
      name: `r-${k}`,
      namespace: "ns",
      ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: "r", uid: UID }],
    },
    spec: { request: "r", firstId: (k - 1) * perSet + 1, lastId: k * perSet, ...reports },
    status: {
      total: points.length,
      points: points.map(([id, generation]) => ({ id: String(id), params: { x: id }, generation })),
    },
  };
}

/** ids makes [id, generation] pairs for ids from..to. */
export const ids = (from: number, to: number, generation: number): [number, number][] =>
  Array.from({ length: to - from + 1 }, (_, i) => [from + i, generation]);

/** observe is what decide() sees: the request, its sets, a built-in generator, now. */
export function observe(req: HPORequest, sets: HyperParameterSet[], extra: Partial<Observed> = {}): Observed {
  return { request: req, sets: scanView(req, sets), recordsIntent: false, now, ...extra };
}

/** kinds shows a decision's actions briefly: "createSet r-2", "storePoints r-2 @0 [5..8]", ... */
export function kinds(d: Decision): string[] {
  return d.actions.map((a) => {
    if (a.kind === "createSet") return `createSet ${a.name} ${a.firstId}-${a.lastId}`;
    if (a.kind === "storePoints")
      return `storePoints ${a.name} @${a.stored} [${a.points.map((p) => p.id).join(",")}]`;
    if (a.kind === "generate") return `generate #${a.number} ${a.count}@${a.firstId} try ${a.attempt}`;
    if (a.kind === "settle") return `settle #${a.number}`;
    return "applyStatus";
  });
}

/** statusOf is the last status a decision applies, if any. */
export const statusOf = (d: Decision): HPORequestStatus | undefined =>
  (
    d.actions.filter((a) => a.kind === "applyStatus").at(-1) as
      | Extract<Action, { kind: "applyStatus" }>
      | undefined
  )?.status;

/** reasons lists a decision's events as "Type/Reason". */
export const reasons = (d: Decision) => d.events.map((e) => `${e.type}/${e.reason}`);

/** points is a finished outcome of n points {x: 50}, {x: 51}, ... */
export const points = (n: number, warnings: string[] = []): Finished => ({
  kind: "points",
  points: Array.from({ length: n }, (_, i) => ({ x: 50 + i })),
  warnings,
});

/** settled is the request with the status a decision applied (what the next reconcile reads). */
export function settled(req: HPORequest, d: Decision): HPORequest {
  const s = statusOf(d);
  return s ? { ...req, status: s } : req;
}
