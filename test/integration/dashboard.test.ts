/**
 * The dashboard in the real headless Chromium (Debian's package, through playwright-core), served
 * by `kubectl hpo dashboard` run through the real kubectl, against the real control plane and the
 * real operator: every page loads without a console error, a loss patched with kubectl shows on the
 * open page (through the server-sent events that follow the watch) within 1 s, the exports hold the
 * points, keyboard users reach everything, and the in-cluster authorise hook hides what it refuses.
 * Screenshots are kept in test-results/dashboard/.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { HyperParameterSet } from "../../src/api/index.ts";
import { createDashboardHandler, type DashboardHandler } from "../../src/dashboard/handler.ts";
import { DashboardReader } from "../../src/dashboard/reader.ts";
import { KubeClient, loadKubeConfig, paths } from "../../src/runtime/client.ts";
import { drawAll, launchChromium, openPage, type WatchedPage } from "../support/browser.ts";
import { repoRoot } from "../support/controlplane.ts";
import { writeFinishedRequest } from "../support/finished-request.ts";
import { applyRequest, getRequest, points, reportLosses, waitFor, waitForPoints } from "../support/hpo.ts";
import { type ApiProcess, httpsCall, startApiProcess } from "../support/idds-api.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const shots = join(repoRoot, "test-results", "dashboard");
let ns = "";
let op: OperatorProcess;
let dashboard: ChildProcess;
let url = "";
let browser: Browser;
const name = "dash-tpe";

/** startDashboard runs `kubectl hpo dashboard --port 0` through kubectl and reads the URL it prints. */
async function startDashboard(): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), "hpo-dashboard-"));
  const shim = join(dir, "kubectl-hpo");
  writeFileSync(
    shim,
    `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, "src/cli/kubectl-hpo.ts")}" "$@"\n`,
  );
  chmodSync(shim, 0o755);
  const path = [dir, dirname(inject("kubectl")), dirname(process.execPath), "/usr/bin", "/bin"].join(":");
  const child = spawn(inject("kubectl"), ["hpo", "dashboard", "--port", "0"], {
    env: { PATH: path, HOME: dir, KUBECONFIG: inject("kubeconfig") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const printed = await waitFor(
    "the dashboard's URL",
    async () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0],
    30_000,
    async () => out,
  );
  return { child, url: printed };
}

/** open opens a page of the dashboard and waits for what says it is drawn. */
async function open(
  hash: string,
  ready: string,
  colorScheme: "light" | "dark" = "light",
): Promise<WatchedPage> {
  const w = await openPage(browser, { colorScheme, width: 1280, height: 900 });
  await w.page.goto(`${url}${hash}`);
  await w.page.waitForSelector(ready, { timeout: 30_000 });
  return w;
}

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  ns = newNamespace("dash");
  op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] });
  applyRequest(ns, name, {
    method: "tpe",
    searchSpace: {
      lr: { type: "float", low: 1e-4, high: 0.1, log: true },
      layers: { type: "int", low: 1, high: 6 },
      optimizer: { type: "categorical", choices: ["adam", "sgd"] },
    },
    maxPoints: 16,
    pointsPerGeneration: 8,
    minUnevaluatedPoints: 0,
    seed: 3,
  });
  const first = await waitForPoints(ns, name, 8);
  // Half of them evaluated, one failed: every state shows.
  await reportLosses(
    ns,
    name,
    Object.fromEntries(
      first
        .slice(0, 4)
        .map((p) => [p.id, Number(p.params.layers) * 0.1 + Math.abs(Math.log10(Number(p.params.lr)) + 2)]),
    ),
  );
  const failed = first[4];
  if (failed)
    kubectlOk([
      "patch",
      "-n",
      ns,
      "hps",
      failed.set,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { failed: { [failed.id]: "OOMKilled" } } }),
    ]);
  ({ child: dashboard, url } = await startDashboard());
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  dashboard?.kill("SIGINT");
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

