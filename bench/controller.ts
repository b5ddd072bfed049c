/**
 * bench:controller — the operator's speed and memory on a local control plane (not a test: it
 * measures, writes bench/results/controller.json and the controller table of docs/performance.md).
 *
 *   (a) latency from a loss patch that crosses the threshold to the new point being visible in the
 *       HyperParameterSet's status (method random), p50/p95/p99 over SAMPLES samples;
 *   (b) sustained loss patches per second the operator keeps up with;
 *   (c) the operator's resident memory with REQUESTS small requests.
 *
 *   npm run bench:controller [-- --samples=200 --requests=1000 --patches=300 --clients=4]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HyperParameterSet } from "../src/api/index.ts";
import { KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { startOperatorProcess } from "../test/support/operator.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "200" },
    requests: { type: "string", default: "1000" },
    patches: { type: "string", default: "300" },
    clients: { type: "string", default: "4" },
  },
});
const SAMPLES = Number(values.samples);
const REQUESTS = Number(values.requests);
const PATCHES = Number(values.patches);
const CLIENTS = Number(values.clients);
const API = "hpo.dev/v1alpha1";

const cp = await startControlPlane({ withControllerManager: false, log: () => {} });
const kubectl = (...args: string[]) =>
  execFileSync(join(cp.binDir, "kubectl"), ["--kubeconfig", cp.kubeconfig, ...args], {
    cwd: repoRoot,
    encoding: "utf8",
  });
installCrds(join(cp.binDir, "kubectl"), cp.kubeconfig);
const client = new KubeClient(loadKubeConfig(cp.kubeconfig));
const op = await startOperatorProcess({ kubeconfig: cp.kubeconfig, args: ["--log-level=warn"] });

function request(name: string, ns: string, spec: Record<string, unknown>) {
  return client.create(paths.collection(API, "hporequests", ns), {
    apiVersion: API,
    kind: "HPORequest",
    metadata: { name },
    spec: {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 1 }, n: { type: "int", low: 1, high: 9 } },
      ...spec,
    },
  });
}
const setPath = (ns: string, name: string) => paths.object(API, "hyperparametersets", ns, name);
const patchLoss = (ns: string, name: string, losses: Record<string, number>) =>
  client.mergePatch(setPath(ns, name), { spec: { losses } }, { timeoutMs: 120_000 });

/** watchSet follows one set and calls onPoints with its point count at each change. */
function watchSet(ns: string, name: string, onPoints: (s: HyperParameterSet) => void): AbortController {
  const ac = new AbortController();
  void (async () => {
    const path = `${paths.collection(API, "hyperparametersets", ns)}?watch=true&fieldSelector=metadata.name%3D${name}`;
    try {
      for await (const line of client.lines(path, { signal: ac.signal })) {
        if (line) onPoints((JSON.parse(line) as { object: HyperParameterSet }).object);
      }
    } catch {
      // aborted
    }
  })();
  return ac;
}

async function until(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - t0 > timeoutMs) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function latency(): Promise<number[]> {
  await request("latency", "default", { pointsPerGeneration: 1 });
  let latest: HyperParameterSet | undefined;
  let waiter: (() => void) | undefined;
  const watch = watchSet("default", "latency", (s) => {
    latest = s;
    waiter?.();
  });
  const count = () => latest?.status?.points?.length ?? 0;
  const waitCount = (n: number) =>
    new Promise<void>((res) => {
      waiter = () => count() >= n && res();
      waiter();
    });
  await waitCount(1);
  const samples: number[] = [];
  for (let i = 1; i <= SAMPLES + 10; i++) {
    const t0 = performance.now();
    await patchLoss("default", "latency", { [String(i)]: Math.random() });
    await waitCount(i + 1);
    if (i > 10) samples.push(performance.now() - t0); // the first ten warm up
  }
  watch.abort();
  return samples;
}

