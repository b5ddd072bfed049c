import { installCrds, startControlPlane } from "/work/main/test/support/controlplane.ts";
import { KubeClient, loadKubeConfig } from "/work/main/src/runtime/client.ts";
const cp = await startControlPlane({ withControllerManager: false, log: () => {} });
if (process.env.NOCEL) {
  const { execFileSync } = await import("node:child_process");
  const { parse, stringify } = await import("yaml");
  const { readFileSync, writeFileSync } = await import("node:fs");
  const crd: any = parse(readFileSync("/work/main/crds/hpo.dev_hyperparametersets.yaml", "utf8"));
  const strip = (o: any) => { if (o && typeof o === "object") { delete o["x-kubernetes-validations"]; for (const v of Object.values(o)) strip(v); } };
  strip(crd.spec.versions[0].schema);
  if (process.env.STRING) crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.points = { type: "string" };
  writeFileSync("/tmp/nocel.yaml", stringify(crd));
  execFileSync(`${cp.binDir}/kubectl`, ["--kubeconfig", cp.kubeconfig, "apply", "--server-side", "-f", "/tmp/nocel.yaml"]);
} else installCrds(`${cp.binDir}/kubectl`, cp.kubeconfig);
await new Promise((r) => setTimeout(r, 3000));
const c = new KubeClient(loadKubeConfig(cp.kubeconfig));
const ns = "default";
const base = "/apis/hpo.dev/v1alpha1/namespaces/default/hyperparametersets";
const params = () => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x${i}`, Math.random()]));
async function mkset(name: string, n: number) {
  await c.create(base, { apiVersion: "hpo.dev/v1alpha1", kind: "HyperParameterSet", metadata: { name }, spec: { request: "r", firstId: 1, lastId: 1000 } });
  const points = Array.from({ length: n }, (_, i) => ({ id: String(i + 1), params: params(), generation: 1 }));
  const o: any = await c.request("PATCH", `${base}/${name}/status`, { body: { status: { total: n, points: process.env.STRING ? JSON.stringify(points) : points } }, contentType: "application/merge-patch+json" });
  return JSON.stringify(o).length;
}
for (const n of (process.env.SIZES ?? '8,25,50,100,200').split(',').map(Number)) {
  const sets = 16;
  let bytes = 0;
  for (let s = 0; s < sets; s++) bytes = await mkset(`s${n}-${s}`, n);
  // 16 writers, one per set, each reporting all points
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: sets }, async (_, s) => {
    for (let i = 1; i <= Math.min(n, 40); i++) {
      const t = performance.now();
      await c.mergePatch(`${base}/s${n}-${s}`, { spec: { losses: { [String(i)]: Math.random() } } });
      lat.push(performance.now() - t);
    }
  }));
  const dt = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  console.log(`points/set=${n} bytes=${bytes} writes=${lat.length} rate=${(lat.length / dt).toFixed(1)}/s p50=${lat[Math.floor(lat.length / 2)].toFixed(1)} p99=${lat[Math.floor(lat.length * 0.99)].toFixed(1)}`);
}
// one set, 16 writers
{
  const n = 50; await mkset("one", 1000 > n ? n : n);
  const lat: number[] = []; const t0 = performance.now(); let id = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (id < 50) { const i = ++id; const t = performance.now(); await c.mergePatch(`${base}/one`, { spec: { losses: { [String(i)]: 1 } } }); lat.push(performance.now() - t); } }));
  const dt = (performance.now() - t0) / 1000; lat.sort((a, b) => a - b);
  console.log(`ONE set of 50, 16 writers: rate=${(lat.length / dt).toFixed(1)}/s p50=${lat[Math.floor(lat.length / 2)].toFixed(1)}`);
}
c.close();
await cp.stop();
