/**
 * bench:scale — a request of 100,000 points on a local control plane, the operator as its own
 * process, a simulated fleet reporting every loss by merge patch (not a test: it measures, checks
 * what must hold, writes bench/results/scale.json and the scale table of docs/performance.md).
 *
 *   (1) throughput: 16 concurrent reporters on one request of 10,000 points (losses per second,
 *       overall and over the slowest 10 s window; none lost);
 *   (2) the big request: 20 float parameters, method random, maxPoints 100,000,
 *       pointsPerGeneration 1,000; the fleet reports every point's loss; checked: ids exactly
 *       1..100,000, every loss recorded as sent, the request's best is the minimum, the largest
 *       object the operator wrote (each set and the request, read back) at most 512 KiB;
 *   (3) the time from a loss report to the point showing as evaluated in the TypeScript client
 *       (HpoClient.updateHyperParameter, then getHyperParameter until Evaluated), on a request of
 *       1,000 points and on the 100,000-point one, in the same run;
 *   (4) a loss that crosses the threshold to a new point (pointsPerGeneration 1): time from the
 *       patch to the new point in a set, on a request of 1,000 points and on the 100,000-point one;
 *   (5) the operator's RSS (and its peak) with the 100,000-point request.
 *
 *   npm run bench:scale [-- --points=100000 --reporters=16 --throughput-points=10000 --samples=100]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type HPORequest, type HyperParameterSet, setNameOf } from "../src/api/index.ts";
import { HpoClient } from "../src/client/index.ts";
import { KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { startOperatorProcess } from "../test/support/operator.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({
  options: {
    points: { type: "string", default: "100000" },
    reporters: { type: "string", default: "16" },
    "throughput-points": { type: "string", default: "10000" },
    samples: { type: "string", default: "100" },
  },
});
const POINTS = Number(values.points);
const REPORTERS = Number(values.reporters);
const TPOINTS = Number(values["throughput-points"]);
const SAMPLES = Number(values.samples);
const API = "hpo.dev/v1alpha1";
const NS = "default";
const DIMS = 20;

const cp = await startControlPlane({ withControllerManager: false, log: () => {} });
installCrds(join(cp.binDir, "kubectl"), cp.kubeconfig);
// The simulated fleet stands for many processes, each with its own client (kubectl patch has no
// shared limit): no client-side rate limit here, or the bench would measure its own limiter
// (100 requests/s by default) instead of the API server and the operator.
const kube = new KubeClient(loadKubeConfig(cp.kubeconfig), { qps: 0 });
const hpo = new HpoClient({ kube, namespace: NS });
const op = await startOperatorProcess({ kubeconfig: cp.kubeconfig, args: ["--log-level=warn"] });
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

const space = Object.fromEntries(
  Array.from({ length: DIMS }, (_, i) => [
    `x${String(i).padStart(2, "0")}`,
    { type: "float", low: 0, high: 1 },
  ]),
);
/** lossOf is the fleet's objective: a sphere around 0.3. */
const lossOf = (params: Record<string, unknown>) =>
  Object.values(params).reduce<number>((a, v) => a + ((v as number) - 0.3) ** 2, 0);

async function create(name: string, spec: Record<string, unknown>): Promise<void> {
  await kube.create(paths.collection(API, "hporequests", NS), {
    apiVersion: API,
    kind: "HPORequest",
    metadata: { name },
    spec: { method: "random", searchSpace: space, seed: 1, ...spec },
  });
}
const getReq = (name: string) => kube.get<HPORequest>(paths.object(API, "hporequests", NS, name));
const setPath = (name: string) => paths.object(API, "hyperparametersets", NS, name);

/**
 * Fleet follows a request's sets with a watch (label hpo.dev/request) and hands each new point out
 * once, in random order within what is known, to `reporters` concurrent reporters that send one
 * merge patch per loss to the set that holds the point. It remembers every loss it sent.
 */
