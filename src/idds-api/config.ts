/**
 * The configuration of `hpo-operator api`: flags, each with an environment variable behind it
 * (flags win), read once at start-up. Pure.
 */
import { type CommandSpec, type FlagSpec, parseFlags, UsageError } from "../cli/flags.ts";
import { parseDuration } from "../operator/config.ts";
import { type Level, parseLevel } from "../runtime/log.ts";
import { parseAddress } from "../runtime/server.ts";
import { normalisePrefix } from "./server.ts";

/** ApiConfig is everything `hpo-operator api` is told. */
export interface ApiConfig {
  kubeconfig?: string;
  context?: string;
  kubeApiQps: number;
  kubeApiBurst: number;
  bindAddress: string;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** prefix of the iDDS routes ("/idds"; "" serves them at the root). */
  prefix: string;
  /** namespaces whose requests are served; empty means all. */
  namespaces: string[];
  /** authCacheTtlMs: how long TokenReview and SubjectAccessReview answers are kept. */
  authCacheTtlMs: number;
  /** requestNamespace: where add_request creates HPORequests (see docs/idds-api.md). */
  requestNamespace: string;
  /** dashboardMaxPoints: the most points the dashboard's pages may have it follow (0: no limit). */
  dashboardMaxPoints: number;
  logLevel: Level;
}

interface Flag {
  name: string;
  env: string;
  def: string;
  help: string;
}

/** apiFlags lists every flag of `hpo-operator api`. */
export const apiFlags: Flag[] = [
  {
    name: "kubeconfig",
    env: "KUBECONFIG",
    def: "",
    help: "kubeconfig file (default: as kubectl, else in-cluster)",
  },
  { name: "context", env: "HPO_CONTEXT", def: "", help: "kubeconfig context (default: the current one)" },
  {
    name: "kube-api-qps",
    env: "HPO_KUBE_API_QPS",
    def: "200",
    help: "API requests per second (client-side limit); -1 = off",
  },
  {
    name: "kube-api-burst",
    env: "HPO_KUBE_API_BURST",
    def: "400",
    help: "API requests allowed at once above the rate",
  },
  {
    name: "bind-address",
    env: "HPO_API_BIND_ADDRESS",
    def: ":8443",
    help: "where HTTPS is served (host:port, :port)",
  },
  {
    name: "tls-cert-file",
    env: "HPO_API_TLS_CERT_FILE",
    def: "",
    help: "PEM serving certificate (required)",
  },
  {
    name: "tls-private-key-file",
    env: "HPO_API_TLS_PRIVATE_KEY_FILE",
    def: "",
    help: "PEM private key of the certificate (required)",
  },
  {
    name: "path-prefix",
    env: "HPO_API_PATH_PREFIX",
    def: "/idds",
    help: "path of the iDDS routes: an idds-client host of https://HOST:PORT/idds",
  },
  {
    name: "namespaces",
    env: "HPO_NAMESPACES",
    def: "",
    help: "comma-separated namespaces whose requests are served (default: all)",
  },
  {
    name: "auth-cache-ttl",
    env: "HPO_API_AUTH_CACHE_TTL",
    def: "10s",
    help: "how long a token's review and a right's review are remembered",
  },
  {
    name: "request-namespace",
    env: "HPO_API_REQUEST_NAMESPACE",
    def: "",
    help: "namespace of add_request's HPORequests (default: the caller's service-account namespace, else 'default')",
  },
  {
    name: "dashboard-max-points",
    env: "HPO_API_DASHBOARD_MAX_POINTS",
    def: "200000",
    help: "the most points the dashboard follows for open pages (1-2 KB of memory each); 0 = no limit",
  },
  { name: "log-level", env: "HPO_LOG_LEVEL", def: "info", help: "debug, info, warn or error" },
];

/** apiUsage is the help text of `hpo-operator api`. */
export function apiUsage(): string {
  const rows = apiFlags.map(
    (f) => `  --${f.name.padEnd(22)} ${f.help} [$${f.env}${f.def ? `, default ${f.def}` : ""}]`,
  );
  return (
    "usage: hpo-operator api [flags]\n\n" +
    "Serves the iDDS HPO REST API (get_hyperparameters, update_hyperparameter, add_request,\n" +
    "get_requests) over HTTPS, with Kubernetes authentication (TokenReview) and authorisation\n" +
    "(SubjectAccessReview). See docs/idds-api.md. The web dashboard is served under /dashboard/\n" +
    "with the same checks for each reader (docs/dashboard.md).\n\nflags:\n" +
    `${rows.join("\n")}\n`
  );
}

/** apiCommandSpec describes the command line for parseFlags. */
export function apiCommandSpec(): CommandSpec {
  const flags: Record<string, FlagSpec> = {};
  for (const f of apiFlags) flags[f.name] = { type: "string" };
  return { flags, usage: apiUsage() };
}

function count(s: string, what: string, min: number): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${what}: "${s}" must be a whole number >= ${min}`, apiUsage());
  return n;
}

/** parseApiConfig reads flags over environment over defaults; a bad value is a UsageError that says what to fix. */
export function parseApiConfig(argv: string[], env: Record<string, string | undefined>): ApiConfig {
  const parsed = parseFlags(argv, apiCommandSpec());
  const values = parsed.help ? {} : parsed.values;
  const get = (name: string): string => {
    const f = apiFlags.find((x) => x.name === name) as Flag;
    const v = values[name];
    return (typeof v === "string" ? v : undefined) ?? env[f.env] ?? f.def;
  };
  const fail = (m: string) => new UsageError(m, apiUsage());
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw e instanceof UsageError ? e : fail((e as Error).message);
    }
  };
  const bindAddress = get("bind-address");
  if (!wrap(() => parseAddress(bindAddress)))
    throw fail("--bind-address must not be empty: the API server serves HTTPS on it");
  const tlsCertFile = get("tls-cert-file");
  const tlsKeyFile = get("tls-private-key-file");
  if (!tlsCertFile || !tlsKeyFile) {
    throw fail(
      "the API server serves HTTPS only: give --tls-cert-file and --tls-private-key-file (PEM files; the Helm chart makes them)",
    );
  }
  const qps = Number(get("kube-api-qps"));
  if (!Number.isFinite(qps) || (qps <= 0 && qps !== -1))
    throw fail(`--kube-api-qps: "${get("kube-api-qps")}" must be > 0, or -1`);
  return {
    kubeconfig: (typeof values.kubeconfig === "string" && values.kubeconfig) || undefined,
    context: get("context") || undefined,
    kubeApiQps: qps,
    kubeApiBurst: count(get("kube-api-burst"), "--kube-api-burst", 1),
    bindAddress,
    tlsCertFile,
    tlsKeyFile,
    prefix: normalisePrefix(get("path-prefix")),
    namespaces: get("namespaces")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    authCacheTtlMs: wrap(() => parseDuration(get("auth-cache-ttl"), "--auth-cache-ttl")),
    requestNamespace: get("request-namespace"),
    dashboardMaxPoints: count(get("dashboard-max-points"), "--dashboard-max-points", 0),
    logLevel: wrap(() => parseLevel(get("log-level"))),
  };
}
