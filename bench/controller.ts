/**
 * bench:controller — the operator's speed and memory on a local control plane (not a test: it
 * measures, writes bench/results/controller.json and the controller table of docs/performance.md).
 *
 *   (a) latency from a loss patch that crosses the threshold to the new point being visible in the
 *       HyperParameterSet's status (method random), p50/p95/p99 over SAMPLES samples on sets of up
 *       to 60 points (four requests one after the other), and then on sets of about 100, 300 and
 *       1,000 points, each beside the API server's own floor at that size: one loss patch plus one
 *       status write of the same set, made by the benchmark with no operator in between. Both
 *       writes are whole-object writes, so the floor grows with the set; what is above it is the
 *       operator's share (its watch, queue, generation and the events in between);
 *   (b) sustained loss patches per second the operator keeps up with: CLIENTS reporters on one set
 *       of PATCHES points, then one reporter on each of CLIENTS sets;
 *   (c) the operator's resident memory with REQUESTS small requests, and apart from it the fixed
 *       cost of importing @kubernetes/client-node (a bare node against one that imported it).
 *
 *   npm run bench:controller [-- --samples=200 --sized=100 --requests=1000 --patches=300 --clients=4]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type HPORequest, type HyperParameterSet, setNameOf } from "../src/api/index.ts";
import { JsonPatch, KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { metricSum, startOperatorProcess } from "../test/support/operator.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "200" },
    sized: { type: "string", default: "100" },
    requests: { type: "string", default: "1000" },
    patches: { type: "string", default: "300" },
    clients: { type: "string", default: "4" },
  },
});
const SAMPLES = Number(values.samples);
const SIZED = Number(values.sized);
const SIZES = [100, 300, 1000];
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
// The benchmark is the load, not the operator: its own client has no rate limit.
const client = new KubeClient(loadKubeConfig(cp.kubeconfig), { qps: -1 });
const startOperator = () => startOperatorProcess({ kubeconfig: cp.kubeconfig, args: ["--log-level=warn"] });
let op = await startOperator();

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

/**
 * watchSets follows the sets of one request (label hpo.dev/request) and calls onSet with each new
 * copy; a watch that ends (the API server closes watches after a while) is resumed.
 */
