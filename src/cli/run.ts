/**
 * `hpo-operator run`: the operator process. Stops gracefully on SIGTERM or SIGINT (the in-flight
 * reconciles finish, the leader Lease is released).
 */
import { parseConfig, usage } from "../operator/config.ts";
import { startOperator } from "../operator/operator.ts";
import { createLogger } from "../runtime/log.ts";

/** runOperator is the `run` command; it resolves with the exit code. */
export async function runOperator(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(usage());
    return 0;
  }
  let cfg: ReturnType<typeof parseConfig>;
  try {
    cfg = parseConfig(argv, process.env);
  } catch (e) {
    process.stderr.write(`hpo-operator run: ${(e as Error).message}\n\n${usage()}`);
    return 2;
  }
  const log = createLogger({ level: cfg.logLevel, fields: { logger: "hpo-operator" } });
  log.info("starting", {
    namespaces: cfg.namespaces.length ? cfg.namespaces : "all",
    leaderElect: cfg.leaderElect,
    concurrency: cfg.concurrency,
  });
  const op = await startOperator(cfg, log);
  let signals = 0;
  const onSignal = (sig: string) => {
    if (++signals > 1) process.exit(130);
    log.info("signal received", { signal: sig });
    void op.stop();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  await op.done;
  return 0;
}
