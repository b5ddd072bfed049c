/**
 * `hpo-operator run`: the operator process. Stops gracefully on SIGTERM or SIGINT (the in-flight
 * reconciles finish, the leader Lease is released).
 */
import { type OperatorConfig, parseConfig, runCommandSpec, usage } from "../operator/config.ts";
import { startOperator } from "../operator/operator.ts";
import { createLogger } from "../runtime/log.ts";
import { AddressInUseError } from "../runtime/server.ts";
import { parseFlags, UsageError } from "./flags.ts";

/** runOperator is the `run` command; it resolves with the exit code. */
export async function runOperator(argv: string[]): Promise<number> {
  if (parseFlags(argv, runCommandSpec()).help) {
    process.stdout.write(usage());
    return 0;
  }
  let cfg: OperatorConfig;
  try {
    cfg = parseConfig(argv, process.env);
  } catch (e) {
    // A bad value (--concurrency=0) is a wrong command line too.
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message, usage());
  }
  const log = createLogger({ level: cfg.logLevel, fields: { logger: "hpo-operator" } });
  log.info("starting", {
    namespaces: cfg.namespaces.length ? cfg.namespaces : "all",
    leaderElect: cfg.leaderElect,
    concurrency: cfg.concurrency,
  });
  const op = await startOperator(cfg, log).catch((e: unknown) => {
    throw e instanceof AddressInUseError ? new Error(addressInUse(e, cfg)) : e;
  });
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

/** addressInUse names the flag (and variable) that chooses the address another process holds. */
export function addressInUse(
  e: AddressInUseError,
  cfg: Pick<OperatorConfig, "probeAddress" | "metricsAddress">,
): string {
  const names = [
    cfg.probeAddress === e.address ? "--health-probe-bind-address ($HPO_HEALTH_PROBE_BIND_ADDRESS)" : "",
    cfg.metricsAddress === e.address ? "--metrics-bind-address ($HPO_METRICS_BIND_ADDRESS)" : "",
  ].filter(Boolean);
  const which = names.length > 0 ? names.join(" or ") : "the bind address flags";
  return (
    `cannot listen on ${JSON.stringify(e.address)}: the address is in use (another hpo-operator?); ` +
    `choose a free one with ${which}, or "0" for any free port`
  );
}
