/**
 * The test kubelet's process, started by startKubelet (test/support/kubelet.ts) with an IPC
 * channel: it takes its options in a "start" message, answers "processes" requests, and stops on
 * "stop" or when its parent goes away (the channel closes), killing every container it runs.
 */
import type { KubeletMessage, KubeletRequest } from "./kubelet.ts";
import { type RunningKubelet, runKubelet } from "./kubelet-core.ts";

function send(m: KubeletMessage): void {
  if (process.connected) process.send?.(m);
}

let kubelet: RunningKubelet | undefined;
let stopping: Promise<void> | undefined;

function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    const bound = setTimeout(() => process.exit(code), 20_000);
    try {
      await kubelet?.stop();
    } catch (e) {
      process.stderr.write(`test kubelet: stop: ${(e as Error).message}\n`);
    }
    clearTimeout(bound);
    send({ type: "stopped" });
    process.exit(code);
  })();
  return stopping;
}

process.on("disconnect", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGINT", () => void stop(0));

process.on("message", (m: KubeletRequest) => {
  switch (m.type) {
    case "start":
      runKubelet({ ...m.options, log: (line) => send({ type: "log", line }) }).then(
        (k) => {
          kubelet = k;
          send({ type: "ready", nodeName: k.nodeName, port: k.port, workRoot: k.workRoot });
        },
        (e: Error) => {
          send({ type: "failed", error: e.stack ?? e.message });
          void stop(1);
        },
      );
      return;
    case "processes":
      send({ type: "processes", id: m.id, list: kubelet?.processes() ?? [] });
      return;
    case "stop":
      void stop(0);
      return;
  }
});
