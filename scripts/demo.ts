/**
 * demo is the project's main job (`make demo`). On a fresh clone it starts a local control plane
 * (or uses the cluster of KUBECONFIG when USE_EXISTING_CLUSTER=1), installs the API, runs the
 * operator, and applies two requests over a 4-dimensional test function (Hartmann-4, optimum moved
 * off the centre): one `bayesian`, one `random` as the baseline. A simulated training fleet takes
 * new points and reports losses after small random delays. It shows progress, serves the web
 * dashboard (its URL is printed: open it while the demo runs), prints the best point, writes a
 * convergence plot (SVG) of best-so-far for both and a screenshot of the bayesian request's
 * dashboard page (PNG, taken by headless Chromium), and stops everything it started.
 *
 *   node scripts/demo.ts [--budget=40] [--batch=5] [--out=demo-convergence.svg]
 *                        [--screenshot=demo-dashboard.png] [--dashboard-port=0]
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HPORequest, Point } from "../src/api/index.ts";
import { HpoClient } from "../src/client/index.ts";
import { type LocalDashboard, serveDashboard } from "../src/dashboard/serve.ts";
import { KubeClient, loadKubeConfig, paths } from "../src/runtime/client.ts";
import { chromiumPath, drawAll, launchChromium, openPage } from "../test/support/browser.ts";
import {
  buildControlPlane,
  type ControlPlane,
  installCrds,
  repoRoot,
  startControlPlane,
} from "../test/support/controlplane.ts";
import { type OperatorProcess, startOperatorProcess } from "../test/support/operator.ts";
import { convergenceSvg } from "./plot.ts";

const { values } = parseArgs({
  options: {
    budget: { type: "string", default: "40" },
    batch: { type: "string", default: "5" },
    out: { type: "string", default: "demo-convergence.svg" },
    screenshot: { type: "string", default: "demo-dashboard.png" },
    "dashboard-port": { type: "string", default: "0" },
  },
});
const BUDGET = Number(values.budget);
const BATCH = Number(values.batch);
const NS = "hpo-demo";
const API = "hpo.dev/v1alpha1";

/** hartmann4 is the 4-dimensional Hartmann function on [0, 1]^4 (minimum about -3.135). */
function hartmann4(x: number[]): number {
  const a = [1.0, 1.2, 3.0, 3.2];
  const A = [
    [10, 3, 17, 3.5],
    [0.05, 10, 17, 0.1],
    [3, 3.5, 1.7, 10],
    [17, 8, 0.05, 10],
  ];
  const P = [
    [0.1312, 0.1696, 0.5569, 0.0124],
    [0.2329, 0.4135, 0.8307, 0.3736],
    [0.2348, 0.1451, 0.3522, 0.2883],
    [0.4047, 0.8828, 0.8732, 0.5743],
  ];
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 4; j++) e += (A[i]?.[j] ?? 0) * ((x[j] ?? 0) - (P[i]?.[j] ?? 0)) ** 2;
    s += (a[i] ?? 0) * Math.exp(-e);
  }
  return (1.1 - s) / 0.839;
}

const loss = (p: Point) => hartmann4(["x1", "x2", "x3", "x4"].map((k) => Number(p.params[k])));

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * fleet is a simulated training fleet: each new point is "trained" for 50–300 ms, then its loss is
 * reported with the TypeScript client (which finds the set that holds the point).
 */
