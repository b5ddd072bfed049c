/**
 * One container run of the test kubelet as a local process: started in a process group of its own
 * (so that whatever it forks is killed with it), its stdout and stderr recorded in a CRI log file,
 * and its end reported as a container's terminated state.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { LogWriter, lastLines } from "./kubelet-logs.ts";
import type { Terminated } from "./kubelet-types.ts";

/** ProcessSpec is what to run and where its output goes. */
export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}

/** ContainerProcess is a started container process. */
export interface ContainerProcess {
  pid: number;
  /** exited resolves when the process has ended and its output is recorded. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill signals the whole process group; it is a no-op once the process has ended. */
  kill(signal: NodeJS.Signals): void;
}

/** live holds every process group still running, so that a dying test runner can kill them. */
const live = new Set<number>();
let hooked = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const pid of live) killGroup(pid, "SIGKILL");
  });
}

/** startProcess spawns a container process; it rejects when the command cannot be started. */
export function startProcess(spec: ProcessSpec): Promise<ContainerProcess> {
  const [cmd, ...args] = spec.argv;
  if (!cmd) return Promise.reject(new Error("no command specified"));
  hookExit();
  const log = new LogWriter(spec.logFile);
  const child = spawn(cmd, args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", (e) => {
      log.close();
      reject(e);
    });
    child.once("spawn", () => {
      const pid = child.pid ?? 0;
      live.add(pid);
      child.stdout?.on("data", (d: Buffer) => log.write("stdout", d));
      child.stderr?.on("data", (d: Buffer) => log.write("stderr", d));
      let ended = false;
      // A container ends with its main process: whatever it left behind is killed too.
      child.once("exit", () => {
        ended = true;
        killGroup(pid, "SIGKILL");
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
        child.once("close", (code, signal) => {
          live.delete(pid);
          log.close();
          res({ code, signal });
        });
      });
      resolve({ pid, exited, kill: (signal) => !ended && killGroup(pid, signal) });
    });
  });
}

/** exitCodeOf is the exit code a container runtime reports: the code, or 128 + the signal number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 9) : 9);
}

/** MessageSource is where a terminated container's message comes from. */
export interface MessageSource {
  /** file is the host path of the container's terminationMessagePath. */
  file: string;
  fallbackToLogs: boolean;
  logFile: string;
}

/** terminationMessage reads the termination message file (4 KiB at most) or, on failure with
 * FallbackToLogsOnError, the last 80 lines (2 KiB at most) of the log, as the kubelet does. */
export function terminationMessage(src: MessageSource, exitCode: number): string | undefined {
  if (existsSync(src.file)) {
    const text = readFileSync(src.file).subarray(0, 4096).toString("utf8");
    if (text) return text;
  }
  if (src.fallbackToLogs && exitCode !== 0) return lastLines(src.logFile, 80, 2048) || undefined;
  return undefined;
}

/** terminatedState builds a container's terminated state from how its process ended. */
export function terminatedState(
  code: number | null,
  signal: NodeJS.Signals | null,
  startedAt: string,
  containerID: string,
  message: string | undefined,
): Terminated {
  const exitCode = exitCodeOf(code, signal);
  return {
    exitCode,
    reason: exitCode === 0 ? "Completed" : "Error",
    ...(message ? { message } : {}),
    startedAt,
    finishedAt: new Date().toISOString(),
    containerID,
  };
}