function watchSets(ns: string, request: string, onSet: (s: HyperParameterSet) => void): AbortController {
  const ac = new AbortController();
  void (async () => {
    let rv: string | undefined;
    while (!ac.signal.aborted) {
      const query = { watch: true, labelSelector: `hpo.dev/request=${request}`, resourceVersion: rv };
      try {
        for await (const line of client.lines(paths.collection(API, "hyperparametersets", ns), {
          query,
          signal: ac.signal,
        })) {
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: HyperParameterSet };
          if (ev.type === "ERROR") {
            rv = undefined;
            break;
          }
          rv = ev.object.metadata?.resourceVersion;
          onSet(ev.object);
        }
      } catch (e) {
        if (!ac.signal.aborted)
          process.stderr.write(`watch of ${request} ended: ${(e as Error).message}; resuming\n`);
      }
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

const getReq = (ns: string, name: string) =>
  client.get<HPORequest>(paths.object(API, "hporequests", ns, name));

/**
 * latency runs one request with pointsPerGeneration 1 seeded with `base` evaluated points: each
 * loss on its newest point crosses the threshold (0 unevaluated) and asks for the next. It returns
 * the time from sending the patch to the watch showing the new point, after `warmup` samples, and
 * the newest set's points at the end (for the floor).
 */
async function latency(
  name: string,
  base: number,
  samples: number,
  warmup = 10,
): Promise<{ ms: number[]; last: HyperParameterSet | undefined }> {
  const initialPoints = Array.from({ length: base }, (_, i) => ({
    params: { x: (i + 0.5) / base, n: 1 + (i % 9) },
    loss: 1 + i / base,
  }));
  await request(name, "default", { pointsPerGeneration: 1, maxPoints: 100_000, initialPoints });
  const held = new Map<string, HyperParameterSet>();
  let waiter: (() => void) | undefined;
  const watch = watchSets("default", name, (s) => {
    held.set(s.metadata?.name ?? "", s);
    waiter?.();
  });
  const count = () => [...held.values()].reduce((a, s) => a + (s.status?.points?.length ?? 0), 0);
  const waitCount = (n: number) =>
    new Promise<void>((res) => {
      waiter = () => count() >= n && res();
      waiter();
    });
  await waitCount(base + 1);
  const perSet = (await getReq("default", name)).status?.pointsPerSet ?? 1;
  const out: number[] = [];
  for (let i = 1; i <= samples + warmup; i++) {
    const t0 = performance.now();
    const id = base + i;
    await patchLoss("default", setNameOf(name, id, perSet), { [String(id)]: Math.random() });
    await waitCount(base + i + 1);
    if (i > warmup) out.push(performance.now() - t0);
  }
  watch.abort();
  const last = [...held.values()].sort((a, b) => b.spec.firstId - a.spec.firstId)[0];
  await client.delete(paths.object(API, "hporequests", "default", name)).catch(() => undefined);
  for (const s of held.keys()) await client.delete(setPath("default", s)).catch(() => undefined); // no garbage collector here
  return { ms: out, last };
}

/**
 * floor times what the API server alone takes for each sample of a latency run: a loss merge patch
 * and the operator's append of the next point, on a set like the newest one that run wrote (no
 * request owns it: the operator writes nothing), sent back to back by the benchmark.
 */
async function floor(like: HyperParameterSet | undefined, samples: number): Promise<number[]> {
  const name = `floor-${like?.metadata?.name}`;
  const pts = like?.status?.points ?? [];
  const keep = pts.slice(0, Math.max(1, pts.length - samples - 1));
  await client.create(paths.collection(API, "hyperparametersets", "default"), {
    apiVersion: API,
    kind: "HyperParameterSet",
    metadata: { name },
    spec: { request: name, firstId: like?.spec.firstId ?? 1, lastId: like?.spec.lastId ?? 1000 },
  });
  const status = paths.object(API, "hyperparametersets", "default", name, "status");
  await client.mergePatch(status, { status: { total: keep.length, points: keep } });
  const out: number[] = [];
  let total = keep.length;
  for (let i = 0; i < samples && total < pts.length; i++) {
    const t0 = performance.now();
    const id = keep.at(-1)?.id ?? "1";
    await patchLoss("default", name, { [id]: 0.5 }).catch(() => undefined);
    await client.request("PATCH", status, {
      body: [
        { op: "test", path: "/status/total", value: total },
        { op: "add", path: "/status/points/-", value: pts[total] },
        { op: "replace", path: "/status/total", value: total + 1 },
      ],
      contentType: JsonPatch,
    });
    keep.push(pts[total] as (typeof pts)[number]);
    total++;
    out.push(performance.now() - t0);
  }
  await client.delete(setPath("default", name)).catch(() => undefined);
  return out;
}

interface Throughput {
  sets: number;
  clients: number;
  offeredPerSecond: number;
  recordedPerSecond: number;
  lagMs: number;
}

/**
 * throughput sends one loss for each of PATCHES points of each of `sets` sets, from `clients`
 * reporters per set, as fast as the API server takes them; it times the patches and how long the
 * operator takes to have every loss in the sets' status.
 */
async function throughput(prefix: string, sets: number, clients: number): Promise<Throughput> {
  const names = Array.from({ length: sets }, (_, i) => `${prefix}-${i}`);
  for (const name of names)
    await request(name, "default", { pointsPerGeneration: PATCHES, maxPoints: PATCHES });
  const count = async (field: "total" | "evaluated") => {
    const reqs = await Promise.all(names.map((n) => getReq("default", n)));
    return reqs.every((r) => (r.status?.points?.[field] ?? 0) === PATCHES);
  };
  await until(() => count("total"));
  const perSet = (await getReq("default", names[0] as string)).status?.pointsPerSet ?? 1;
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      let next = 1;
      const reporter = async () => {
        while (next <= PATCHES) {
          const id = next++;
          await patchLoss("default", setNameOf(name, id, perSet), { [String(id)]: id / PATCHES });
        }
      };
      await Promise.all(Array.from({ length: clients }, reporter));
    }),
  );
  const sent = performance.now();
  await until(() => count("evaluated"));
  const done = performance.now();
  for (const name of names) {
    await client.delete(paths.object(API, "hporequests", "default", name)).catch(() => undefined);
  }
  const total = PATCHES * sets;
  return {
    sets,
    clients: clients * sets,
    offeredPerSecond: Math.round(total / ((sent - t0) / 1000)),
    recordedPerSecond: Math.round(total / ((done - t0) / 1000)),
    lagMs: Math.round(done - sent),
  };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
}

