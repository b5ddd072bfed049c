/**
 * bench:apiserver-writes — what a loss report costs the API server alone, by the size of the set
 * it patches (no operator): 16 writers, one per set, each sending merge patches of spec.losses,
 * for sets of 8 to 200 points of 20 float parameters; then 16 writers on one set. With --no-cel the
 * CRD's CEL rules are removed first, to see their share. The figures chose --set-bytes (docs/api.md).
 * Prints a line per size; not part of the test suite.
 *
 *   node bench/apiserver-writes.ts [--sizes=8,25,50,100,200] [--no-cel]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { KubeClient, loadKubeConfig } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { percentile } from "./report.ts";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "8,25,50,100,200" },
    "no-cel": { type: "boolean", default: false },
  },
});
const cp = await startControlPlane({ withControllerManager: false, log: () => {} });
const kubectl = join(cp.binDir, "kubectl");
if (values["no-cel"]) {
  const crd = parse(readFileSync(join(repoRoot, "crds/hpo.dev_hyperparametersets.yaml"), "utf8"));
  const strip = (o: unknown): void => {
    if (!o || typeof o !== "object") return;
    delete (o as Record<string, unknown>)["x-kubernetes-validations"];
    for (const v of Object.values(o)) strip(v);
  };
  strip(crd.spec.versions[0].schema);
  const file = join(tmpdir(), "hps-no-cel.yaml");
  writeFileSync(file, stringify(crd));
  execFileSync(kubectl, ["--kubeconfig", cp.kubeconfig, "apply", "--server-side", "-f", file]);
} else installCrds(kubectl, cp.kubeconfig);
execFileSync(kubectl, ["--kubeconfig", cp.kubeconfig, "wait", "--for=condition=Established", "crd", "--all"]);
const c = new KubeClient(loadKubeConfig(cp.kubeconfig));
const base = "/apis/hpo.dev/v1alpha1/namespaces/default/hyperparametersets";
const params = () => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i}`, Math.random()]));

/** set creates a set of n points and returns its size in bytes. */
async function set(name: string, n: number): Promise<number> {
  await c.create(base, {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HyperParameterSet",
    metadata: { name },
    spec: { request: "r", firstId: 1, lastId: 1000 },
  });
  const points = Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    params: params(),
    generation: 1,
  }));
  const o = await c.mergePatch(`${base}/${name}/status`, { status: { total: n, points } });
  return JSON.stringify(o).length;
}

/**
 * writers sends losses from one writer per name, all at once: on distinct sets one loss per point
 * (at most 40 a set); on one shared set each point once, the writers taking turns.
 */
async function writers(names: string[], n: number): Promise<{ rate: number; p50: number; p99: number }> {
  const shared = new Set(names).size === 1;
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      for (let i = 1; i <= Math.min(n, 40); i++) {
        const id = shared ? ++next : i;
        if (id > n) break;
        const t = performance.now();
        await c.mergePatch(`${base}/${name}`, { spec: { losses: { [String(id)]: Math.random() } } });
        lat.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { rate: lat.length / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

try {
  for (const n of values.sizes.split(",").map(Number)) {
    const names = Array.from({ length: 16 }, (_, s) => `s${n}-${s}`);
    let bytes = 0;
    for (const name of names) bytes = await set(name, n);
    const r = await writers(names, n);
    process.stdout.write(
      `16 writers on 16 sets of ${n} points (${bytes} B): ${r.rate.toFixed(1)}/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms\n`,
    );
  }
  await set("one", 50);
  const names = Array.from({ length: 16 }, () => "one");
  const r = await writers(names, 50);
  process.stdout.write(
    `16 writers on one set of 50 points: ${r.rate.toFixed(1)}/s, p50 ${r.p50.toFixed(1)} ms\n`,
  );
} finally {
  c.close();
  await cp.stop();
}
