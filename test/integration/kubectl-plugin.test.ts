/**
 * The kubectl plugin as a user runs it: `kubectl hpo ...` through the real kubectl, which finds
 * kubectl-hpo on PATH, against the real control plane and the real operator. Namespaces and
 * contexts come from the flags or the kubeconfig, as for kubectl itself.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import type { Point } from "../../src/api/index.ts";
import { repoRoot } from "../support/controlplane.ts";
import {
  applyRequest,
  getSet,
  points,
  startTrainer,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { deleteNamespace, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let op: OperatorProcess;
let shimDir = "";
/** A kubeconfig whose current context has namespace ns, plus a context "elsewhere" (namespace default). */
let nsKubeconfig = "";

beforeAll(async () => {
  ns = newNamespace("plugin");
  op = await startOperatorProcess({ kubeconfig: inject("kubeconfig"), args: [`--namespaces=${ns}`] });
  // What `npm install -g` would put on PATH: an executable named kubectl-hpo.
  shimDir = mkdtempSync(join(tmpdir(), "hpo-plugin-"));
  const shim = join(shimDir, "kubectl-hpo");
  writeFileSync(
    shim,
    `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, "src/cli/kubectl-hpo.ts")}" "$@"\n`,
  );
  chmodSync(shim, 0o755);
  const kc = parse(readFileSync(inject("kubeconfig"), "utf8")) as {
    contexts: { name: string; context: Record<string, string> }[];
    "current-context": string;
  };
  const current = kc.contexts.find((c) => c.name === kc["current-context"]);
  if (!current) throw new Error("the test kubeconfig has no current context");
  kc.contexts = [
    { name: "here", context: { ...current.context, namespace: ns } },
    { name: "elsewhere", context: { ...current.context, namespace: "default" } },
  ];
  kc["current-context"] = "here";
  nsKubeconfig = join(shimDir, "kubeconfig");
  writeFileSync(nsKubeconfig, stringify(kc));
});
afterAll(async () => {
  await op?.kill("SIGTERM");
  deleteNamespace(ns);
});

/** env is what the user's shell has: the plugin on PATH, kubectl's folder, and a kubeconfig. */
function env(kubeconfig: string): NodeJS.ProcessEnv {
  const path = [shimDir, dirname(inject("kubectl")), dirname(process.execPath), "/usr/bin", "/bin"].join(":");
  return { PATH: path, HOME: shimDir, KUBECONFIG: kubeconfig };
}

