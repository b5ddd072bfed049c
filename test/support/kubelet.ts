/**
 * A kubelet for tests that runs pods as local processes, so that Jobs run end to end on the
 * node-less test control plane (see docs/development.md and kubelet-core.ts).
 *
 * startKubelet runs it in a child process of its own: tests call the real kubectl synchronously,
 * and `kubectl logs` must reach a kubelet whose event loop is not the one kubectl blocks; and a
 * test runner that dies closes the IPC channel, so the kubelet kills its containers and exits.
 */
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./controlplane.ts";
import type { KubeletOptions } from "./kubelet-core.ts";

export type { ImageTable, LocalImage } from "./kubelet-spec.ts";

/** StartKubeletOptions configure startKubelet (see KubeletOptions for each field). */
export type StartKubeletOptions = KubeletOptions;

/** ContainerProcessInfo is one running container process. */
export interface ContainerProcessInfo {
  namespace: string;
  pod: string;
  container: string;
  pid: number;
}

/** Kubelet is a running test kubelet. */
export interface Kubelet {
  nodeName: string;
  /** port is the HTTPS port of the kubelet API (container logs). */
  port: number;
  /** workRoot holds the pods' folders (`pods/<namespace>_<name>_<uid>/{volumes,logs}`). */
  workRoot: string;
  /** pid is the kubelet process. */
  pid: number;
  /** processes lists the container processes running now. */
  processes(): Promise<ContainerProcessInfo[]>;
  /** stop kills every container process, stops serving, deletes the Node (unless keepNode) and exits. */
  stop(): Promise<void>;
}

/** KubeletRequest is a message to the kubelet process. */
export type KubeletRequest =
  | { type: "start"; options: Omit<KubeletOptions, "log"> }
  | { type: "processes"; id: number }
  | { type: "stop" };

/** KubeletMessage is a message from the kubelet process. */
export type KubeletMessage =
  | { type: "log"; line: string }
  | { type: "ready"; nodeName: string; port: number; workRoot: string }
  | { type: "failed"; error: string }
  | { type: "processes"; id: number; list: ContainerProcessInfo[] }
  | { type: "stopped" };

/** startKubelet starts a test kubelet process and resolves once its Node is registered and Ready. */
export function startKubelet(opts: StartKubeletOptions): Promise<Kubelet> {
  const { log, ...options } = opts;
  const child = fork(join(repoRoot, "test/support/kubelet-main.ts"), [], {
    execArgv: [],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((res) => child.once("exit", () => res()));
  const waiting = new Map<number, (list: ContainerProcessInfo[]) => void>();
  let nextId = 0;
  return new Promise<Kubelet>((resolve, reject) => {
    child.once("exit", (code, signal) =>
      reject(new Error(`test kubelet exited (${code ?? signal}) before it was ready`)),
    );
    child.on("message", (m: KubeletMessage) => {
      if (m.type === "log") log?.(m.line);
      else if (m.type === "failed") reject(new Error(`test kubelet did not start: ${m.error}`));
      else if (m.type === "processes") waiting.get(m.id)?.(m.list);
      else if (m.type === "ready")
        resolve({
          nodeName: m.nodeName,
          port: m.port,
          workRoot: m.workRoot,
          pid: child.pid ?? 0,
          processes: () =>
            new Promise((res, rej) => {
              if (!child.connected) return rej(new Error("the test kubelet has stopped"));
              const id = nextId++;
              waiting.set(id, (list) => {
                waiting.delete(id);
                res(list);
              });
              child.send({ type: "processes", id } satisfies KubeletRequest);
            }),
          stop: () => stopChild(child, exited),
        });
    });
    child.send({ type: "start", options } satisfies KubeletRequest);
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ type: "stop" } satisfies KubeletRequest);
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}