describe("kubectl hpo dashboard in headless Chromium", () => {
  it("lists the requests with phase, method, progress, best loss and age; sorts and filters", async () => {
    const { page, errors } = await open("#/", `tr[data-request="${ns}/${name}"]`);
    const row = page.locator(`tr[data-request="${ns}/${name}"]`);
    await expect.poll(() => row.textContent()).toMatch(/tpe/);
    expect(await row.locator("progress").getAttribute("max")).toBe("16");
    await page.screenshot({ path: join(shots, "requests.png"), fullPage: true });
    // The filter hides what does not match, by text and by phase.
    await page.fill("#filter", "no-such-request");
    expect(await page.locator("tbody tr").count()).toBe(0);
    await page.fill("#filter", name);
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.selectOption("#phase-filter", "Finished");
    expect(await page.locator("tbody tr").count()).toBe(0);
    await page.selectOption("#phase-filter", "all");
    // Sorting is a button in each header, its order announced.
    await page.getByRole("button", { name: "Name", exact: true }).click();
    const header = page.locator("th:has(button:text-is('Name'))");
    expect(await header.getAttribute("aria-sort")).toBe("ascending");
    // The focus stays on the button through the re-rendering, so Enter sorts the other way.
    await page.keyboard.press("Enter");
    expect(await header.getAttribute("aria-sort")).toBe("descending");
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("draws every section of a request's page, light and dark", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const { page, errors } = await open(`#/r/${ns}/${name}`, "body[data-complete]", scheme);
      for (const id of [
        "history",
        "parallel",
        "slices",
        "importance",
        "points",
        "generations",
        "conditions",
        "events",
      ])
        expect(await page.locator(`section#${id}`).count(), id).toBe(1);
      // Slice plots draw when they come into view.
      await page.locator("#slices canvas").last().scrollIntoViewIfNeeded();
      await page.locator("#slices canvas[data-drawn]").nth(2).waitFor();
      const drawn = await page
        .locator("canvas")
        .evaluateAll((cs) => cs.map((c) => Number(c.getAttribute("data-drawn"))));
      expect(drawn).toHaveLength(2 + 3); // history, parallel coordinates, a slice per parameter
      expect(drawn.every((n) => n >= 4)).toBe(true);
      expect(await page.locator("table.points tbody tr[data-id]").count()).toBe(8);
      await expect.poll(() => page.locator(".bars li").count()).toBe(3);
      await expect.poll(() => page.locator("#events td").count()).toBeGreaterThan(0);
      expect(await page.locator("#conditions").textContent()).toMatch(/SpecValid/);
      expect(await page.locator("#generations").textContent()).toMatch(/1–8/);
      // Filter by state: the failed point alone, with its reason.
      await page.selectOption("#state-filter", "failed");
      expect(await page.locator("table.points tbody tr[data-id]").count()).toBe(1);
      expect(await page.locator("table.points tbody tr[data-id]").textContent()).toMatch(/OOMKilled/);
      await page.selectOption("#state-filter", "all");
      await drawAll(page);
      await page.screenshot({ path: join(shots, `request-${scheme}.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });

  it("shows a loss patched with kubectl on the open page within 1 s", async () => {
    const { page, errors } = await open(`#/r/${ns}/${name}`, "body[data-complete]");
    const fresh = (await points(ns, name)).find((p) => p.state === "New");
    if (!fresh) throw new Error("no new point left to report");
    const cell = `table.points tr[data-id="${fresh.id}"] td.loss`;
    expect(await page.locator(cell).textContent()).toBe("–");
    const started = performance.now();
    await reportLosses(ns, name, { [fresh.id]: 0.123456 });
    const patched = performance.now();
    // The deadline of the issue: the loss is on the page within 1 s of the API server taking it.
    // (A locator, not a predicate string: the page's Content-Security-Policy forbids eval.)
    await page.locator(`${cell}:text-is("0.12346")`).waitFor({ timeout: 1000 });
    const shown = performance.now();
    const delay = {
      fromPatchAcceptedMs: Math.round(shown - patched),
      fromReportStartMs: Math.round(shown - started),
    };
    writeFileSync(join(shots, "live-update.json"), `${JSON.stringify(delay, null, 2)}\n`);
    process.stderr.write(`dashboard live update: ${JSON.stringify(delay)}\n`);
    await page.screenshot({ path: join(shots, "request-live.png") });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("exports the points as CSV and JSON, filtered by state", async () => {
    const base = `${url}api/requests/${ns}/${name}`;
    const all = await points(ns, name);
    const csv = await (await fetch(`${base}/points.csv`)).text();
    const lines = csv.trim().split("\n");
    expect(lines[0]).toBe("id,generation,state,loss,reason,layers,lr,optimizer");
    expect(lines).toHaveLength(all.length + 1);
    expect(lines.some((l) => /,failed,,OOMKilled,/.test(l))).toBe(true);
    const evaluated = (await (await fetch(`${base}/points.json?state=evaluated`)).json()) as {
      id: string;
      loss: number;
    }[];
    expect(evaluated.map((p) => p.id).sort()).toEqual(
      all
        .filter((p) => p.state === "Evaluated")
        .map((p) => p.id)
        .sort(),
    );
    const bad = await fetch(`${base}/points.csv?state=done`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /unknown state "done": use new, evaluated, failed or all/,
    );
  });

  it("is usable from the keyboard", async () => {
    const { page, errors } = await open("#/", `tr[data-request="${ns}/${name}"]`);
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    // Tab reaches the filter, typing narrows the list, Tab reaches the request's link, Enter opens it.
    const focused = (sel: string) =>
      page.locator(sel).evaluate((el) => el === el.ownerDocument.activeElement);
    for (let i = 0; i < 10 && !(await focused("#filter")); i++) await page.keyboard.press("Tab");
    await page.keyboard.type(name);
    const link = `a[data-key="request:${ns}/${name}"]`;
    for (let i = 0; i < 20 && !(await focused(link)); i++) await page.keyboard.press("Tab");
    expect(await focused(link)).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForSelector("body[data-complete]");
    // The section links move the focus to their section.
    await page.getByRole("link", { name: "Points", exact: true }).focus();
    await page.keyboard.press("Enter");
    expect(await page.evaluate("document.activeElement?.id")).toBe("points");
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("says what is wrong for a request that does not exist", async () => {
    const { page } = await open(`#/r/${ns}/nope`, "[role=alert]");
    expect(await page.locator("[role=alert]").textContent()).toMatch(
      `HPORequest "nope" not found in namespace "${ns}"`,
    );
    await page.context().close();
  });
});

describe("a request of 4,000 points the dashboard has not shown yet", () => {
  const bigNs = `dash-big-${randomBytes(3).toString("hex")}`;
  let kube: KubeClient;
  beforeAll(async () => {
    kube = new KubeClient(loadKubeConfig(inject("kubeconfig")), { qps: 0 });
    // Written as the operator lays it out (500 sets of 8 points of 20 parameters), where no operator follows.
    await writeFinishedRequest(kube, { namespace: bigNs, name: "big", points: 4000, dims: 20 });
  }, 120_000);
  afterAll(() => {
    kube?.close();
    deleteNamespace(bigNs);
  });

  it("draws the points the API server has listed, says how far it is, and ends with every one", async () => {
    const { page, errors } = await open(`#/r/${bigNs}/big`, "body[data-painted]");
    const first = Number(await page.evaluate("document.body.dataset.painted"));
    expect(first).toBeGreaterThan(0);
    await page.waitForSelector("body[data-complete]", { timeout: 30_000 });
    expect(Number(await page.evaluate("document.body.dataset.complete"))).toBe(4000);
    expect(await page.locator(".loading").isHidden()).toBe(true);
    expect(await page.locator("#points").textContent()).toMatch(/4000 of 4000 points/);
    // The table holds the points in id order, with the losses the sets hold.
    const set = await kube.get<HyperParameterSet>(
      paths.object("hpo.dev/v1alpha1", "hyperparametersets", bigNs, "big-1"),
    );
    const loss1 = set.spec.losses?.["1"] as number;
    expect(await page.locator("table.points tbody tr[data-id]").first().getAttribute("data-id")).toBe("1");
    expect(Number(await page.locator("table.points tr[data-id='1'] td.loss").textContent())).toBeCloseTo(
      loss1,
      3,
    );
    await expect.poll(() => page.locator(".bars li").count()).toBe(20);
    await page.screenshot({ path: join(shots, "request-4000.png") });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe("the dashboard handler with an authorise hook (the in-cluster case)", () => {
  let server: Server;
  let handler: DashboardHandler;
  let base = "";
  const asked: string[] = [];

  beforeAll(async () => {
    const reader = new DashboardReader(new KubeClient(loadKubeConfig(inject("kubeconfig"))));
    handler = createDashboardHandler({
      reader,
      basePath: "/dashboard",
      authorize: async (req, verb, resource, namespace) => {
        asked.push(`${req.headers["x-user"]} ${verb} ${resource} ${namespace}`);
        return req.headers["x-user"] === "alice" && (resource !== "events" || verb !== "list");
      },
    });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await handler?.close();
  });

  it("shows a user only what the hook allows, under its prefix", async () => {
    const as = (user: string) => ({ headers: { "x-user": user } });
    const alice = (await (await fetch(`${base}/api/requests`, as("alice"))).json()) as {
      rows: { name: string }[];
    };
    expect(alice.rows.map((r) => r.name)).toContain(name);
    const bob = (await (await fetch(`${base}/api/requests`, as("bob"))).json()) as { rows: unknown[] };
    expect(bob.rows).toEqual([]);
    const refused = await fetch(`${base}/api/requests/${ns}/${name}`, as("bob"));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      `you may not read HPORequests and HyperParameterSets in namespace ${ns}`,
    );
    const detail = (await (await fetch(`${base}/api/requests/${ns}/${name}`, as("alice"))).json()) as {
      hidden: string[];
      events: unknown[];
    };
    expect(detail.hidden).toContain("events");
    expect(detail.events).toEqual([]);
    expect(asked).toContain(`alice get hporequests ${ns}`);
    expect((await fetch(`${base}/`)).headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect((await fetch(`${base}`, { redirect: "manual" })).headers.get("location")).toBe("/dashboard/");
  });
});

describe("the dashboard in hpo-operator api, behind a login that adds the user's token", () => {
  let api: ApiProcess;
  let viewer = "";
  let stranger = "";

  beforeAll(async () => {
    // A viewer may read requests and sets in ns (not events); a stranger nothing.
    kubectlOk(["create", "serviceaccount", "-n", ns, "viewer"]);
    kubectlOk(["create", "serviceaccount", "-n", ns, "stranger"]);
    kubectlOk([
      "create",
      "role",
      "-n",
      ns,
      "hpo-viewer",
      "--verb=get,list,watch",
      "--resource=hporequests.hpo.dev,hyperparametersets.hpo.dev",
    ]);
    kubectlOk([
      "create",
      "rolebinding",
      "-n",
      ns,
      "hpo-viewer",
      "--role=hpo-viewer",
      `--serviceaccount=${ns}:viewer`,
    ]);
    const token = (sa: string) => kubectlOk(["create", "token", "-n", ns, sa, "--duration=1h"]).trim();
    viewer = token("viewer");
    stranger = token("stranger");
    api = await startApiProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] });
  }, 120_000);
  afterAll(async () => {
    await api?.kill("SIGTERM");
  });

  it("serves the pages under /dashboard to a user with the right, hiding what they may not read", async () => {
    const base = `https://127.0.0.1:${api.port}/dashboard/`;
    const w = await openPage(browser, {
      headers: { Authorization: `Bearer ${viewer}` },
      ignoreHTTPSErrors: true,
    });
    await w.page.goto(base);
    await w.page.waitForSelector(`tr[data-request="${ns}/${name}"]`);
    await w.page.goto(`${base}#/r/${ns}/${name}`);
    await w.page.waitForSelector("body[data-complete]");
    expect(await w.page.locator("#events").textContent()).toMatch(
      /Events are hidden: you may not list events/,
    );
    await w.page.screenshot({ path: join(shots, "api-request.png") });
    expect(w.errors).toEqual([]);
    await w.page.context().close();
  });

  it("refuses a user without the right (403) and a browser without a token (401), saying why", async () => {
    const path = `/dashboard/api/requests/${ns}/${name}`;
    const forbidden = await httpsCall(api, "GET", path, { Authorization: `Bearer ${stranger}` });
    expect(forbidden.status).toBe(403);
    expect(JSON.parse(forbidden.body).error).toBe(
      `you may not read HPORequests and HyperParameterSets in namespace ${ns}`,
    );
    const list = await httpsCall(api, "GET", "/dashboard/api/requests", {
      Authorization: `Bearer ${stranger}`,
    });
    expect(JSON.parse(list.body).rows).toEqual([]);
    const anonymous = await httpsCall(api, "GET", path);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body).error).toMatch(/no token: send a Kubernetes token/);
  });

  it("bounds the points it follows for open pages (--dashboard-max-points): 503 past it, room once a page goes", async () => {
    // A second request of 8 points beside the first, on a server that follows 4 more than the first.
    applyRequest(ns, "dash-second", {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 1 } },
      maxPoints: 8,
      pointsPerGeneration: 8,
      seed: 5,
    });
    await waitForPoints(ns, "dash-second", 8);
    await waitFor(
      "the status to count the 8 points",
      async () => ((await getRequest(ns, "dash-second"))?.status?.points?.total ?? 0) >= 8,
    );
    const first = (await getRequest(ns, name))?.status?.points?.total ?? 0;
    expect(first).toBeGreaterThan(0);
    const limit = first + 4;
    const bounded = await startApiProcess({
      kubeconfig: inject("kubeconfig"),
      args: [`--namespaces=${ns}`, `--dashboard-max-points=${limit}`],
    });
    try {
      const auth = { Authorization: `Bearer ${viewer}` };
      const w = await openPage(browser, { headers: auth, ignoreHTTPSErrors: true });
      await w.page.goto(`https://127.0.0.1:${bounded.port}/dashboard/#/r/${ns}/${name}`);
      await w.page.waitForSelector("body[data-complete]");
      const path = `/dashboard/api/requests/${ns}/dash-second`;
      const refused = await httpsCall(bounded, "GET", path, auth);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body).error).toBe(
        `the dashboard follows ${first} points of requests open in other pages, and "dash-second" has 8: over its limit of ${limit} (hpo-operator api --dashboard-max-points). Try again when other pages close, or ask the cluster's admin to raise the limit (and the API server's memory with it)`,
      );
      expect(w.errors).toEqual([]);
      // The page goes: its request's view is no longer in use, and the next page ends it to fit.
      await w.page.context().close();
      const admitted = await waitFor("the second request's page", async () => {
        const r = await httpsCall(bounded, "GET", path, auth);
        return r.status === 503 ? undefined : r;
      });
      expect(admitted.status).toBe(200);
      expect(JSON.parse(admitted.body).row.name).toBe("dash-second");
    } finally {
      await bounded.kill("SIGTERM");
    }
  });
});
