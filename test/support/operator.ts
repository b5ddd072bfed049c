/**
 * The operator as a real process (`node src/cli/main.ts run`), for integration tests that kill it,
 * run two of it, or watch it survive an API server restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort, repoRoot } from "./controlplane.ts";

/** OperatorProcess is one running operator. */
export interface OperatorProcess {
  child: ChildProcess;
  probePort: number;
  metricsPort: number;
  /** logs returns everything it printed so far. */
  logs(): string;
  /** exited resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** kill sends a signal (default SIGKILL) and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** metrics returns the text of /metrics. */
  metrics(): Promise<string>;
}

/** StartOperatorOptions tune startOperatorProcess. */
export interface StartOperatorOptions {
  kubeconfig: string;
  args?: string[];
  env?: Record<string, string>;
  /** waitReady waits for /readyz (default true). */
  waitReady?: boolean;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

/** CliProcess is `node src/cli/main.ts ...` running: its output so far, its end, and how to stop it. */
export interface CliProcess {
  child: ChildProcess;
  logs(): string;
  exited: Promise<number | string>;
  /** kill sends a signal and waits for the process to end. */
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

/** spawnCli starts `hpo-operator ARGS` as a process (killed when the test runner exits). */
export function spawnCli(args: string[], env?: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [join(repoRoot, "src/cli/main.ts"), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | string>((res) =>
    child.on("exit", (code, signal) => {
      running.delete(child);
      res(code ?? signal ?? -1);
    }),
  );
  return {
    child,
    logs: () => out,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** startOperatorProcess starts an operator and (by default) waits until its caches have synced. */
export async function startOperatorProcess(opts: StartOperatorOptions): Promise<OperatorProcess> {
  const [probePort, metricsPort] = await Promise.all([freePort(), freePort()]);
  const cli = spawnCli(
    [
      "run",
      `--kubeconfig=${opts.kubeconfig}`,
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      "--log-level=debug",
      ...(opts.args ?? []),
    ],
    opts.env,
  );
  const { child, exited } = cli;
  const proc: OperatorProcess = {
    child,
    probePort,
    metricsPort,
    logs: cli.logs,
    exited,
    kill: (signal = "SIGKILL") => cli.kill(signal),
    async metrics() {
      return (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    },
  };
  if (opts.waitReady ?? true) {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the operator exited (${child.exitCode}):\n${cli.logs()}`);
      const ok = await fetch(`http://127.0.0.1:${probePort}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the operator was not ready within 30 s:\n${cli.logs()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return proc;
}

/** metricSum adds up the samples of one metric, whatever their labels, in the text of /metrics. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.split(" ").at(-1));
  }
  return sum;
}
