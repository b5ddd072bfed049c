/**
 * GitOps health of HPORequests (docs/gitops.md), on objects the real operator produced at every
 * phase: the real kstatus logic (sigs.k8s.io/cli-utils, what Flux's `wait: true` runs), Flux's CEL
 * evaluator with the healthCheckExprs of docs/gitops/flux-kustomization.yaml, and the Argo CD
 * health check of docs/gitops/argocd-health.lua in gopher-lua, the interpreter Argo CD embeds.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import type { HPORequest } from "../../src/api/index.ts";
import { HpoClient } from "../../src/client/index.ts";
import { paths } from "../../src/runtime/client.ts";
import { repoRoot } from "../support/controlplane.ts";
import { type FluxExprs, goTool, kstatus, luaHealth, withProposedConditions } from "../support/gitops.ts";
import {
  api,
  applyRequest,
  getRequest,
  points as pointsOf,
  setsOf,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let idle = "";
let op: OperatorProcess;
let kstatusBin = "";
let luaBin = "";
const luaScript = join(repoRoot, "docs/gitops/argocd-health.lua");
const stopWatch = new AbortController();
/** Every version of every request the watch saw, in order. */
const seen = new Map<string, HPORequest[]>();
/** The samples: one object per state, named as in docs/gitops.md. */
const samples = new Map<string, HPORequest>();