/** hpo runs `kubectl hpo ARGS` with KUBECONFIG set (default: the test's, whose namespace is "default"). */
function hpo(args: string[], kubeconfig = inject("kubeconfig")) {
  const r = spawnSync(inject("kubectl"), ["hpo", ...args], {
    encoding: "utf8",
    env: env(kubeconfig),
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const space = {
  lr: { type: "float", low: 1e-4, high: 0.1, log: true },
  optimizer: { type: "categorical", choices: ["adam", "sgd"] },
};

describe("kubectl finds the plugin", () => {
  it("lists it and shows its help", () => {
    const list = spawnSync(inject("kubectl"), ["plugin", "list"], {
      encoding: "utf8",
      env: env(nsKubeconfig),
    });
    expect(list.stdout).toContain(join(shimDir, "kubectl-hpo"));
    const help = hpo(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("kubectl hpo get REQUEST [--status new|evaluated|failed] [--limit N]");
  });
});

describe("get, report, fail", () => {
  it("get lists the points as a table, JSON or YAML, by status and limit, in the -n namespace", async () => {
    applyRequest(ns, "mnist", { method: "random", searchSpace: space, maxPoints: 6, pointsPerGeneration: 3 });
    const pts = await waitForPoints(ns, "mnist", 3);
    const table = hpo(["get", "mnist", "-n", ns]);
    expect(table).toMatchObject({ code: 0, stderr: "" });
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+LOSS\s+GENERATION\s+lr\s+optimizer$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual(
      pts.map((p) => [p.id, "New", "<none>", "1"]),
    );
    const json = hpo(["get", "mnist", `--namespace=${ns}`, "--status", "new", "--limit", "2", "-o", "json"]);
    expect(JSON.parse(json.stdout)).toEqual(pts.slice(0, 2));
    const yaml = hpo(["get", "-n", ns, "mnist", "-oyaml", "--limit=1"]);
    expect(parse(yaml.stdout)).toEqual(pts.slice(0, 1));
    const none = hpo(["get", "mnist", "-n", ns, "--status", "evaluated"]);
    expect(none).toEqual({
      code: 0,
      stdout: "",
      stderr: `No evaluated points of hporequest/mnist in namespace ${ns}.\n`,
    });
  });

  it("uses the current context's namespace, or the one of --context, as kubectl does", () => {
    expect(hpo(["get", "mnist", "-o", "json"], nsKubeconfig).code).toBe(0);
    const other = hpo(["get", "mnist", "--context", "elsewhere"], nsKubeconfig);
    expect(other).toMatchObject({
      code: 1,
      stderr: 'error: HPORequest "mnist" not found in namespace "default"\n',
    });
    const flag = hpo(["get", "mnist", "--kubeconfig", nsKubeconfig, "-o", "json"], "/nonexistent");
    expect(flag.code).toBe(0);
  });

  it("report records a loss with a merge patch; the same loss again changes nothing", async () => {
    const r = hpo(["report", "mnist", "1", "0.52"], nsKubeconfig);
    expect(r).toEqual({ code: 0, stdout: "hporequest/mnist: point 1 loss 0.52 reported\n", stderr: "" });
    expect(hpo(["report", "mnist", "2", "-1.5e-2"], nsKubeconfig).code).toBe(0); // negative losses are numbers
    expect(hpo(["report", "mnist", "1", "0.52"], nsKubeconfig).stdout).toBe(
      "hporequest/mnist: point 1 already has the loss 0.52 (unchanged)\n",
    );
    expect((await getSet(ns, "mnist-1"))?.spec.losses).toEqual({ "1": 0.52, "2": -0.015 });
  });

  it("fail records a reason of several words", async () => {
    const r = hpo(["fail", "mnist", "3", "OOMKilled", "at", "epoch", "4"], nsKubeconfig);
    expect(r).toEqual({
      code: 0,
      stdout: "hporequest/mnist: point 3 reported failed (OOMKilled at epoch 4)\n",
      stderr: "",
    });
    expect((await getSet(ns, "mnist-1"))?.spec.failed).toEqual({ "3": "OOMKilled at epoch 4" });
  });

  it("says what is wrong, with exit code 2 for the command line and 1 for the rest", async () => {
    const cases: [string[], number, string][] = [
      [["report", "mnist", "2", "abc"], 2, 'error: LOSS must be a number, such as 0.12 or 1e-3, not "abc"'],
      [["report", "mnist", "2", "inf"], 2, 'error: LOSS must be a finite number, not "inf"'],
      [["report", "mnist", "x7", "0.1"], 2, 'error: ID must be a point id (digits, such as 7), not "x7"'],
      [
        ["report", "mnist", "2"],
        2,
        "error: report needs REQUEST, ID and LOSS (kubectl hpo report mnist 7 0.12)",
      ],
      [
        ["get", "mnist", "--status", "done"],
        2,
        'error: unknown --status "done": use one of new, evaluated, failed',
      ],
      [
        ["get", "mnist", "-o", "wide"],
        2,
        'error: unknown output format "wide": use one of table, json, yaml',
      ],
      [["frobnicate"], 2, 'error: unknown command "frobnicate"'],
      [["get", "mnist", "--bogus"], 2, "error: unknown flag --bogus"],
      [
        ["report", "mnist", "99", "0.1"],
        1,
        'error: HPORequest "mnist" has no point 99: ids handed out so far run up to ',
      ],
      [["report", "mnist", "1", "0.6"], 1, 'error: point 1 of "mnist" already has the loss 0.52; the first'],
      [
        ["report", "mnist", "3", "0.6"],
        1,
        'error: point 3 of "mnist" was reported failed (OOMKilled at epoch 4)',
      ],
      [["get", "nope"], 1, `error: HPORequest "nope" not found in namespace "${ns}"`],
      [["get", "mnist", "--context", "nowhere"], 1, 'error: context "nowhere" is not in the kubeconfig'],
    ];
    const got = cases.map(([args, , msg]) => {
      const r = hpo(args, nsKubeconfig);
      const first = r.stderr.split("\n")[0] ?? "";
      return [args, r.code, first.startsWith(msg) ? msg : first];
    });
    expect(got).toEqual(cases.map(([args, code, msg]) => [args, code, msg]));
    // and the usage of the command
    expect(hpo(["report", "mnist", "2", "abc"], nsKubeconfig).stderr).toContain(
      "Usage:\n  kubectl hpo report REQUEST ID LOSS",
    );
    // Nothing of the refused reports reached the set.
    expect((await getSet(ns, "mnist-1"))?.spec.losses).toEqual({ "1": 0.52, "2": -0.015 });
  });

  it("says when the cluster cannot be reached", () => {
    const kc = parse(readFileSync(nsKubeconfig, "utf8")) as { clusters: { cluster: { server: string } }[] };
    for (const c of kc.clusters) c.cluster.server = "https://127.0.0.1:1";
    const down = join(shimDir, "down.kubeconfig");
    writeFileSync(down, stringify(kc));
    const r = hpo(["get", "mnist"], down);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot reach the Kubernetes API server: .*ECONNREFUSED/);
  });
});

describe("status and watch", () => {
  it("status shows the phase, counts, best point and a convergence sparkline", async () => {
    const fleet = startTrainer(ns, "mnist", (p: Point) => Math.abs(Math.log10(p.params.lr as number) + 2));
    await waitForPhase(ns, "mnist", "SubFinished");
    await fleet.stop();
    const r = hpo(["status", "mnist"], nsKubeconfig);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Request: +\S+\/mnist \(random, minimize\)$/m);
    expect(r.stdout).toMatch(/^Phase: +SubFinished$/m);
    expect(r.stdout).toMatch(/^Points: +6 \(maxPoints 6\): 5 evaluated, 1 failed, 0 waiting for a loss$/m);
    expect(r.stdout).toMatch(/^Best: +loss -0\.015 \(point 2\) lr=\S+ optimizer=(adam|sgd)$/m);
    expect(r.stdout).toMatch(/^Convergence: +[▁-█]{5} {2}best so far over 5 evaluated: 0\.52 → -0\.015$/m);
    const json = JSON.parse(hpo(["status", "mnist", "-o", "json"], nsKubeconfig).stdout);
    expect(json).toMatchObject({
      phase: "SubFinished",
      ended: true,
      convergence: [0.52, -0.015, -0.015, -0.015, -0.015],
    });
  });

  it("watch prints plain lines when stdout is not a terminal and exits 0 when the request finishes", async () => {
    applyRequest(ns, "watched", {
      method: "random",
      searchSpace: space,
      maxPoints: 6,
      pointsPerGeneration: 2,
    });
    await waitForPoints(ns, "watched", 2);
    const child = spawn(inject("kubectl"), ["hpo", "watch", "watched"], { env: env(nsKubeconfig) });
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((r) => child.on("exit", r));
    await waitFor("the first line of watch", async () => stdout.includes("\n"));
    const fleet = startTrainer(ns, "watched");
    const code = await exited;
    await fleet.stop();
    const lines = stdout.trimEnd().split("\n");
    expect(code).toBe(0);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d Waiting: 2 of 6 points, 0 evaluated, 0 failed, 2 waiting; best none yet$/,
    );
    expect(lines.at(-2)).toMatch(
      /^\d\d:\d\d:\d\d Finished: 6 of 6 points, 6 evaluated, 0 failed, 0 waiting; best /,
    );
    expect(lines.at(-1)).toMatch(/^hporequest\/watched: Finished: maxPoints \(6\) reached; /);
    expect(stdout).not.toContain("\r");
  });

  it("watch draws a progress bar on a terminal", async () => {
    // script(1) gives kubectl and the plugin a pseudo-terminal, as an interactive shell would.
    const r = spawnSync("script", ["-qec", `${inject("kubectl")} hpo watch watched`, "/dev/null"], {
      encoding: "utf8",
      env: { ...env(nsKubeconfig), COLUMNS: "100", TERM: "xterm" },
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("\r\x1b[2K██████████");
    expect(r.stdout).toMatch(/100% 6\/6 done · Finished · best \S+ \(point \d+\)/);
    expect(r.stdout).toMatch(/hporequest\/watched: Finished: maxPoints \(6\) reached/);
  });

  it("watch exits 1 when the request failed, with the operator's reason", async () => {
    applyRequest(ns, "broken", {
      method: "random",
      searchSpace: space,
      initialPoints: [{ params: { lr: 5, optimizer: "adam" } }],
    });
    await waitForPhase(ns, "broken", "Failed");
    const r = hpo(["watch", "broken"], nsKubeconfig);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d Failed: 0 points/);
    expect(r.stdout).toMatch(/^hporequest\/broken: Failed: invalid spec: .*lr/m);
    expect(await points(ns, "broken")).toEqual([]);
  });
});
