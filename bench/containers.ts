/**
 * bench:containers — the operator's overhead per container generation, with the test kubelet that
 * runs pods as local processes (not a test: it measures, writes bench/results/containers.json and
 * the containers table of docs/performance.md).
 *
 * One request of method: container asks for one point per generation; the bench reports each
 * point's loss as soon as it appears, which starts the next generation. For each generation:
 *   total    = the Job's creation (seen on a watch) -> its point stored in the set (seen on a watch);
 *   pod      = the first container process's start -> the last one's end (bench/container-timer.mjs
 *              wraps every container, as the API's container timestamps have whole seconds only);
 *   overhead = total - pod: the Job controller, the kubelet picking the pod up, the operator seeing
 *              the Job end, reading stage-out's log through the API server and storing the points.
 *
 *   npm run bench:containers [-- --generations=30]
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HyperParameterSet } from "../src/api/index.ts";
import { KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { startKubelet } from "../test/support/kubelet.ts";
import { startOperatorProcess } from "../test/support/operator.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({ options: { generations: { type: "string", default: "30" } } });
const GENERATIONS = Number(values.generations);
const WARMUP = 2;
const API = "hpo.dev/v1alpha1";
const NS = "default";
const NAME = "bench";

const loadStart = loadavg();
const cp = await startControlPlane({ log: () => {} });
installCrds(join(cp.binDir, "kubectl"), cp.kubeconfig);
const client = new KubeClient(loadKubeConfig(cp.kubeconfig));
const times = mkdtempSync(join(tmpdir(), "hpo-bench-times-"));
const timer = [process.execPath, join(repoRoot, "bench/container-timer.mjs"), process.execPath];
const kubelet = await startKubelet({
  kubeconfig: cp.kubeconfig,
  namespaces: [NS],
  images: {
    "hpo-operator:bench": {
      entrypoint: [...timer, join(repoRoot, "src/cli/main.ts")],
      env: { HPO_BENCH_TIMES: times },
    },
    "steering:bench": {
      entrypoint: [...timer, join(repoRoot, "test/fixtures/steering.mjs")],
      env: { HPO_BENCH_TIMES: times },
    },
  },
});
const op = await startOperatorProcess({
  kubeconfig: cp.kubeconfig,
  args: [`--namespaces=${NS}`, "--operator-image=hpo-operator:bench", "--log-level=warn"],
});

/** watch follows a collection and calls onEvent with each event's type and object. */
function watch<T>(path: string, onEvent: (type: string, obj: T) => void): AbortController {
  const ac = new AbortController();
  void (async () => {
    try {
      for await (const line of client.lines(`${path}?watch=true`, { signal: ac.signal })) {
        if (!line) continue;
        const e = JSON.parse(line) as { type: string; object: T };
        onEvent(e.type, e.object);
      }
    } catch {
      // aborted
    }
  })();
  return ac;
}

const created = new Map<number, number>(); // generation -> when its Job was seen created
const complete = new Map<number, number>(); // generation -> when its Job was seen Complete
const stored = new Map<number, number>(); // generation -> when its point was seen stored
const reported = new Map<string, number>(); // point id -> when its loss was last reported
const storedPoints = new Map<string, number>(); // set name -> points it holds
const report = (id: string, set: string) => {
  reported.set(id, Date.now());
  void client
    .mergePatch(paths.object(API, "hyperparametersets", NS, set), {
      spec: { losses: { [id]: Math.random() } },
    })
    .catch((e) => process.stderr.write(`reporting the loss of point ${id}: ${(e as Error).message}\n`));
};
let finished: () => void = () => {};
const done = new Promise<void>((res) => {
  finished = res;
});
/** JobObject is the part of a Job read here. */
interface JobObject {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}
const jobs = watch<JobObject>(paths.collection("batch/v1", "jobs", NS), (type, job) => {
  const m = new RegExp(`^${NAME}-gen-(\\d+)$`).exec(job.metadata.name);
  if (!m) return;
  const g = Number(m[1]);
  if (type === "ADDED") created.set(g, Date.now());
  const isComplete = job.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True");
  if (isComplete && !complete.has(g)) complete.set(g, Date.now());
});
const sets = watch<HyperParameterSet>(paths.collection(API, "hyperparametersets", NS), (_type, set) => {
  const now = Date.now();
  for (const p of set.status?.points ?? []) {
    const g = p.generation ?? 0;
    if (!stored.has(g)) stored.set(g, now);
    if (!reported.has(p.id)) report(p.id, set.metadata?.name ?? "");
  }
  storedPoints.set(set.metadata?.name ?? "", set.status?.points?.length ?? 0);
  if ([...storedPoints.values()].reduce((a, b) => a + b, 0) >= GENERATIONS) finished();
});

const started = Date.now();
await client.create(paths.collection(API, "hporequests", NS), {
  apiVersion: API,
  kind: "HPORequest",
  metadata: { name: NAME },
  spec: {
    method: "container",
    searchSpace: { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } },
    maxPoints: GENERATIONS,
    pointsPerGeneration: 1,
    generator: {
      image: "steering:bench",
      args: ["--max_points=%MAX_POINTS", "--num_points=%NUM_POINTS", "--input=%IN", "--output=%OUT"],
    },
  },
});
await Promise.race([
  done,
  new Promise((_, rej) =>
    setTimeout(() => rej(new Error("the generations did not finish in 20 minutes")), 1_200_000),
  ),
]);
const wall = Date.now() - started;
jobs.abort();
sets.abort();