function fleet(hpo: HpoClient, name: string) {
  const started = new Set<string>();
  const history: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const fresh = await hpo.getHyperParameters({ name, namespace: NS }, { status: "new" }).catch(() => []);
      for (const p of fresh) {
        if (started.has(p.id)) continue;
        started.add(p.id);
        setTimeout(
          () => {
            const l = loss(p);
            history.push(l);
            void hpo.updateHyperParameter({ name, namespace: NS }, p.id, l).catch(() => {});
          },
          50 + Math.random() * 250,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

function bestSoFar(points: Point[]): number[] {
  let best = Number.POSITIVE_INFINITY;
  return points.filter((p) => p.state === "Evaluated").map((p) => (best = Math.min(best, p.loss ?? best)));
}

/** screenshot saves a picture of a dashboard page, taken by headless Chromium. */
async function screenshot(url: string, file: string): Promise<void> {
  if (!existsSync(chromiumPath)) {
    say(
      `no screenshot of the dashboard: Chromium is not installed at ${chromiumPath} (apt-get install chromium)`,
    );
    return;
  }
  const browser = await launchChromium();
  try {
    const { page, errors } = await openPage(browser, { width: 1280, height: 900 });
    await page.goto(url);
    await page.waitForSelector("body[data-complete]", { timeout: 60_000 });
    await page.waitForSelector(".bars li", { timeout: 10_000 });
    await drawAll(page);
    await page.screenshot({ path: file, fullPage: true });
    if (errors.length > 0) throw new Error(`the dashboard page had errors: ${errors.join("; ")}`);
    say(`wrote a screenshot of the bayesian request's dashboard page to ${file}`);
  } finally {
    await browser.close();
  }
}

async function run(): Promise<void> {
  let cp: ControlPlane | undefined;
  let op: OperatorProcess | undefined;
  let dashboard: LocalDashboard | undefined;
  let kubeconfig = process.env.KUBECONFIG ?? "";
  const kubectl = join(buildControlPlane(), "kubectl");
  const stop = async () => {
    await dashboard?.close();
    await op?.kill("SIGTERM");
    await cp?.stop();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    if (process.env.USE_EXISTING_CLUSTER !== "1") {
      say("starting a local control plane (etcd, kube-apiserver, kube-controller-manager) ...");
      cp = await startControlPlane({ log: say });
      kubeconfig = cp.kubeconfig;
    }
    installCrds(kubectl, kubeconfig);
    say("installed the CRDs (hporequests.hpo.dev, hyperparametersets.hpo.dev)");
    const client = new KubeClient(loadKubeConfig(kubeconfig));
    const hpo = new HpoClient({ kube: client, namespace: NS });
    await client
      .create("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } })
      .catch(() => {});
    op = await startOperatorProcess({ kubeconfig, args: [`--namespaces=${NS}`, "--log-level=warn"] });
    say("the operator is running");

    const space = Object.fromEntries(
      ["x1", "x2", "x3", "x4"].map((k) => [k, { type: "float", low: 0, high: 1 }]),
    );
    for (const method of ["bayesian", "random"]) {
      await client.create(paths.collection(API, "hporequests", NS), {
        apiVersion: API,
        kind: "HPORequest",
        metadata: { name: `demo-${method}` },
        spec: { method, searchSpace: space, maxPoints: BUDGET, pointsPerGeneration: BATCH, seed: 42 },
      });
      say(`applied HPORequest demo-${method}: ${BUDGET} points in batches of ${BATCH}`);
    }
    dashboard = await serveDashboard({
      kube: new KubeClient(loadKubeConfig(kubeconfig)),
      namespaces: [NS],
      port: Number(values["dashboard-port"]),
    });
    say(
      `the dashboard: ${dashboard.url} (open it while the demo runs; kubectl hpo dashboard serves the same)`,
    );
    const fleets = ["bayesian", "random"].map((m) => fleet(hpo, `demo-${m}`));
    const deadline = Date.now() + 5 * 60_000;
    const phaseOf = async (m: string) =>
      (await client.get<HPORequest>(paths.object(API, "hporequests", NS, `demo-${m}`))).status;
    for (;;) {
      const [b, r] = await Promise.all([phaseOf("bayesian"), phaseOf("random")]);
      const bar = (s: typeof b) => {
        const done = s?.points?.evaluated ?? 0;
        const n = Math.round((done / BUDGET) * 20);
        return `[${"#".repeat(n)}${".".repeat(20 - n)}] ${String(done).padStart(3)}/${BUDGET} best ${s?.best?.loss?.toFixed(4) ?? "-"}`;
      };
      say(`bayesian ${bar(b)}   random ${bar(r)}`);
      if (b?.phase === "Finished" && r?.phase === "Finished") break;
      if (b?.phase === "Failed" || r?.phase === "Failed")
        throw new Error(`a request failed: ${b?.message} / ${r?.message}`);
      if (Date.now() > deadline)
        throw new Error(`the demo did not finish within 5 minutes: ${b?.message} / ${r?.message}`);
      await new Promise((res) => setTimeout(res, 1000));
    }
    await Promise.all(fleets.map((f) => f.stop()));

    const sets = await Promise.all(
      ["bayesian", "random"].map((m) => hpo.getHyperParameters({ name: `demo-${m}`, namespace: NS })),
    );
    const best = (await phaseOf("bayesian"))?.best;
    say(
      `\nbest point (bayesian): ${JSON.stringify(best?.params)} with loss ${best?.loss?.toFixed(5)} (the optimum is about -3.135)`,
    );
    const svg = convergenceSvg("Hartmann-4: best loss so far", [
      { name: "bayesian (hpo-operator)", values: bestSoFar(sets[0] ?? []) },
      { name: "random search", values: bestSoFar(sets[1] ?? []) },
    ]);
    const out = join(repoRoot, values.out as string);
    writeFileSync(out, svg);
    say(`wrote the convergence plot to ${out}`);
    await screenshot(`${dashboard.url}#/r/${NS}/demo-bayesian`, join(repoRoot, values.screenshot as string));
    client.close();
  } finally {
    await stop();
  }
  say("demo finished; everything it started is stopped");
}

await run();
