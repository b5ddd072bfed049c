/**
 * `hpo-operator api`: the iDDS REST API server (src/idds-api). Stops on SIGTERM or SIGINT.
 */
import { type ApiConfig, apiCommandSpec, apiUsage, parseApiConfig } from "../idds-api/config.ts";
import { createLogger } from "../runtime/log.ts";
import { AddressInUseError } from "../runtime/server.ts";
import { parseFlags } from "./flags.ts";

/**
 * dashboardOf is the web dashboard under /dashboard (docs/dashboard.md): its own client of the
 * same kubeconfig, and the TokenReview/SubjectAccessReview checks of the iDDS API for each reader.
 */
async function dashboardOf(cfg: ApiConfig) {
  const [{ KubeClient, loadKubeConfig }, { Authorizer }, { dashboardMount }] = await Promise.all([
    import("../runtime/client.ts"),
    import("../idds-api/auth.ts"),
    import("../dashboard/mount.ts"),
  ]);
  const kube = new KubeClient(loadKubeConfig(cfg.kubeconfig, cfg.context), {
    qps: cfg.kubeApiQps,
    burst: cfg.kubeApiBurst,
  });
  const mount = dashboardMount(kube, new Authorizer(kube, { cacheTtlMs: cfg.authCacheTtlMs }), {
    namespaces: cfg.namespaces,
    maxPoints: cfg.dashboardMaxPoints,
  });
  return {
    mount,
    async stop() {
      await mount.close();
      kube.close();
    },
  };
}

/** runApi is the `api` command; it resolves with the exit code. */
export async function runApi(argv: string[]): Promise<number> {
  if (parseFlags(argv, apiCommandSpec()).help) {
    process.stdout.write(apiUsage());
    return 0;
  }
  const cfg: ApiConfig = parseApiConfig(argv, process.env);
  const log = createLogger({ level: cfg.logLevel, fields: { logger: "hpo-operator-api" } });
  const [{ startApi }, dashboard] = await Promise.all([import("../idds-api/app.ts"), dashboardOf(cfg)]);
  const api = await startApi(cfg, log, { mounts: [dashboard.mount] }).catch((e: unknown) => {
    if (e instanceof AddressInUseError) {
      throw new Error(
        `cannot listen on ${JSON.stringify(e.address)}: the address is in use; choose another with --bind-address`,
      );
    }
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        `cannot read the TLS files: ${(e as Error).message} (check --tls-cert-file and --tls-private-key-file)`,
      );
    }
    throw e;
  });
  log.info("iDDS API ready", { port: api.server.port, prefix: cfg.prefix || "/" });
  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (sig: string) => {
      if (++signals > 1) process.exit(130);
      log.info("signal received", { signal: sig });
      void api
        .stop()
        .then(() => dashboard.stop())
        .then(resolve);
    };
    process.on("SIGTERM", () => onSignal("SIGTERM"));
    process.on("SIGINT", () => onSignal("SIGINT"));
  });
  return 0;
}