beforeAll(async () => {
  // Built once by `make gitops-tools` (the first build takes minutes).
  kstatusBin = goTool("kstatus");
  luaBin = goTool("luahealth");
  ns = newNamespace("gitops");
  idle = newNamespace("gitops-idle"); // no operator watches it
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`, "--generation-retry-base=3s"],
  });
  void record();
}, 40 * 60_000);
afterAll(async () => {
  stopWatch.abort();
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
  deleteNamespace(idle);
});

/** record keeps every version of the requests in ns, so short phases are not missed. */
async function record(): Promise<void> {
  const path = paths.collection("hpo.dev/v1alpha1", "hporequests", ns);
  try {
    for await (const line of api().lines(path, { query: { watch: true }, signal: stopWatch.signal })) {
      const ev = JSON.parse(line) as { type: string; object: HPORequest };
      const name = ev.object.metadata?.name ?? "";
      seen.set(name, [...(seen.get(name) ?? []), ev.object]);
    }
  } catch {
    // stopped
  }
}

/** versionIn waits for a recorded version of a request that matches. */
function versionIn(name: string, what: string, match: (r: HPORequest) => boolean): Promise<HPORequest> {
  return waitFor(
    `${name} ${what}`,
    async () => seen.get(name)?.find(match),
    60_000,
    async () => JSON.stringify((seen.get(name) ?? []).map((r) => r.status?.phase)),
  );
}

/** phase waits for a request's phase; on a timeout it says what the set and the operator's log held. */
async function phase(name: string, want: string): Promise<HPORequest> {
  try {
    return await waitForPhase(ns, name, want);
  } catch (e) {
    const sets = await setsOf(ns, name);
    const set = { spec: sets.map((s) => s.spec), generation: sets.map((s) => s.metadata?.generation) };
    const points = (await pointsOf(ns, name)).map((p) => `${p.id}:${p.state}`);
    const log = op
      .logs()
      .split("\n")
      .filter((l) => l.includes(name))
      .slice(-40);
    throw new Error(
      `${(e as Error).message}\nsets: ${JSON.stringify({ ...set, points })}\noperator log:\n${log.join("\n")}`,
    );
  }
}

const space = { x: { type: "float", low: 0, high: 1 }, y: { type: "int", low: 1, high: 4 } };

describe("the operator's HPORequests at each phase", () => {
  it("are produced by the real operator", async () => {
    const hpo = new HpoClient({ kubeconfig: inject("kubeconfig"), namespace: ns });
    applyRequest(idle, "unobserved", { method: "random", searchSpace: space, maxPoints: 4 });
    applyRequest(ns, "waiting", {
      method: "random",
      searchSpace: space,
      maxPoints: 4,
      pointsPerGeneration: 2,
    });
    applyRequest(ns, "suspended", { method: "random", searchSpace: space, suspend: true });
    applyRequest(ns, "finished", {
      method: "random",
      searchSpace: space,
      maxPoints: 2,
      pointsPerGeneration: 2,
    });
    applyRequest(ns, "subfinished", {
      method: "random",
      searchSpace: space,
      maxPoints: 2,
      pointsPerGeneration: 2,
    });
    applyRequest(ns, "invalid", {
      method: "random",
      searchSpace: space,
      initialPoints: [{ params: { x: 5, y: 1 }, loss: 1 }],
    });
    // A generator Job that never runs (no node here): Generating, then Pending until the retry, then Failed.
    applyRequest(ns, "steer", {
      method: "container",
      searchSpace: space,
      maxPoints: 4,
      generator: { image: "steering:none", timeoutSeconds: 2, retries: 1 },
    });

    samples.set("unobserved", (await getRequest(idle, "unobserved")) as HPORequest);
    samples.set("Waiting", await phase("waiting", "Waiting"));
    samples.set("Suspended", await phase("suspended", "Suspended"));
    await waitForPoints(ns, "finished", 2);
    // Two reports back to back: the second lands while the operator writes the first one's status.
    await hpo.updateHyperParameter("finished", 1, 0.5);
    await hpo.updateHyperParameter("finished", 2, 0.25);
    samples.set("Finished", await phase("finished", "Finished"));
    await waitForPoints(ns, "subfinished", 2);
    await hpo.updateHyperParameter("subfinished", 1, 0.5);
    await hpo.failHyperParameter("subfinished", 2, "OOMKilled");
    samples.set("SubFinished", await phase("subfinished", "SubFinished"));
    samples.set("Failed (InvalidSpec)", await phase("invalid", "Failed"));

    const inPhase = (p: string) => (r: HPORequest) => r.status?.phase === p;
    samples.set("Generating (first)", await versionIn("steer", "Generating", inPhase("Generating")));
    samples.set("Pending", await versionIn("steer", "Pending (retry)", inPhase("Pending")));
    samples.set("Failed (GenerationFailed)", await versionIn("steer", "Failed", inPhase("Failed")));

    // A later generation, as a container generator shows it (the test has no kubelet to run one).
    const gen1 = samples.get("Generating (first)") as HPORequest;
    const waiting = samples.get("Waiting") as HPORequest;
    // Its kstatus conditions are those the operator sets for a later generation.
    samples.set(
      "Generating (later)",
      withProposedConditions({
        ...gen1,
        status: {
          ...gen1.status,
          points: waiting.status?.points,
          lastGeneration: { ...gen1.status?.lastGeneration, number: 3, firstId: 5 },
        },
      }),
    );

    // The operator stopped, a spec change it has not seen: observedGeneration lags metadata.generation.
    await op.kill("SIGTERM");
    kubectlOk(["patch", "-n", ns, "hpor", "waiting", "--type", "merge", "-p", '{"spec":{"maxPoints":6}}']);
    samples.set("spec changed, not yet observed", (await getRequest(ns, "waiting")) as HPORequest);
    hpo.close();
  }, 180_000);

  it("keep status.observedGeneration and the Ready condition as kstatus expects", () => {
    for (const [label, r] of samples) {
      const generation = r.metadata?.generation;
      const st = r.status;
      if (label === "unobserved" || label === "spec changed, not yet observed") continue;
      expect(st?.observedGeneration, label).toBe(generation);
      const ready = st?.conditions?.find((c) => c.type === "Ready");
      expect(ready?.observedGeneration, label).toBe(generation);
      expect(ready?.status, label).toBe(st?.phase === "Failed" ? "False" : "True");
    }
    const stale = samples.get("spec changed, not yet observed");
    expect(stale?.metadata?.generation).toBe(2);
    expect(stale?.status?.observedGeneration).toBe(1);
  });
});

/**
 * What a user expects of each state (docs/gitops.md), and what kstatus says today where the
 * operator lacks the conditions kstatus reads (Reconciling, Stalled): `today` holds only while the
 * object has neither.
 */
const expected: Record<string, { kstatus: string; today?: string; argo: string; flux: string }> = {
  unobserved: { kstatus: "InProgress", today: "Current", argo: "Progressing", flux: "error" },
  Pending: { kstatus: "InProgress", today: "Current", argo: "Progressing", flux: "InProgress" },
  "Generating (first)": { kstatus: "InProgress", today: "Current", argo: "Progressing", flux: "InProgress" },
  "Generating (later)": { kstatus: "Current", argo: "Healthy", flux: "Current" },
  Waiting: { kstatus: "Current", argo: "Healthy", flux: "Current" },
  Suspended: { kstatus: "Current", argo: "Suspended", flux: "Current" },
  Finished: { kstatus: "Current", argo: "Healthy", flux: "Current" },
  SubFinished: { kstatus: "Current", argo: "Healthy", flux: "Current" },
  "Failed (InvalidSpec)": { kstatus: "Failed", today: "InProgress", argo: "Degraded", flux: "Failed" },
  "Failed (GenerationFailed)": { kstatus: "Failed", today: "InProgress", argo: "Degraded", flux: "Failed" },
  "spec changed, not yet observed": { kstatus: "InProgress", argo: "Progressing", flux: "InProgress" },
};
const labels = Object.keys(expected);

function sample(label: string): HPORequest {
  const s = samples.get(label);
  if (!s) throw new Error(`no sample "${label}": the first test did not produce it`);
  return s;
}

function fluxExprs(): FluxExprs {
  const k = parse(readFileSync(join(repoRoot, "docs/gitops/flux-kustomization.yaml"), "utf8")) as {
    spec: { healthCheckExprs: (FluxExprs & { kind: string; apiVersion: string })[] };
  };
  const e = k.spec.healthCheckExprs.find((x) => x.kind === "HPORequest");
  if (!e) throw new Error("docs/gitops/flux-kustomization.yaml has no healthCheckExprs for HPORequest");
  expect(e.apiVersion).toBe("hpo.dev/v1alpha1");
  return { current: e.current, inProgress: e.inProgress, failed: e.failed };
}

describe("kstatus (Flux wait: true, kpt)", () => {
  it.each(labels)("%s", (label) => {
    const obj = sample(label);
    const [r] = kstatus(kstatusBin, [obj]);
    const e = expected[label] as (typeof expected)[string];
    const hasKstatusConditions = (obj.status?.conditions ?? []).some(
      (c) => c.type === "Reconciling" || c.type === "Stalled",
    );
    const defaulted = label === "unobserved" && obj.status?.observedGeneration !== undefined;
    const want = e.today && !hasKstatusConditions && !defaulted ? e.today : e.kstatus;
    expect(r?.error).toBeUndefined();
    expect({ label, status: r?.status }).toEqual({ label, status: want });
  });

  it("gives what a user expects at every phase once the operator sets Reconciling and Stalled", () => {
    const objs = labels.map((l) => withProposedConditions(sample(l)));
    // Before its first reconcile only the CRD can help: a status default of {observedGeneration: 0}.
    objs[0] = { ...(objs[0] as HPORequest), status: { observedGeneration: 0 } };
    const got = kstatus(kstatusBin, objs).map((r, i) => [labels[i], r.status]);
    expect(got).toEqual(labels.map((l) => [l, expected[l]?.kstatus]));
  });
});

describe("Flux healthCheckExprs of docs/gitops/flux-kustomization.yaml (Flux's CEL evaluator)", () => {
  it.each(labels)("%s", (label) => {
    const [r] = kstatus(kstatusBin, [sample(label)], fluxExprs());
    const want = expected[label]?.flux;
    if (want === "error") {
      // Before the operator writes a status there is no `status` to read: Flux keeps polling.
      expect(r?.fluxError).toMatch(/no such attribute/);
    } else expect({ label, flux: r?.flux, error: r?.fluxError }).toEqual({ label, flux: want });
  });
});

describe("the Argo CD health check (docs/gitops/argocd-health.lua in gopher-lua)", () => {
  it("is the script of the argocd-cm snippet", () => {
    const cm = parse(readFileSync(join(repoRoot, "docs/gitops/argocd-cm.yaml"), "utf8")) as {
      metadata: { name: string };
      data: Record<string, string>;
    };
    expect(cm.metadata.name).toBe("argocd-cm");
    expect(cm.data["resource.customizations.health.hpo.dev_HPORequest"]).toBe(
      readFileSync(luaScript, "utf8"),
    );
  });

  it.each(labels)("%s", (label) => {
    const [r] = luaHealth(luaBin, luaScript, [sample(label)]);
    expect(r?.error).toBeUndefined();
    expect({ label, status: r?.status }).toEqual({ label, status: expected[label]?.argo });
    expect(r?.message).not.toBe("");
  });

  it("says why a request failed and what is going on, in the operator's words", () => {
    const [invalid, waiting, stale] = luaHealth(luaBin, luaScript, [
      sample("Failed (InvalidSpec)"),
      sample("Waiting"),
      sample("spec changed, not yet observed"),
    ]);
    expect(invalid?.message).toMatch(/^invalid spec: .*x/);
    expect(waiting?.message).toBe(sample("Waiting").status?.message);
    expect(stale?.message).toBe("Waiting for the hpo-operator to observe generation 2");
  });

  it("survives odd statuses without a Lua error", () => {
    const base = sample("Waiting");
    const odd = [
      { ...base, status: {} },
      { ...base, status: { phase: "Waiting" } },
      { ...base, status: { ...base.status, conditions: [] } },
      { ...base, status: { ...base.status, phase: "SomethingNew" } },
      { ...base, metadata: { name: "no-generation" } },
    ];
    const got = luaHealth(luaBin, luaScript, odd).map((r) => [r.status, r.error]);
    expect(got).toEqual([
      ["Progressing", undefined],
      ["Progressing", undefined],
      ["Healthy", undefined],
      ["Unknown", undefined],
      ["Healthy", undefined],
    ]);
  });
});