/** settle waits until the operator has reconciled nothing for 3 s (at most 60 s). */
async function settle(): Promise<void> {
  const t0 = Date.now();
  let last = -1;
  let since = Date.now();
  while (Date.now() - t0 < 60_000) {
    const n = metricSum(await op.metrics(), "controller_runtime_reconcile_total");
    if (n !== last) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= 3_000) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * importCost is the RSS (MB, median of 5 runs) of a node that imported nothing, and of one that
 * imported @kubernetes/client-node, each read after a GC once the import is done.
 */
function importCost(): { bareNodeMb: number; withClientNodeMb: number; costMb: number } {
  const rss = (code: string) => {
    const runs = Array.from({ length: 5 }, () =>
      Number(
        execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", code], {
          cwd: repoRoot,
          encoding: "utf8",
        }).trim(),
      ),
    );
    return percentile(runs, 50);
  };
  const print = "globalThis.gc(); console.log(Math.round(process.memoryUsage().rss / 2 ** 20));";
  const bareNodeMb = rss(print);
  const withClientNodeMb = rss(`await import("@kubernetes/client-node"); ${print}`);
  return { bareNodeMb, withClientNodeMb, costMb: withClientNodeMb - bareNodeMb };
}

async function memory(): Promise<{ requests: number; rssMb: number; rssIdleMb: number; heapUsedMb: number }> {
  // A fresh operator: the latency and throughput runs before leave a heap grown by sets of 1,000 points.
  await op.kill("SIGTERM");
  op = await startOperator();
  await settle();
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
    const list = await client.get<{ items: HPORequest[] }>(paths.collection(API, "hporequests"));
    return (
      list.items.filter((r) => r.metadata?.namespace?.startsWith("mem-") && r.status?.points?.total === 3)
        .length === REQUESTS
    );
  }, 600_000);
  await settle();
  const heapUsedMb = Math.round(metricSum(await op.metrics(), "nodejs_heap_size_used_bytes") / 2 ** 20);
  return { requests: REQUESTS, rssMb: rssMb(pid), rssIdleMb: idle, heapUsedMb };
}

const stats = (v: number[]) => ({
  samples: v.length,
  p50: percentile(v, 50),
  p95: percentile(v, 95),
  p99: percentile(v, 99),
  max: Math.max(...v),
});

