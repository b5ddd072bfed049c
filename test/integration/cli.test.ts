/**
 * Every command of `hpo-operator` and `kubectl hpo`, run as a process the way a new user tries it:
 * --help answers with the usage (exit code 0), an unknown flag and a missing flag or argument say
 * what is wrong with the usage (exit code 2), and no output ever holds a stack frame. Also the
 * errors a user meets first: a kubeconfig that is not there, and a second operator on the same
 * machine (the port in use names the flag to change).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "../support/controlplane.ts";

const hpoOperator = join(repoRoot, "src/cli/main.ts");
const kubectlHpo = join(repoRoot, "src/cli/kubectl-hpo.ts");
const home = mkdtempSync(join(tmpdir(), "hpo-cli-"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** run spawns a program (node SCRIPT ARGS) with a clean environment: no KUBECONFIG, an empty HOME. */
function run(script: string, args: string[], env: Record<string, string> = {}, input?: string): Run {
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
    input,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const stackFrame = /^ {4}at /m;

/** Case is one command: how to call it, and a command line that lacks something it needs. */
interface Case {
  program: "hpo-operator" | "kubectl hpo";
  command: string[];
  /** usage is text its --help must show. */
  usage: string;
  /** missing: a command line without a required flag or argument, and what the error says. */
  missing?: [string[], string];
}

const cases: Case[] = [
  { program: "hpo-operator", command: [], usage: "usage: hpo-operator <command>" },
  {
    program: "hpo-operator",
    command: ["run"],
    usage: "--health-probe-bind-address",
    missing: [["--concurrency"], "flag --concurrency needs a value"],
  },
  {
    program: "hpo-operator",
    command: ["api"],
    usage: "usage: hpo-operator api [flags]",
    missing: [[], "give --tls-cert-file and --tls-private-key-file"],
  },
  {
    program: "hpo-operator",
    command: ["generate"],
    usage: "usage: hpo-operator generate --method M",
    missing: [["--method=tpe", "--input=i", "--output=o"], "missing required flag --num_points"],
  },
  {
    program: "hpo-operator",
    command: ["stage-in"],
    usage: "usage: hpo-operator stage-in --from=DIR --to=DIR",
    missing: [["--from=/x"], "missing required flag --to"],
  },
  {
    program: "hpo-operator",
    command: ["stage-out"],
    usage: "usage: hpo-operator stage-out --file=PATH",
    missing: [[], "missing required flag --file"],
  },
  {
    program: "hpo-operator",
    command: ["validate"],
    usage: "usage: hpo-operator validate [-q] FILE...",
    missing: [[], "missing argument FILE"],
  },
  {
    program: "hpo-operator",
    command: ["convert-idds"],
    usage: "usage: hpo-operator convert-idds [--name NAME]",
    missing: [["-n", "team-a"], "missing argument FILE"],
  },
  { program: "kubectl hpo", command: [], usage: "kubectl hpo: the points of HPORequests" },
  {
    program: "kubectl hpo",
    command: ["get"],
    usage: "kubectl hpo get REQUEST",
    missing: [[], "get needs REQUEST"],
  },
  {
    program: "kubectl hpo",
    command: ["report"],
    usage: "kubectl hpo report REQUEST ID LOSS",
    missing: [["mnist", "7"], "report needs REQUEST, ID and LOSS"],
  },
  {
    program: "kubectl hpo",
    command: ["fail"],
    usage: "kubectl hpo fail REQUEST ID REASON",
    missing: [["mnist"], "fail needs REQUEST, ID and REASON"],
  },
  {
    program: "kubectl hpo",
    command: ["status"],
    usage: "kubectl hpo status REQUEST",
    missing: [[], "status needs REQUEST"],
  },
  {
    program: "kubectl hpo",
    command: ["watch"],
    usage: "kubectl hpo watch REQUEST",
    missing: [[], "watch needs REQUEST"],
  },
  {
    program: "kubectl hpo",
    command: ["validate"],
    usage: "kubectl hpo validate [-q] FILE...",
    missing: [[], "validate needs FILE"],
  },
];

const scriptOf = (c: Case) => (c.program === "hpo-operator" ? hpoOperator : kubectlHpo);
const nameOf = (c: Case) => [c.program, ...c.command].join(" ");

describe("every command answers --help, refuses a bogus flag and says what is missing", () => {
  it.each(cases.map((c) => [nameOf(c), c] as const))("%s", (_name, c) => {
    const all: Run[] = [];
    for (const help of ["--help", "-h"]) {
      const r = run(scriptOf(c), [...c.command, help]);
      all.push(r);
      expect(r.code, `${help}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(c.usage);
    }

    const bogus = run(scriptOf(c), [...c.command, "--bogus"]);
    all.push(bogus);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("unknown flag --bogus");
    expect(bogus.stderr).toContain(c.usage);
    expect(bogus.stdout).toBe("");

    if (c.missing) {
      const [args, message] = c.missing;
      const r = run(scriptOf(c), [...c.command, ...args]);
      all.push(r);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(c.usage);
    }
    for (const r of all) expect(`${r.stdout}${r.stderr}`).not.toMatch(stackFrame);
  });

  it("hpo-operator --help lists every command, validate too", () => {
    const r = run(hpoOperator, ["--help"]);
    for (const c of ["run", "api", "validate", "generate", "stage-in", "stage-out"])
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    const bare = run(hpoOperator, []);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("usage: hpo-operator <command>");
    expect(run(hpoOperator, ["frob"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown command "frob"'),
    });
  });
});

describe("errors reach the user as one line", () => {
  it("a kubeconfig that is not there", () => {
    const r = run(hpoOperator, [
      "run",
      "--kubeconfig=/missing/kubeconfig",
      "--health-probe-bind-address=0",
      "--metrics-bind-address=0",
    ]);
    expect(r.code).toBe(1);
    // The operator's JSON log ("starting"), then the one line.
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^hpo-operator: .*\/missing\/kubeconfig/);
    for (const l of lines.slice(0, -1)) expect(() => JSON.parse(l), l).not.toThrow();
    expect(`${r.stdout}${r.stderr}`).not.toMatch(stackFrame);
  });

  it("HPO_DEBUG=1 adds the stack for a developer", () => {
    const r = run(hpoOperator, ["run", "--kubeconfig=/missing/kubeconfig"], { HPO_DEBUG: "1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hpo-operator: .*\/missing\/kubeconfig/m);
    expect(r.stderr).toMatch(stackFrame);
  });

  it("kubectl hpo with a kubeconfig that is not there", () => {
    const r = run(kubectlHpo, ["get", "mnist", "--kubeconfig=/missing/kubeconfig"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*\/missing\/kubeconfig/);
    expect(r.stderr).not.toMatch(stackFrame);
  });

  it("a bad flag value of run", () => {
    const r = run(hpoOperator, ["run", "--concurrency=0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^hpo-operator run: --concurrency: "0" must be a whole number >= 1\n\nusage: hpo-operator run/,
    );
  });
});

describe("a second operator on the same machine", () => {
  let holder: Server;
  let port = 0;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  /** runOperator runs `hpo-operator run` until it exits, with the test cluster's kubeconfig. */
  const runOperator = (args: string[]) =>
    new Promise<Run>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [hpoOperator, "run", `--kubeconfig=${inject("kubeconfig")}`, ...args],
        {
          env: { PATH: process.env.PATH ?? "", HOME: home },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`hpo-operator run did not exit: ${stderr}`));
      }, 60_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  it.each([
    ["--health-probe-bind-address", ["--metrics-bind-address=0"]],
    ["--metrics-bind-address", ["--health-probe-bind-address=0"]],
  ])("names %s when its port is in use", async (flag, others) => {
    const r = await runOperator([`${flag}=127.0.0.1:${port}`, ...others]);
    expect(r.code).toBe(1);
    const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
    expect(last).toMatch(/^hpo-operator: cannot listen on "127\.0\.0\.1:\d+": the address is in use/);
    expect(last).toContain(`choose a free one with ${flag}`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(stackFrame);
  });
});

describe("validate through the plugin", () => {
  it("reads standard input and exits 1 on an invalid manifest", () => {
    const dir = mkdtempSync(join(home, "m-"));
    const ok = join(dir, "ok.yaml");
    writeFileSync(
      ok,
      "apiVersion: hpo.dev/v1alpha1\nkind: HyperParameterSet\nmetadata: {name: a}\nspec: {request: r, firstId: 1, lastId: 10}\n",
    );
    expect(run(kubectlHpo, ["validate", ok]).code).toBe(0);
    const bad = run(
      kubectlHpo,
      ["validate", "-"],
      {},
      "apiVersion: hpo.dev/v1alpha1\nkind: HyperParameterSet\nmetadata: {name: a}\nspec: {firstId: 1, lastId: 10, losses: {x: 1}}\n",
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("<stdin>:4: spec.losses: Invalid value");
    expect(bad.stdout).toContain("<stdin>:4: spec.request: Required value");
  });
});