class Fleet {
  readonly sent = new Map<number, number>();
  readonly times: number[] = [];
  private readonly queue: { id: number; loss: number }[] = [];
  private readonly known = new Set<number>();
  private readonly ac = new AbortController();
  private stopped = false;
  private wake: (() => void) | undefined;
  private perSet = 0;
  private readonly workers: Promise<void>[] = [];
  errors = 0;
  private readonly request: string;
  private readonly limit: number;
  private taken = 0;

  /** The fleet reports at most limit losses (the rest are left for the latency samples). */
  constructor(request: string, reporters: number, limit: number) {
    this.request = request;
    this.limit = limit;
    void this.watch();
    for (let i = 0; i < reporters; i++) this.workers.push(this.work());
  }

  private offer(s: HyperParameterSet): void {
    const fresh: { id: number; loss: number }[] = [];
    for (const p of s.status?.points ?? []) {
      const id = Number(p.id);
      if (this.known.has(id) || s.spec.losses?.[p.id] !== undefined) continue;
      this.known.add(id);
      fresh.push({ id, loss: lossOf(p.params) });
    }
    if (fresh.length === 0) return;
    for (let i = fresh.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [fresh[i], fresh[j]] = [
        fresh[j] as { id: number; loss: number },
        fresh[i] as { id: number; loss: number },
      ];
    }
    // Spread the reporters over the sets: new points go in at random places of the queue.
    for (const f of fresh) this.queue.splice(Math.floor(Math.random() * (this.queue.length + 1)), 0, f);
    this.wake?.();
  }

  private async watch(): Promise<void> {
    let rv: string | undefined;
    const selector = `hpo.dev/request=${this.request}`;
    while (!this.ac.signal.aborted) {
      try {
        if (rv === undefined) {
          const list = await kube.get<{ items: HyperParameterSet[]; metadata: { resourceVersion: string } }>(
            paths.collection(API, "hyperparametersets", NS),
            { query: { labelSelector: selector } },
          );
          for (const s of list.items) this.offer(s);
          rv = list.metadata.resourceVersion;
        }
        for await (const line of kube.lines(paths.collection(API, "hyperparametersets", NS), {
          query: { watch: true, labelSelector: selector, resourceVersion: rv, allowWatchBookmarks: true },
          signal: this.ac.signal,
        })) {
          const ev = JSON.parse(line) as { type: string; object: HyperParameterSet };
          if (ev.type === "ERROR") {
            rv = undefined;
            break;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (ev.type === "ADDED" || ev.type === "MODIFIED") this.offer(ev.object);
        }
      } catch {
        if (!this.ac.signal.aborted) rv = undefined;
      }
    }
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const next = this.taken < this.limit ? this.queue.pop() : undefined;
      if (next) this.taken++;
      if (!next) {
        await new Promise<void>((r) => {
          this.wake = r;
          setTimeout(r, 200);
        });
        continue;
      }
      if (this.perSet === 0) this.perSet = (await getReq(this.request)).status?.pointsPerSet ?? 0;
      const set = setNameOf(this.request, next.id, this.perSet);
      for (let attempt = 1; ; attempt++) {
        try {
          await kube.mergePatch(
            setPath(set),
            { spec: { losses: { [String(next.id)]: next.loss } } },
            { timeoutMs: 120_000 },
          );
          break;
        } catch (e) {
          this.errors++;
          if (attempt >= 5) throw e;
        }
      }
      this.sent.set(next.id, next.loss);
      this.times.push(performance.now());
    }
  }

