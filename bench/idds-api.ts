/**
 * bench:idds-api — the iDDS REST API server (`hpo-operator api`, its own process) on a local control
 * plane, with the operator as its own process (not a test: it measures, checks what must hold, writes
 * bench/results/idds-api.json and the idds-api table of docs/performance.md).
 *
 *   (1) reports: `--clients` concurrent HTTPS clients (each its own keep-alive connection and a
 *       service-account token from the TokenRequest API) PUT the loss of every point of one request
 *       of `--points` points (3 float parameters), taking ids in order from a shared counter, as a
 *       fleet takes points as they come; losses per second overall and over the slowest window
 *       (10 s, or a third of a shorter run), PUT latency p50/p99; then every loss is read back from the sets (none lost);
 *   (2) reads: GET of all points of a request of `--get-points` points (iDDS get_hyperparameters),
 *       `--samples` times one after the other, latency p50/p99.
 *
 *   npm run bench:idds-api [-- --points=10000 --clients=200 --get-points=1000 --samples=100 --order=sequential|random]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HPORequest } from "../src/api/index.ts";
import { HpoClient } from "../src/client/index.ts";
import { identityOf } from "../src/messaging/messages.ts";
import { KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { installCrds, repoRoot, startControlPlane } from "../test/support/controlplane.ts";
import { type ApiProcess, startApiProcess } from "../test/support/idds-api.ts";
import { startOperatorProcess } from "../test/support/operator.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({
  options: {
    points: { type: "string", default: "10000" },
    clients: { type: "string", default: "200" },
    "get-points": { type: "string", default: "1000" },
    samples: { type: "string", default: "100" },
    order: { type: "string", default: "sequential" },
  },
});
const POINTS = Number(values.points);
const CLIENTS = Number(values.clients);
const GET_POINTS = Number(values["get-points"]);
const SAMPLES = Number(values.samples);
const ORDER = values.order === "random" ? "random" : "sequential";
const API = "hpo.dev/v1alpha1";
const NS = "default";

const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const cp = await startControlPlane({ withControllerManager: false, log: () => {} });
installCrds(join(cp.binDir, "kubectl"), cp.kubeconfig);
const kube = new KubeClient(loadKubeConfig(cp.kubeconfig));
const hpo = new HpoClient({ kube, namespace: NS });
const op = await startOperatorProcess({ kubeconfig: cp.kubeconfig, args: ["--log-level=warn"] });
const api = await startApiProcess({ kubeconfig: cp.kubeconfig, args: ["--log-level=warn"] });

/** token is a service-account token (TokenRequest API) of a trainer allowed to read and report in NS. */
async function trainerToken(): Promise<string> {
  await kube.create(paths.collection("v1", "serviceaccounts", NS), { metadata: { name: "trainer" } });
  await kube.create(paths.collection("rbac.authorization.k8s.io/v1", "roles", NS), {
    metadata: { name: "trainer" },
    rules: [{ apiGroups: ["hpo.dev"], resources: ["hyperparametersets"], verbs: ["get", "patch"] }],
  });
  await kube.create(paths.collection("rbac.authorization.k8s.io/v1", "rolebindings", NS), {
    metadata: { name: "trainer" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "trainer" },
    subjects: [{ kind: "ServiceAccount", name: "trainer", namespace: NS }],
  });
  const tr = await kube.create<{ status: { token: string } }>(
    `${paths.object("v1", "serviceaccounts", NS, "trainer")}/token`,
    { spec: { expirationSeconds: 7200 } },
  );
  return tr.status.token;
}

