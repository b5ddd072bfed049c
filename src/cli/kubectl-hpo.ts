#!/usr/bin/env node
import type { HpoClient } from "../client/client.ts";
/**
 * kubectl-hpo: the kubectl plugin of hpo-operator. kubectl runs any executable named kubectl-hpo
 * on PATH for `kubectl hpo ...`; it uses the current context and namespace as kubectl does. See
 * `kubectl hpo --help` (hpo-plugin.ts) and docs/client.md.
 */
import { HpoClientError, InvalidArgumentError } from "../client/errors.ts";
import { ApiError, ForbiddenError, UnavailableError } from "../runtime/errors.ts";
import {
  type Command,
  commandUsage,
  formatPoints,
  formatStatus,
  parseCommandLine,
  progressBar,
  topicOf,
  UsageError,
  watchLine,
} from "./hpo-plugin.ts";
import { runMain } from "./toplevel.ts";

const out = (s: string) => process.stdout.write(s);
const err = (s: string) => process.stderr.write(s);

async function run(
  client: HpoClient,
  command: Exclude<Command, { name: "help" } | { name: "validate" } | { name: "dashboard" }>,
): Promise<number> {
  const ns = client.namespace;
  switch (command.name) {
    case "get": {
      const points = await client.getHyperParameters(command.request, {
        status: command.status,
        limit: command.limit,
      });
      if (points.length === 0 && command.output === "table") {
        const which = command.status ? `${command.status} ` : "";
        err(`No ${which}points of hporequest/${command.request} in namespace ${ns}.\n`);
        return 0;
      }
      out(formatPoints(points, command.output));
      return 0;
    }
    case "report": {
      const r = await client.updateHyperParameter(command.request, command.id, command.loss);
      out(
        r.changed
          ? `hporequest/${command.request}: point ${r.id} loss ${command.loss} reported\n`
          : `hporequest/${command.request}: point ${r.id} already has the loss ${command.loss} (unchanged)\n`,
      );
      return 0;
    }
    case "fail": {
      const r = await client.failHyperParameter(command.request, command.id, command.reason);
      out(
        r.changed
          ? `hporequest/${command.request}: point ${r.id} reported failed (${command.reason})\n`
          : `hporequest/${command.request}: point ${r.id} was already reported failed (unchanged)\n`,
      );
      return 0;
    }
    case "status":
      out(formatStatus(await client.getStatus(command.request), command.output));
      return 0;
    case "watch":
      return watch(client, command.request);
  }
}

async function watch(client: HpoClient, request: string): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const stop = new AbortController();
  const onSignal = () => stop.abort(new Error("interrupted"));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let drawn = false;
  try {
    const last = await client.watchRequest(
      request,
      (s) => {
        if (tty) {
          const width = Math.max(10, Math.min(40, (process.stdout.columns ?? 80) - 60));
          out(`\r\x1b[2K${progressBar(s, width)}`);
          drawn = true;
        } else out(`${watchLine(s)}\n`);
      },
      { signal: stop.signal },
    );
    if (drawn) out("\n");
    out(`hporequest/${request}: ${finalLine(last.phase ?? "", last.message)}\n`);
    return last.phase === "Failed" ? 1 : 0;
  } catch (e) {
    if (drawn) out("\n");
    if (stop.signal.aborted) return 130;
    throw e;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * dashboard serves the web dashboard on 127.0.0.1 with the kubeconfig's credentials, prints its
 * URL, and runs until interrupted (exit 0 on Ctrl-C or SIGTERM).
 */
async function dashboard(port: number, inv: { namespace?: string; context?: string; kubeconfig?: string }) {
  const [{ KubeClient, loadKubeConfig }, { serveDashboard }] = await Promise.all([
    import("../runtime/client.ts"),
    import("../dashboard/serve.ts"),
  ]);
  const kube = new KubeClient(loadKubeConfig(inv.kubeconfig, inv.context));
  // -n serves that namespace alone; else every namespace you may read, else the context's.
  const served = await serveDashboard({
    kube,
    port,
    namespaces: inv.namespace ? [inv.namespace] : undefined,
    fallbackNamespaces: [kube.namespace],
  });
  out(
    `Dashboard of ${kube.server.origin}: ${served.url}\n(read-only, with your kubeconfig's credentials; Ctrl-C stops it)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await served.close();
  kube.close();
  return 0;
}

/** finalLine names the phase once: the operator's messages of ended phases start with it. */
function finalLine(phase: string, message: string): string {
  return message.startsWith(phase) ? message : `${phase}: ${message}`;
}

/** describe turns an error into the line a person reads. */
function describe(e: unknown): string {
  if (e instanceof HpoClientError) return e.message;
  if (e instanceof ForbiddenError) {
    return `forbidden: ${e.status?.message ?? e.message} (ask for RBAC access to hporequests and hyperparametersets in this namespace)`;
  }
  if (e instanceof UnavailableError && e.statusCode === 0) {
    return `cannot reach the Kubernetes API server: ${e.message.replace(/^[A-Z]+ \S+: /, "")} (is the cluster up, and the kubeconfig's context right?)`;
  }
  if (e instanceof ApiError) return `the API server refused: ${e.status?.message ?? e.message}`;
  return e instanceof Error ? e.message : String(e);
}

async function main(argv: string[]): Promise<number> {
  let inv: ReturnType<typeof parseCommandLine>;
  try {
    inv = parseCommandLine(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`error: ${e.message}\n\n${commandUsage(topicOf(argv))}`);
    return 2;
  }
  if (inv.command.name === "help") {
    (argv.length === 0 ? err : out)(commandUsage(inv.command.topic));
    return argv.length === 0 ? 2 : 0;
  }
  if (inv.command.name === "validate") {
    // Offline: no kubeconfig, no cluster.
    const { validateFiles } = await import("./validate.ts");
    return validateFiles(inv.command.files, { quiet: inv.command.quiet, program: "kubectl hpo validate" });
  }
  if (inv.command.name === "dashboard") {
    try {
      return await dashboard(inv.command.port, inv);
    } catch (e) {
      err(`error: ${describe(e)}\n`);
      return 1;
    }
  }
  let client: HpoClient | undefined;
  try {
    // Loaded only for a command that calls the API.
    const { HpoClient } = await import("../client/client.ts");
    client = new HpoClient({ kubeconfig: inv.kubeconfig, context: inv.context, namespace: inv.namespace });
    return await run(client, inv.command);
  } catch (e) {
    err(`error: ${describe(e)}\n`);
    return e instanceof InvalidArgumentError ? 2 : 1;
  } finally {
    client?.close();
  }
}

await runMain("kubectl hpo", main);