/** TimerRecord is one container run as bench/container-timer.mjs wrote it. */
interface TimerRecord {
  pod: string;
  what: string;
  start: number;
  end: number;
}
const records = readdirSync(times).flatMap((f) =>
  readFileSync(join(times, f), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as TimerRecord),
);
/** Sample is one generation's timings, in ms. */
interface Sample {
  generation: number;
  totalMs: number;
  podMs: number;
  overheadMs: number;
  jobToPodStartMs: number;
  podEndToStoredMs: number;
  podEndToJobCompleteMs: number;
  jobCompleteToStoredMs: number;
  stageInMs: number;
  generatorMs: number;
  stageOutMs: number;
}
const samples: Sample[] = [];
for (let g = 1 + WARMUP; g <= GENERATIONS; g++) {
  const runs = records.filter((r) => r.pod.startsWith(`${NAME}-gen-${g}-`));
  const t0 = created.get(g);
  const t1 = stored.get(g);
  const tc = complete.get(g);
  if (runs.length !== 3 || t0 === undefined || t1 === undefined || tc === undefined)
    throw new Error(`generation ${g}: incomplete records`);
  const first = Math.min(...runs.map((r) => r.start));
  const last = Math.max(...runs.map((r) => r.end));
  const span = (what: string) => {
    const r = runs.find((x) => x.what === what);
    return r ? Math.round(r.end - r.start) : Number.NaN;
  };
  samples.push({
    generation: g,
    totalMs: Math.round(t1 - t0),
    podMs: Math.round(last - first),
    overheadMs: Math.round(t1 - t0 - (last - first)),
    jobToPodStartMs: Math.round(first - t0),
    podEndToStoredMs: Math.round(t1 - last),
    podEndToJobCompleteMs: Math.round(tc - last),
    jobCompleteToStoredMs: Math.round(t1 - tc),
    stageInMs: span("stage-in"),
    generatorMs: span("generator"),
    stageOutMs: span("stage-out"),
  });
}
const stat = (key: Exclude<keyof Sample, "generation">) => {
  const v = samples.map((s) => s[key]);
  return { p50: percentile(v, 50), p95: percentile(v, 95) };
};
const result = {
  benchmark: "containers",
  date: new Date().toISOString(),
  command: `npm run bench:containers -- --generations=${GENERATIONS}`,
  kubeApiserver: cp.version,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavgStart: loadStart, loadavgEnd: loadavg() },
  generations: GENERATIONS,
  warmup: WARMUP,
  wallMs: wall,
  summary: {
    overheadMs: stat("overheadMs"),
    totalMs: stat("totalMs"),
    podMs: stat("podMs"),
    jobToPodStartMs: stat("jobToPodStartMs"),
    podEndToStoredMs: stat("podEndToStoredMs"),
    podEndToJobCompleteMs: stat("podEndToJobCompleteMs"),
    jobCompleteToStoredMs: stat("jobCompleteToStoredMs"),
    stageInMs: stat("stageInMs"),
    generatorMs: stat("generatorMs"),
    stageOutMs: stat("stageOutMs"),
  },
  samples,
};
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(join(repoRoot, "bench/results/containers.json"), `${JSON.stringify(result, null, 2)}\n`);

const s = result.summary;
const row = (what: string, v: { p50: number; p95: number }) => `| ${what} | ${v.p50} | ${v.p95} |`;
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(" ");
writeSection(
  "containers",
  [
    `Measured ${result.date.slice(0, 10)} with \`${result.command}\` (kube-apiserver ${cp.version}, test kubelet, ${result.machine.cpus} cores, load ${load(loadStart)} at the start and ${load(result.machine.loadavgEnd)} at the end; ${samples.length} generations after ${WARMUP} of warm-up; JSON in bench/results/containers.json).`,
    "",
    "| per generation (ms) | p50 | p95 |",
    "|---|---:|---:|",
    row("**operator overhead** (total - pod) — target ≤ 1000", s.overheadMs),
    row("total: Job created → points stored", s.totalMs),
    row("pod: first container start → last container end", s.podMs),
    row("Job created → first container starts (Job controller, kubelet)", s.jobToPodStartMs),
    row("last container ends → points stored", s.podEndToStoredMs),
    row("· last container ends → Job Complete (kubelet status, Job controller)", s.podEndToJobCompleteMs),
    row(
      "· Job Complete → points stored (the operator: watch, log read, checks, store)",
      s.jobCompleteToStoredMs,
    ),
    row("stage-in (node process)", s.stageInMs),
    row("generator (toy steering script, node)", s.generatorMs),
    row("stage-out (node process)", s.stageOutMs),
  ].join("\n"),
);
process.stdout.write(`${JSON.stringify(result.summary, null, 1)}\n`);

await op.kill("SIGTERM");
await kubelet.stop();
await cp.stop();
rmSync(times, { recursive: true, force: true });