try {
  // (a) Four requests one after the other, SAMPLES in all: sets of 11 to 10 + SAMPLES / 4 points.
  const lat: number[] = [];
  for (let k = 0; k < 4; k++) lat.push(...(await latency(`latency-${k}`, 0, SAMPLES / 4)).ms);
  const small = stats(lat);
  process.stderr.write(`latency: p50 ${small.p50.toFixed(1)} ms, p99 ${small.p99.toFixed(1)} ms\n`);
  const bySize = [];
  for (const size of SIZES) {
    const run = await latency(`latency-${size}`, size, SIZED);
    const e2e = stats(run.ms);
    const api = stats(await floor(run.last, SIZED));
    bySize.push({ size, endToEnd: e2e, apiServerFloor: api });
    process.stderr.write(
      `latency at ${size}: p50 ${e2e.p50.toFixed(1)} ms, floor ${api.p50.toFixed(1)} ms\n`,
    );
  }
  const oneSet = await throughput("throughput", 1, CLIENTS);
  const manySets = await throughput("spread", CLIENTS, 1);
  process.stderr.write(`throughput: ${JSON.stringify([oneSet, manySets])}\n`);
  const mem = await memory();
  const clientNode = importCost();
  process.stderr.write(`memory: ${JSON.stringify(mem)}; client-node import: ${JSON.stringify(clientNode)}\n`);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    kubeApiserver: cp.version,
    latencyMs: small,
    latencyBySetSize: bySize,
    throughput: [oneSet, manySets],
    memory: { ...mem, clientNodeImport: clientNode },
  };
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  writeFileSync(join(repoRoot, "bench/results/controller.json"), `${JSON.stringify(result, null, 2)}\n`);
  const r = (n: number) => n.toFixed(1);
  const per = SAMPLES / 4;
  writeSection(
    "controller",
    [
      `Measured ${result.date.slice(0, 10)} with \`npm run bench:controller\` (kube-apiserver ${cp.version}, ${result.machine.cpus} cores, load ${result.machine.loadavg.map((x) => x.toFixed(1)).join(" ")} at the end; JSON in bench/results/controller.json).`,
      "",
      "| what | result | target |",
      "|---|---|---|",
      `| loss patch crossing the threshold -> new point in a set, p50 (${lat.length} samples: 4 requests of ${per}, growing from 11 to ${10 + per} points, random) | ${r(small.p50)} ms | <= 50 ms |`,
      `| same, p95 | ${r(small.p95)} ms | |`,
      `| same, p99 | ${r(small.p99)} ms | <= 250 ms |`,
      `| loss patches sent (${oneSet.clients} concurrent reporters, one request of ${PATCHES} points, in id order) | ${oneSet.offeredPerSecond}/s | |`,
      `| losses counted in the request's status, first patch to last counted | ${oneSet.recordedPerSecond}/s (lag after the last patch ${oneSet.lagMs} ms) | keeps up |`,
      `| loss patches sent (one reporter on each of ${manySets.sets} requests of ${PATCHES} points) | ${manySets.offeredPerSecond}/s | |`,
      `| losses counted in the request's status, first patch to last counted | ${manySets.recordedPerSecond}/s (lag after the last patch ${manySets.lagMs} ms) | keeps up |`,
      `| operator RSS with ${mem.requests} small requests, once idle (a fresh operator; before them: ${mem.rssIdleMb} MB; V8 heap in use after: ${mem.heapUsedMb} MB) | ${mem.rssMb} MB | <= 350 MB |`,
      `| the fixed cost of importing \`@kubernetes/client-node\`, measured apart (a bare node ${clientNode.bareNodeMb} MB, one that imported it ${clientNode.withClientNodeMb} MB; median of 5) | ${clientNode.costMb} MB | |`,
      "",
      `The same latency on bigger requests (${SIZED} samples each, the request growing by one point per sample from the size given, its first points given as spec.initialPoints), beside the API server's floor: a loss patch then the operator's append of one point, on a set like the newest one of that run, sent back to back by the benchmark with no operator in between. The points are spread over sets of bounded size, so the floor stays flat; what grows is the request itself: its spec carries the initial points, and the request's status write (after each append, on the path of the next sample) is a write of the whole request.`,
      "",
      "| request size | p50 | p95 | p99 | API server floor, p50 | p95 | operator's share of the p50 |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      ...bySize.map(
        (b) =>
          `| ${b.size + 11}-${b.size + 10 + SIZED} | ${r(b.endToEnd.p50)} ms | ${r(b.endToEnd.p95)} ms | ${r(b.endToEnd.p99)} ms | ${r(b.apiServerFloor.p50)} ms | ${r(b.apiServerFloor.p95)} ms | ${r(b.endToEnd.p50 - b.apiServerFloor.p50)} ms |`,
      ),
    ].join("\n"),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await op.kill("SIGTERM");
  client.close();
  await cp.stop();
}