  /** until waits until the fleet has sent n losses. */
  async until(n: number, timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    let last = 0;
    while (this.sent.size < n) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`fleet: ${this.sent.size} of ${n} losses after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1000));
      if (this.sent.size - last >= 5000 || Date.now() % 60_000 < 1000) {
        last = this.sent.size;
        log(`${this.request}: ${this.sent.size}/${n} losses sent`);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.ac.abort();
    await Promise.all(this.workers);
  }
}

/** readAll reads every set of a request, page by page (the client's listing). */
const readAll = (request: string): Promise<HyperParameterSet[]> => hpo.getHyperParameterSets(request);

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stats = (v: number[]) => ({
  samples: v.length,
  p50: percentile(v, 50),
  p95: percentile(v, 95),
  p99: percentile(v, 99),
});

/** throughput: REPORTERS reporters on a request of TPOINTS points, every loss reported. */
interface Throughput {
  points: number;
  reporters: number;
  perSecond: number;
  slowest10sPerSecond: number;
  recorded: number;
  lost: number;
  retries: number;
}

async function throughput(): Promise<Throughput> {
  await create("throughput", { maxPoints: TPOINTS, pointsPerGeneration: Math.min(TPOINTS, 10_000) });
  await waitUntil(
    "the throughput request's points",
    async () => (await getReq("throughput")).status?.points?.total === TPOINTS,
    600_000,
  );
  log(`throughput: ${TPOINTS} points stored; ${REPORTERS} reporters start`);
  const fleet = new Fleet("throughput", REPORTERS, TPOINTS);
  const t0 = performance.now();
  await fleet.until(TPOINTS, 1_800_000);
  const seconds = (performance.now() - t0) / 1000;
  await fleet.stop();
  // The slowest 10 s window of the run (sustained rate), from the times the patches returned.
  const times = fleet.times.sort((a, b) => a - b);
  let slowest = Number.POSITIVE_INFINITY;
  for (let start = t0; start + 10_000 <= (times.at(-1) ?? t0); start += 1_000) {
    const n = times.filter((t) => t >= start && t < start + 10_000).length;
    slowest = Math.min(slowest, n / 10);
  }
  const sets = await readAll("throughput");
  const recorded = sets.reduce((a, s) => a + Object.keys(s.spec.losses ?? {}).length, 0);
  await waitUntil(
    "the throughput request's counts",
    async () => (await getReq("throughput")).status?.points?.evaluated === TPOINTS,
    120_000,
  );
  return {
    points: TPOINTS,
    reporters: REPORTERS,
    perSecond: Math.round(TPOINTS / seconds),
    slowest10sPerSecond: Number.isFinite(slowest) ? Math.round(slowest) : Math.round(TPOINTS / seconds),
    recorded,
    lost: TPOINTS - recorded,
    retries: fleet.errors,
  };
}

/** clientLatency: report a loss with HpoClient, then read the point with it until it shows Evaluated. */
async function clientLatency(request: string, ids: number[]): Promise<number[]> {
  const out: number[] = [];
  for (const id of ids) {
    const t0 = performance.now();
    await hpo.updateHyperParameter(request, id, 1000); // worse than any loss of the fleet: the best stays a fleet point
    while ((await hpo.getHyperParameter(request, id)).state !== "Evaluated");
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * thresholdLatency: on a request whose points are all evaluated and that asks 1 point per
 * generation, each loss on its newest point crosses the threshold; time from the patch to the
 * next point stored in a set (read by a watch on the request's sets).
 */
async function thresholdLatency(request: string, samples: number): Promise<number[]> {
  const req = await getReq(request);
  const total = req.status?.points?.total ?? 0;
  const perSet = req.status?.pointsPerSet ?? 1;
  let maxId = 0;
  let waiter: (() => void) | undefined;
  const ac = new AbortController();
  const selector = `hpo.dev/request=${request}`;
  const list = await kube.get<{ metadata: { resourceVersion: string } }>(
    paths.collection(API, "hyperparametersets", NS),
    {
      query: { labelSelector: selector, limit: 1 },
    },
  );
  void (async () => {
    try {
      for await (const line of kube.lines(paths.collection(API, "hyperparametersets", NS), {
        query: { watch: true, labelSelector: selector, resourceVersion: list.metadata.resourceVersion },
        signal: ac.signal,
      })) {
        const ev = JSON.parse(line) as { object: HyperParameterSet };
        const last = ev.object.status?.points?.at(-1)?.id;
        if (last !== undefined) maxId = Math.max(maxId, Number(last));
        waiter?.();
      }
    } catch {
      /* aborted */
    }
  })();
  const next = (id: number) =>
    new Promise<void>((res) => {
      waiter = () => maxId >= id && res();
      waiter();
    });
  kube.mergePatch(paths.object(API, "hporequests", NS, request), {
    spec: { pointsPerGeneration: 1, maxPoints: total + samples + 11 },
  });
  await next(total + 1);
  const out: number[] = [];
  for (let i = 1; i <= samples + 10; i++) {
    const id = total + i;
    const t0 = performance.now();
    await kube.mergePatch(setPath(setNameOf(request, id, perSet)), { spec: { losses: { [String(id)]: 1 } } });
    await next(id + 1);
    if (i > 10) out.push(performance.now() - t0);
  }
  ac.abort();
  return out;
}

function rss(pid: number): { rssMb: number; peakMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
  return { rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

try {
  const tp = await throughput();
  log(`throughput: ${JSON.stringify(tp)}`);

  // A request of 1,000 points (the small side of the comparisons), every loss reported.
  await create("small", { maxPoints: 1000, pointsPerGeneration: 1000 });
  const smallFleet = new Fleet("small", REPORTERS, 1000 - SAMPLES);
  await smallFleet.until(1000 - SAMPLES, 600_000);
  await smallFleet.stop();
  const smallIds = (await readAll("small"))
    .flatMap((s) =>
      (s.status?.points ?? []).filter((p) => s.spec.losses?.[p.id] === undefined).map((p) => Number(p.id)),
    )
    .slice(0, SAMPLES);

  // The big request.
  const t0 = performance.now();
  await create("big", { maxPoints: POINTS, pointsPerGeneration: 1000 });
  const fleet = new Fleet("big", REPORTERS, POINTS - SAMPLES);
  await fleet.until(POINTS - SAMPLES, 4 * 3_600_000);
  await fleet.stop();
  const bigIds = (await readAll("big"))
    .flatMap((s) =>
      (s.status?.points ?? []).filter((p) => s.spec.losses?.[p.id] === undefined).map((p) => Number(p.id)),
    )
    .slice(0, SAMPLES);
  log(
    `big: ${fleet.sent.size} losses sent in ${Math.round((performance.now() - t0) / 1000)} s; measuring latencies`,
  );

  // (3) report -> evaluated in the client, small and big alternating (same conditions).
  const clientSmall: number[] = [];
  const clientBig: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    clientSmall.push(...(await clientLatency("small", [smallIds[i] as number])));
    clientBig.push(...(await clientLatency("big", [bigIds[i] as number])));
    fleet.sent.set(bigIds[i] as number, 1000);
  }
  await waitUntil(
    "every loss of the big request counted",
    async () => (await getReq("big")).status?.points?.evaluated === POINTS,
    600_000,
  );

  // (2) the checks.
  const sets = await readAll("big");
  const ids = sets.flatMap((s) => (s.status?.points ?? []).map((p) => Number(p.id))).sort((a, b) => a - b);
  const idsExact = ids.length === POINTS && ids.every((id, i) => id === i + 1);
  let recorded = 0;
  let mismatched = 0;
  let min = { id: "", loss: Number.POSITIVE_INFINITY };
  for (const s of sets) {
    for (const [id, loss] of Object.entries(s.spec.losses ?? {})) {
      recorded++;
      if (fleet.sent.get(Number(id)) !== loss) mismatched++;
      if (loss < min.loss || (loss === min.loss && Number(id) < Number(min.id))) min = { id, loss };
    }
  }
  const bigReq = await getReq("big");
  const largestSet = Math.max(...sets.map((s) => Buffer.byteLength(JSON.stringify(s))));
  const requestBytes = Buffer.byteLength(JSON.stringify(bigReq));
  const memory = rss(op.child.pid as number);

  // (4) threshold crossing on both.
  const thSmall = await thresholdLatency("small", SAMPLES);
  const thBig = await thresholdLatency("big", SAMPLES);

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
    kubeApiserver: cp.version,
    throughput: tp,
    big: {
      points: POINTS,
      sets: sets.length,
      pointsPerSet: bigReq.status?.pointsPerSet,
      seconds: Math.round((performance.now() - t0) / 1000),
      idsExact,
      recorded,
      mismatched,
      best: bigReq.status?.best && { id: bigReq.status.best.id, loss: bigReq.status.best.loss },
      minimum: min,
      bestIsMinimum: bigReq.status?.best?.id === min.id && bigReq.status?.best?.loss === min.loss,
      largestSetBytes: largestSet,
      requestBytes,
    },
    clientLatencyMs: { points1000: stats(clientSmall), points100000: stats(clientBig) },
    thresholdLatencyMs: { points1000: stats(thSmall), points100000: stats(thBig) },
    operatorMemory: memory,
  };
  mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
  writeFileSync(join(repoRoot, "bench/results/scale.json"), `${JSON.stringify(result, null, 2)}\n`);
  const r = (n: number) => n.toFixed(1);
  const c = result.clientLatencyMs;
  const t = result.thresholdLatencyMs;
  const b = result.big;
  const ok = (cond: boolean) => (cond ? "yes" : "**no**");
  writeSection(
    "scale",
    [
      `Measured ${result.date.slice(0, 10)} with \`npm run bench:scale\` (kube-apiserver ${cp.version}, ${result.machine.cpus} cores, load ${result.machine.loadavg.map((x) => x.toFixed(1)).join(" ")} at the end; the operator with its defaults, --set-bytes 8192; JSON in bench/results/scale.json). The fleet hands points out in random order and sends one merge patch per loss to the set that holds it.`,
      "",
      "| what | result | target | met |",
      "|---|---|---|---|",
      `| ${b.points} points (20 float parameters, random, 1,000 per generation), every loss reported by ${REPORTERS} reporters | ${b.seconds} s, ${b.sets} sets of ${b.pointsPerSet} | | |`,
      `| ids exactly 1..${b.points}; every loss recorded as sent | ${b.idsExact ? "exact" : "NOT exact"}; ${b.recorded} recorded, ${b.mismatched} differ | exact, all | ${ok(b.idsExact && b.recorded === b.points && b.mismatched === 0)} |`,
      `| the request's best is the minimum | ${b.best?.id}: ${b.best?.loss} | the minimum | ${ok(b.bestIsMinimum)} |`,
      `| largest object the operator wrote (a set; the request) | ${b.largestSetBytes} B; ${b.requestBytes} B | <= 512 KiB | ${ok(Math.max(b.largestSetBytes, b.requestBytes) <= 512 * 1024)} |`,
      `| loss report -> evaluated in the TypeScript client, p50: 1,000 points; ${b.points} points | ${r(c.points1000.p50)} ms; ${r(c.points100000.p50)} ms (ratio ${(c.points100000.p50 / c.points1000.p50).toFixed(2)}) | ratio <= 1.5 | ${ok(c.points100000.p50 <= 1.5 * c.points1000.p50)} |`,
      `| ${tp.reporters} concurrent reporters on one request of ${tp.points} points | ${tp.perSecond} losses/s overall, ${tp.slowest10sPerSecond}/s in the slowest 10 s; ${tp.lost} lost | >= 100/s sustained, none lost | ${ok(tp.slowest10sPerSecond >= 100 && tp.lost === 0)} |`,
      `| loss crossing the threshold -> new point, 1,000 points: p50; p99 | ${r(t.points1000.p50)} ms; ${r(t.points1000.p99)} ms | <= 50; <= 250 ms | ${ok(t.points1000.p50 <= 50 && t.points1000.p99 <= 250)} |`,
      `| same, ${b.points} points: p50; p99 | ${r(t.points100000.p50)} ms; ${r(t.points100000.p99)} ms | <= 50; <= 250 ms | ${ok(t.points100000.p50 <= 50 && t.points100000.p99 <= 250)} |`,
      `| operator RSS with the ${b.points}-point request (peak) | ${memory.rssMb} MB (${memory.peakMb} MB) | <= 1 GiB | ${ok(memory.peakMb <= 1024)} |`,
    ].join("\n"),
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await op.kill("SIGTERM");
  kube.close();
  await cp.stop();
}
