/**
 * iDDS's own example HPO requests, translated by `hpo-operator convert-idds` and applied with the real
 * kubectl to the real API server; the bayesian one run by the real operator to Finished while a
 * consumer built on the real stomp.py reads the broker messages exactly as PanDA JEDI does (and a
 * subscription with a selector on iDDS's headers matches them), on the real ActiveMQ. The finished
 * request, seen as an iDDS request row, decodes with iDDS's own json_loads.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from "vitest";
import { iddsRequestStatus } from "../../src/idds/status.ts";
import { type Broker, startBroker } from "../support/activemq.ts";
import { repoRoot } from "../support/controlplane.ts";
import { getRequest, points, startTrainer, waitFor, waitForPhase } from "../support/hpo.ts";
import { iddsVenvPython } from "../support/idds-venv.ts";
import { deleteNamespace, kubectl, newNamespace } from "../support/kubectl.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

const fixtures = join(repoRoot, "test/fixtures/idds");
const destination = "/topic/idds.hpo";
const selector = "vo = 'atlas' AND from_idds = 'true' AND msg_type = 'messagetype.hyperparameteroptfile'";

let broker: Broker;
let operator: OperatorProcess;
let ns = "";
let python = "";

beforeAll(async () => {
  python = iddsVenvPython();
  broker = await startBroker();
  ns = newNamespace("idds-conv");
  operator = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [`--namespaces=${ns}`],
    env: { HPO_BROKERS: broker.address, HPO_BROKER_DESTINATION: destination },
  });
}, 180_000);
afterAll(async () => {
  await operator?.kill("SIGTERM");
  if (ns) deleteNamespace(ns);
  await broker?.destroy();
});

/** convert runs `hpo-operator convert-idds` as a user does. */
function convert(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [join(repoRoot, "src/cli/main.ts"), "convert-idds", ...args], {
    encoding: "utf8",
    input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hpo-operator convert-idds on iDDS's example requests", () => {
  it.each(["bayesian", "nevergrad", "docker", "docker-toymc"])(
    "%s: the API server takes the YAML",
    (name) => {
      const c = convert(["-n", ns, "--name", `dry-${name}`, join(fixtures, `${name}.json`)]);
      expect(c.code, c.stderr).toBe(0);
      expect(c.stderr).toContain("note: lifetime (30) is dropped");
      const applied = kubectl(["apply", "--dry-run=server", "-f", "-"], c.stdout);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toBe(`hporequest.hpo.dev/dry-${name} created (server dry run)\n`);
    },
  );

  it("a field it cannot translate is named, and nothing is printed", () => {
    const c = convert(["-"], JSON.stringify({ request_metadata: { method: "sandbox" } }));
    expect(c.code).toBe(1);
    expect(c.stdout).toBe("");
    expect(c.stderr).toMatch(
      /^hpo-operator: <stdin>: request_metadata\.method: sandbox \(a tarball run on the iDDS host\)/,
    );
  });
});

/** Line is one message as the JEDI-like consumer handled it. */
interface Line {
  sub: string;
  headers: Record<string, string>;
  action: string;
  task: number;
  events: [string, unknown][];
  error?: string;
}

/** startJedi starts the consumer and waits until it has subscribed. */
async function startJedi(): Promise<{
  child: ChildProcess;
  lines: () => Line[];
  exited: Promise<number | null>;
}> {
  const child = spawn(
    python,
    [join(repoRoot, "test/fixtures/jedi_consumer.py"), String(broker.port), destination, selector],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  onTestFailed(() => {
    process.stderr.write(
      `--- jedi consumer:\n${out}\n${err}\n--- operator:\n${operator.logs().slice(-20_000)}\n`,
    );
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  await waitFor("the JEDI consumer to subscribe", async () => out.startsWith("ready\n"), 60_000);
  const lines = () =>
    out
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Line);
  return { child, lines, exited };
}

describe("iDDS's bayesian example, run by the operator, read as JEDI reads it", () => {
  it("every new point is one JEDI event of the task workload_id, then the task is finished", async () => {
    const jedi = await startJedi();
    const c = convert(["-n", ns, "--name", "bayes", join(fixtures, "bayesian.json")]);
    expect(c.code, c.stderr).toBe(0);
    const applied = kubectl(["apply", "--server-side", "-f", "-"], c.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    const fleet = startTrainer(ns, "bayes");
    const done = await waitForPhase(ns, "bayes", "Finished", 120_000);
    await fleet.stop();
    expect(await jedi.exited).toBe(0);

    const stored = await points(ns, "bayes");
    expect(stored).toHaveLength(20);
    const lines = jedi.lines();
    expect(lines.filter((l) => l.error)).toEqual([]);
    const byJedi = lines.filter((l) => l.sub === "jedi");
    // The task id JEDI reads is the iDDS request's workload_id.
    expect(new Set(byJedi.map((l) => l.task))).toEqual(new Set([20525134]));
    expect(byJedi.map((l) => l.action).at(-1)).toBe("finish");
    expect(byJedi.filter((l) => l.action === "finish")).toHaveLength(1);
    // One event per point that needs a training: all but initial point 1, given with its loss.
    const events = byJedi.flatMap((l) => l.events);
    expect(events.map(([id]) => id).sort((a, b) => Number(a) - Number(b))).toEqual(
      stored.filter((p) => p.id !== "1").map((p) => p.id),
    );
    expect(events.every(([, model]) => model === null)).toBe(true);
    for (const l of byJedi) {
      expect(l.headers).toMatchObject({
        persistent: "true",
        ttl: "43200000",
        vo: "atlas",
        from_idds: "true",
        msg_type:
          l.action === "finish"
            ? "messagetype.hyperparameteroptcollection"
            : "messagetype.hyperparameteroptfile",
        workload_id: "20525134",
      });
    }
    // A selector on iDDS's headers matches every file message and nothing else.
    const selected = lines.filter((l) => l.sub === "selector");
    expect(selected.map((l) => l.headers["message-id"]).sort()).toEqual(
      byJedi
        .filter((l) => l.action === "insert_events")
        .map((l) => l.headers["message-id"])
        .sort(),
    );
    expect(done.status?.points).toEqual({ total: 20, evaluated: 20, unevaluated: 0, failed: 0 });

    // The finished request as an iDDS request row, decoded by iDDS's own json_loads.
    const row = iddsRequestStatus((await getRequest(ns, "bayes")) ?? done);
    const decoded = spawnSync(
      python,
      [
        "-c",
        "import sys\nfrom idds.common.utils import json_loads\nfrom idds.common.constants import RequestStatus\n" +
          "r = json_loads(sys.stdin.read())\nprint(r['status'] is RequestStatus.Finished, r['workload_id'], r['name'])",
      ],
      { input: JSON.stringify(row), encoding: "utf8" },
    );
    expect(decoded.stdout.trim(), decoded.stderr).toBe(`True 20525134 ${ns}/bayes`);
  }, 240_000);
});
