// Runs a container's command as a child and appends one JSON line to $HPO_BENCH_TIMES/<pod>.jsonl:
// {pod, what (stage-in, generator or stage-out), start (this process's start), end (just before it exits), code},
// in ms since the epoch. bench/containers.ts puts it in front of every container's command, since
// the pod's container timestamps in the API have whole seconds only.
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";

const [cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: "inherit" });
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  const record = {
    pod: process.env.HOSTNAME,
    what: args.find((a) => a === "stage-in" || a === "stage-out") ?? "generator",
    start: performance.timeOrigin,
    end: Date.now(),
    code,
  };
  appendFileSync(
    join(process.env.HPO_BENCH_TIMES ?? ".", `${record.pod}.jsonl`),
    `${JSON.stringify(record)}\n`,
  );
  process.exit(code ?? (signal ? 128 : 1));
});
