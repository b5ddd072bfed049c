/**
 * The operator's own work per event, at 1,000 and at 100,000 points, in one process (no API
 * server): what one report costs the reconciler (the cache change, the request's view, decide()),
 * what a generation costs to tell the method workers (the history message when one set changed),
 * and what the announcer reads when nothing is left to announce. The targets are ratios measured
 * in the same run: the work per event must not grow with the number of points.
 *
 *   npm run bench:core [-- --iterations=2000]
 *
 * Writes bench/results/core.json and the "core" section of docs/performance.md.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type HPORequest, type HyperParameterSet, initialOf, pointsOfSets } from "../src/api/index.ts";
import { type CoreSettings, decide } from "../src/controller/core.ts";
import { SetAggregates } from "../src/controller/setsview.ts";
import { pendingSteps, unconfirmedSets } from "../src/messaging/plan.ts";
import { HistorySync } from "../src/workers/history-sync.ts";
import { repoRoot } from "../test/support/controlplane.ts";
import { percentile, writeSection } from "./report.ts";

const { values } = parseArgs({ options: { iterations: { type: "string", default: "2000" } } });
const ITERATIONS = Number(values.iterations);
const PER_SET = 8;
const PARAMS = 20;
const settings: CoreSettings = {
  policy: { retries: 3, retryBaseMs: 5_000, retryMaxMs: 300_000 },
  setBytes: 8192,
  statusIntervalMs: 1_000,
  paramsBytesWithoutSpace: 1_024,
};

/** Fixture is a request of n points (every one evaluated, 1,000 per generation) and its sets. */
interface Fixture {
  req: HPORequest;
  sets: HyperParameterSet[];
  aggregates: SetAggregates;
}

function fixture(n: number): Fixture {
  const uid = `uid-${n}`;
  const searchSpace = Object.fromEntries(
    Array.from({ length: PARAMS }, (_, i) => [`p${i}`, { type: "float", low: 0, high: 1 }]),
  );
  const generations = Math.ceil(n / 1000);
  const req = {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name: "r", namespace: "bench", uid, generation: 1 },
    spec: { method: "random", searchSpace, pointsPerGeneration: 1000, maxPoints: n + 1000 },
    status: {
      phase: "Running",
      pointsPerSet: PER_SET,
      sets: Math.ceil(n / PER_SET),
      generations,
      lastGeneration: {
        number: generations,
        firstId: n - 999,
        requested: 1000,
        added: 1000,
        state: "Succeeded",
        attempts: 1,
      },
      notification: { enabled: true, confirmedGeneration: generations },
    },
  } as unknown as HPORequest;
  const aggregates = new SetAggregates();
  const sets: HyperParameterSet[] = [];
  for (let k = 1; k <= Math.ceil(n / PER_SET); k++) {
    const points = [];
    const losses: Record<string, number> = {};
    for (let id = (k - 1) * PER_SET + 1; id <= Math.min(n, k * PER_SET); id++) {
      const params = Object.fromEntries(Array.from({ length: PARAMS }, (_, i) => [`p${i}`, Math.random()]));
      points.push({ id: String(id), params, generation: Math.ceil(id / 1000) });
      losses[String(id)] = Math.random();
    }
    const set: HyperParameterSet = {
      metadata: {
        name: `r-${k}`,
        namespace: "bench",
        ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: "r", uid }],
      },
      spec: { request: "r", firstId: (k - 1) * PER_SET + 1, lastId: k * PER_SET, losses },
      status: { total: points.length, points },
    };
    sets.push(set);
    aggregates.change(undefined, set);
  }
  return { req, sets, aggregates };
}

/** changeOne replaces set i's copy with a new one (as a report does) and tells the aggregates. */
function changeOne(f: Fixture, i: number): void {
  const k = i % f.sets.length;
  const before = f.sets[k] as HyperParameterSet;
  const after = { ...before, spec: { ...before.spec, losses: { ...before.spec.losses } } };
  f.sets[k] = after;
  f.aggregates.change(before, after);
}

/** timeEach runs step ITERATIONS times after a warm-up and returns each run's milliseconds. */
function timeEach(step: (i: number) => void): number[] {
  for (let i = 0; i < 200; i++) step(i);
  const out: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    step(i);
    out.push(performance.now() - t0);
  }
  return out;
}

const stats = (xs: number[]) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) });

function measure(n: number) {
  const f = fixture(n);
  const report = timeEach((i) => {
    changeOne(f, i);
    decide(
      { request: f.req, sets: f.aggregates.view(f.req), recordsIntent: false, now: new Date() },
      settings,
    );
  });
  const sync = new HistorySync();
  const history = () => ({ sets: f.aggregates.view(f.req).all(), initial: initialOf(f.req) });
  sync.message(f.req.metadata?.uid ?? "", 0, history());
  const generation = timeEach((i) => {
    changeOne(f, i);
    sync.message(f.req.metadata?.uid ?? "", 0, history());
  });
  const announcer = timeEach(() => {
    const mark = f.req.status?.notification?.confirmedGeneration ?? -1;
    const sets = unconfirmedSets(f.aggregates.view(f.req), PER_SET, mark);
    pendingSteps(f.req, pointsOfSets(sets, initialOf(f.req)));
  });
  return {
    points: n,
    sets: f.sets.length,
    report: stats(report),
    generation: stats(generation),
    announcer: stats(announcer),
  };
}

const small = measure(1000);
const big = measure(100_000);
const ratio = (k: "report" | "generation" | "announcer") => big[k].p50 / small[k].p50;
const result = {
  date: new Date().toISOString(),
  load: loadavg().map((x) => Number(x.toFixed(1))),
  iterations: ITERATIONS,
  small,
  big,
  ratios: { report: ratio("report"), generation: ratio("generation"), announcer: ratio("announcer") },
};
writeFileSync(join(repoRoot, "bench/results/core.json"), `${JSON.stringify(result, null, 2)}\n`);
const ms = (x: number) => `${x.toFixed(3)} ms`;
const row = (what: string, k: "report" | "generation" | "announcer", target: string, met: boolean) =>
  `| ${what} | ${ms(small[k].p50)}; ${ms(small[k].p99)} | ${ms(big[k].p50)}; ${ms(big[k].p99)} | ${ratio(k).toFixed(2)} | ${target} | ${met ? "yes" : "**no**"} |`;
writeSection(
  "core",
  [
    `Measured ${result.date.slice(0, 10)} with \`npm run bench:core\` (${ITERATIONS} events each, load ${result.load.join(" ")}; JSON in bench/results/core.json).`,
    "",
    "| work per event | 1,000 points: p50; p99 | 100,000 points: p50; p99 | p50 ratio | target | met |",
    "|---|---|---|---|---|---|",
    row("a report: cache change, the request's view, decide()", "report", "ratio <= 2", ratio("report") <= 2),
    row(
      "a generation: the workers' history message (one set changed)",
      "generation",
      "<= 5 ms at 100,000 (one identity check per set)",
      big.generation.p50 <= 5,
    ),
    row("the announcer, nothing left to announce", "announcer", "ratio <= 2", ratio("announcer") <= 2),
  ].join("\n"),
);
console.log(JSON.stringify(result, null, 2));
