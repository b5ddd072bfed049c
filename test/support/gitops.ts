/**
 * GitOps health in tests: the real kstatus logic (sigs.k8s.io/cli-utils, plus Flux's CEL
 * evaluator) and the Argo CD Lua health check in gopher-lua, each a small Go program in hack/
 * built once into ~/.cache/hpo-operator by hack/build-go-tool.sh (`make gitops-tools`).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Condition, HPORequest } from "../../src/api/index.ts";
import { repoRoot } from "./controlplane.ts";

/** goTool returns the path of a hack/ Go program, building it when it is not cached (minutes, once). */
export function goTool(name: "kstatus" | "luahealth"): string {
  const r = spawnSync("bash", [join(repoRoot, "hack/build-go-tool.sh"), name], {
    encoding: "utf8",
    timeout: 30 * 60_000,
  });
  if (r.status !== 0) {
    throw new Error(`hack/build-go-tool.sh ${name} failed (${r.status ?? r.signal}): ${r.stderr}`);
  }
  return r.stdout.trim().split("\n").at(-1) as string;
}

/** KstatusResult is what the kstatus program says about one object. */
export interface KstatusResult {
  name: string;
  status: string;
  message: string;
  error?: string;
  /** With fluxExprs: Flux's healthCheckExprs verdict, or fluxError. */
  flux?: string;
  fluxError?: string;
}

/** FluxExprs are the CEL expressions of one Flux healthCheckExprs entry. */
export interface FluxExprs {
  current: string;
  inProgress?: string;
  failed?: string;
}

function runTool(bin: string, args: string[], objects: readonly unknown[]): string[] {
  const input = objects.map((o) => JSON.stringify(o)).join("\n");
  const r = spawnSync(bin, args, { input, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split("\n");
}

/** kstatus computes the kstatus status of each object (and Flux's verdict with exprs). */
export function kstatus(bin: string, objects: readonly unknown[], exprs?: FluxExprs): KstatusResult[] {
  const args = exprs ? ["-flux-exprs", JSON.stringify(exprs)] : [];
  return runTool(bin, args, objects).map((l) => JSON.parse(l) as KstatusResult);
}

/** LuaResult is what an Argo CD health script returned for one object. */
export interface LuaResult {
  name: string;
  status: string;
  message: string;
  error?: string;
}

/** luaHealth runs an Argo CD health script against each object as Argo CD does. */
export function luaHealth(bin: string, script: string, objects: readonly unknown[]): LuaResult[] {
  return runTool(bin, [script], objects).map((l) => JSON.parse(l) as LuaResult);
}

/**
 * withProposedConditions adds what this project proposes the operator should set for kstatus
 * (docs/gitops.md): Reconciling=True while no point has been handed out yet (phase Pending, or
 * Generating the first generation), Stalled=True when the request Failed, both False otherwise.
 */
export function withProposedConditions(req: HPORequest): HPORequest {
  const st = req.status;
  if (!st?.phase) return req;
  const observedGeneration = st.observedGeneration;
  const now = new Date().toISOString();
  const first = (st.lastGeneration?.number ?? 0) <= 1;
  const reconciling = st.phase === "Pending" || (st.phase === "Generating" && first);
  const stalled = st.phase === "Failed";
  const ready = st.conditions?.find((c) => c.type === "Ready");
  const cond = (type: string, on: boolean, reason: string): Condition => ({
    type,
    status: on ? "True" : "False",
    reason: on ? reason : "NotApplicable",
    message: on ? (st.message ?? "") : "",
    observedGeneration,
    lastTransitionTime: now,
  });
  const others = (st.conditions ?? []).filter((c) => c.type !== "Reconciling" && c.type !== "Stalled");
  return {
    ...req,
    status: {
      ...st,
      conditions: [
        ...others,
        cond("Reconciling", reconciling, st.phase),
        cond("Stalled", stalled, ready?.reason ?? "Failed"),
      ],
    },
  };
}