/** createRequest makes a request of n points in one generation and waits until the sets hold them all. */
async function createRequest(name: string, n: number): Promise<number> {
  await kube.create(paths.collection(API, "hporequests", NS), {
    apiVersion: API,
    kind: "HPORequest",
    metadata: { name },
    spec: {
      method: "random",
      seed: 1,
      maxPoints: n,
      pointsPerGeneration: n,
      searchSpace: {
        a: { type: "float", low: 0, high: 1 },
        b: { type: "float", low: 0, high: 1 },
        c: { type: "float", low: 0, high: 1 },
      },
    },
  });
  for (;;) {
    const req = await kube.get<HPORequest>(paths.object(API, "hporequests", NS, name));
    if ((req.status?.points?.total ?? 0) >= n) return identityOf(req).requestId;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** call makes one HTTPS call through agent and resolves with the status and body. */
function call(agent: Agent, a: ApiProcess, method: string, path: string, token: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: a.port,
        method,
        path,
        agent,
        ca: a.ca,
        servername: "localhost",
        headers: { "X-IDDS-Auth-Type": "oidc", "X-IDDS-Auth-Token": token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const lossOf = (id: number) => Math.round(Math.sin(id) * 1e6) / 1e6;

/** report runs CLIENTS clients until every point has its loss; it returns the PUT latencies and times. */
async function report(requestId: number, token: string) {
  const ids = Array.from({ length: POINTS }, (_, i) => i + 1); // point ids from 1
  if (ORDER === "random") {
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j] as number, ids[i] as number];
    }
  }
  let next = 0;
  const latencies: number[] = [];
  const done: number[] = [];
  let failures = 0;
  const client = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (;;) {
      const id = ids[next++];
      if (id === undefined) break;
      const t0 = performance.now();
      const r = await call(agent, api, "PUT", `/idds/hpo/null/${requestId}/${id}/${lossOf(id)}`, token);
      if (r.status !== 200) {
        failures++;
        throw new Error(`PUT of point ${id}: ${r.status} ${r.body}`);
      }
      const t1 = performance.now();
      latencies.push(t1 - t0);
      done.push(t1);
    }
    agent.destroy();
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { latencies, done, start, end: performance.now(), failures };
}

/**
 * slowestWindow is the fewest losses per second over any window of the run (stepping 100 ms): 10 s
 * wide, or a third of the run when that is shorter, so that a short run still shows its dips.
 */
function slowestWindow(done: number[], start: number, end: number): { perSecond: number; windowS: number } {
  const span = Math.min(10_000, (end - start) / 3);
  const sorted = [...done].sort((a, b) => a - b);
  let worst = Number.POSITIVE_INFINITY;
  for (let t = start; t + span <= end; t += 100) {
    let n = 0;
    for (const x of sorted) if (x >= t && x < t + span) n++;
    worst = Math.min(worst, (n / span) * 1000);
  }
  return { perSecond: worst, windowS: Number((span / 1000).toFixed(1)) };
}

const token = await trainerToken();
log(`creating a request of ${POINTS} points`);
const bigId = await createRequest("big", POINTS);
log(`${CLIENTS} clients report ${POINTS} losses (${ORDER} order)`);
const run = await report(bigId, token);
const seconds = (run.end - run.start) / 1000;
const rate = POINTS / seconds;
const worst = slowestWindow(run.done, run.start, run.end);
const stored = await hpo.getHyperParameters("big");
const lost = stored.filter((p) => p.loss !== lossOf(Number(p.id))).length;
log(
  `reports: ${rate.toFixed(0)}/s, slowest ${worst.windowS} s ${worst.perSecond.toFixed(0)}/s, p99 ${percentile(run.latencies, 99).toFixed(0)} ms, lost ${lost}`,
);
const batches = await fetchBatchSizes(api);

log(`reading a request of ${GET_POINTS} points ${SAMPLES} times`);
const smallId = await createRequest("small", GET_POINTS);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const gets: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  const t0 = performance.now();
  const r = await call(agent, api, "GET", `/idds/hpo/null/${smallId}/null/null/null`, token);
  gets.push(performance.now() - t0);
  if (r.status !== 200 || (JSON.parse(r.body) as unknown[]).length !== GET_POINTS)
    throw new Error(`GET: ${r.status}`);
}
agent.destroy();

/** fetchBatchSizes reads the mean number of losses per merge patch from the server's metrics. */
async function fetchBatchSizes(a: ApiProcess): Promise<number> {
  const r = await call(new Agent(), a, "GET", "/metrics", "");
  const sum = Number(/hpo_idds_api_loss_batch_size_sum (\S+)/.exec(r.body)?.[1]);
  const count = Number(/hpo_idds_api_loss_batch_size_count (\S+)/.exec(r.body)?.[1]);
  return sum / count;
}

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  reports: {
    points: POINTS,
    clients: CLIENTS,
    order: ORDER,
    seconds: Number(seconds.toFixed(1)),
    lossesPerSecond: Math.round(rate),
    slowestWindowPerSecond: Math.round(worst.perSecond),
    slowestWindowSeconds: worst.windowS,
    putP50Ms: Math.round(percentile(run.latencies, 50)),
    putP99Ms: Math.round(percentile(run.latencies, 99)),
    lost,
    failures: run.failures,
    meanLossesPerPatch: Number(batches.toFixed(1)),
  },
  reads: {
    points: GET_POINTS,
    samples: SAMPLES,
    getP50Ms: Number(percentile(gets, 50).toFixed(1)),
    getP99Ms: Number(percentile(gets, 99).toFixed(1)),
  },
};
mkdirSync(join(repoRoot, "bench/results"), { recursive: true });
writeFileSync(join(repoRoot, "bench/results/idds-api.json"), `${JSON.stringify(result, null, 2)}\n`);
const r = result.reports;
writeSection(
  "idds-api",
  [
    `Measured ${result.date.slice(0, 16).replace("T", " ")} UTC on ${result.machine.cpus} cores (load ${result.machine.loadavg.map((l) => l.toFixed(1)).join(", ")}).`,
    "",
    "| what | target | measured |",
    "| --- | --- | --- |",
    `| ${r.clients} clients report into one request of ${r.points} points (${r.order} ids) | >= 500 losses/s | ${r.lossesPerSecond}/s overall (${r.seconds} s), ${r.slowestWindowPerSecond}/s in the slowest ${r.slowestWindowSeconds} s |`,
    `| PUT latency | p99 <= 1 s | p50 ${r.putP50Ms} ms, p99 ${r.putP99Ms} ms |`,
    `| losses lost | 0 | ${r.lost} (of ${r.points}, read back from the sets); ${r.failures} failed PUTs |`,
    `| losses per merge patch (coalescing) | | ${r.meanLossesPerPatch} on average |`,
    `| GET of ${result.reads.points} points (get_hyperparameters) | p50 <= 50 ms | p50 ${result.reads.getP50Ms} ms, p99 ${result.reads.getP99Ms} ms |`,
  ].join("\n"),
);
log(JSON.stringify(result));
await api.kill();
await op.kill("SIGTERM");
kube.close();
await cp.stop();
process.exit(lost === 0 && run.failures === 0 ? 0 : 1);