async function throughput(): Promise<{ offeredPerSecond: number; recordedPerSecond: number; lagMs: number }> {
  await request("throughput", "default", { pointsPerGeneration: PATCHES, maxPoints: PATCHES });
  await until(
    async () =>
      ((await client.get<HyperParameterSet>(setPath("default", "throughput"))).status?.total ?? 0) ===
      PATCHES,
  );
  const t0 = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= PATCHES) {
      const id = next++;
      await patchLoss("default", "throughput", { [String(id)]: id / PATCHES });
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  const sent = performance.now();
  await until(
    async () =>
      ((await client.get<HyperParameterSet>(setPath("default", "throughput"))).status?.evaluated ?? 0) ===
      PATCHES,
  );
  const done = performance.now();
  return {
    offeredPerSecond: Math.round(PATCHES / ((sent - t0) / 1000)),
    recordedPerSecond: Math.round(PATCHES / ((done - t0) / 1000)),
    lagMs: Math.round(done - sent),
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

async function memory(): Promise<{ requests: number; rssMb: number; rssIdleMb: number }> {
  const pid = op.child.pid as number;
  const idle = rssMb(pid);
  for (let ns = 0; ns < 10; ns++) kubectl("create", "namespace", `mem-${ns}`);
  let created = 0;
  const worker = async () => {
    while (created < REQUESTS) {
      const i = created++;
      await request(`r-${i}`, `mem-${i % 10}`, { pointsPerGeneration: 3, maxPoints: 3 });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await until(async () => {
    const list = await client.get<{ items: HyperParameterSet[] }>(
      paths.collection(API, "hyperparametersets"),
    );
    return (
      list.items.filter((s) => s.metadata?.namespace?.startsWith("mem-") && s.status?.total === 3).length ===
      REQUESTS
    );
  }, 600_000);
  await new Promise((r) => setTimeout(r, 2000));
  return { requests: REQUESTS, rssMb: rssMb(pid), rssIdleMb: idle };
}

try {
  const lat = await latency();
  process.stderr.write(
    `latency: p50 ${percentile(lat, 50).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms\n`,
  );
  const tp = await throughput();
  process.stderr.write(`throughput: ${JSON.stringify(tp)}\n`);
  const mem = await memory();
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    kubeApiserver: cp.version,
    latencyMs: {
      samples: lat.length,
      p50: percentile(lat, 50),
      p95: percentile(lat, 95),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
    },
    throughput: tp,
    memory: mem,
  };
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  writeFileSync(join(repoRoot, "bench/results/controller.json"), `${JSON.stringify(result, null, 2)}\n`);
  const r = (n: number) => n.toFixed(1);
  writeSection(
    "controller",
    [
      `Measured ${result.date.slice(0, 10)} with \`npm run bench:controller\` (kube-apiserver ${cp.version}, ${result.machine.cpus} cores, load ${result.machine.loadavg.map((x) => x.toFixed(1)).join(" ")} at the end; JSON in bench/results/controller.json).`,
      "",
      "| what | result | target |",
      "|---|---|---|",
      `| loss patch crossing the threshold -> new point in the set's status, p50 (${lat.length} samples, random) | ${r(result.latencyMs.p50)} ms | <= 50 ms |`,
      `| same, p95 | ${r(result.latencyMs.p95)} ms | |`,
      `| same, p99 | ${r(result.latencyMs.p99)} ms | <= 250 ms |`,
      `| loss patches sent (${CLIENTS} concurrent clients, one set of ${PATCHES} points) | ${tp.offeredPerSecond}/s | |`,
      `| losses recorded in status, first patch to last recorded | ${tp.recordedPerSecond}/s (lag after the last patch ${tp.lagMs} ms) | keeps up |`,
      `| operator RSS with ${mem.requests} small requests (idle: ${mem.rssIdleMb} MB) | ${mem.rssMb} MB | < 300 MB |`,
    ].join("\n"),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await op.kill("SIGTERM");
  client.close();
  await cp.stop();
}
