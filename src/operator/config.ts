/**
 * The operator's configuration: command-line flags, each with an environment variable behind it
 * (flags win). Read once at start-up and passed down; nothing reads the environment later.
 */
import { hostname } from "node:os";
import { type CommandSpec, type FlagSpec, parseFlags } from "../cli/flags.ts";
import { type BrokerSettings, parseBrokers, parseDestination } from "../messaging/settings.ts";
import { type Level, parseLevel } from "../runtime/log.ts";
import { type GeneratorLimits, generatorPolicyFlags, parseGeneratorLimits } from "./policy-flags.ts";

/** OperatorConfig is everything `hpo-operator run` is told. */
export interface OperatorConfig {
  kubeconfig?: string;
  context?: string;
  /** kubeApiQps and kubeApiBurst: the client-side rate limit of API calls (client-go's QPS/Burst). */
  kubeApiQps: number;
  kubeApiBurst: number;
  /** namespaces to serve; empty means all namespaces. */
  namespaces: string[];
  concurrency: number;
  logLevel: Level;
  metricsAddress: string;
  probeAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  methodWorkers: number;
  methodTimeoutMs: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** setBytes is the size a HyperParameterSet aims at (--set-bytes). */
  setBytes: number;
  resyncMs: number;
  operatorImage: string;
  nevergradImage: string;
  jobTtlMs: number;
  imagePullTimeoutMs: number;
  /** broker holds the ActiveMQ settings; no brokers means messaging is off. */
  broker: BrokerSettings;
  /** generators are the admin's generator pod policy and output limit (policy-flags.ts). */
  generators: GeneratorLimits;
}

/** Flag describes one flag: its name, environment variable, default and help. */
export interface Flag {
  name: string;
  env: string;
  def: string;
  help: string;
  bool?: boolean;
}

/** flags lists every flag of `hpo-operator run`. */
export const flags: Flag[] = [
  {
    name: "kubeconfig",
    env: "KUBECONFIG",
    def: "",
    help: "kubeconfig file (default: the files of KUBECONFIG, else ~/.kube/config, else in-cluster)",
  },
  { name: "context", env: "HPO_CONTEXT", def: "", help: "kubeconfig context (default: the current one)" },
  {
    name: "kube-api-qps",
    env: "HPO_KUBE_API_QPS",
    def: "100",
    help: "API requests per second, sustained (client-side rate limit); -1 turns the limit off",
  },
  {
    name: "kube-api-burst",
    env: "HPO_KUBE_API_BURST",
    def: "200",
    help: "API requests allowed at once above --kube-api-qps",
  },
  {
    name: "namespaces",
    env: "HPO_NAMESPACES",
    def: "",
    help: "comma-separated namespaces to serve (default: all)",
  },
  { name: "concurrency", env: "HPO_CONCURRENCY", def: "4", help: "requests reconciled at once" },
  { name: "log-level", env: "HPO_LOG_LEVEL", def: "info", help: "debug, info, warn or error" },
  {
    name: "metrics-bind-address",
    env: "HPO_METRICS_BIND_ADDRESS",
    def: ":8080",
    help: 'where /metrics is served ("0" = any free port, "" = off)',
  },
  {
    name: "health-probe-bind-address",
    env: "HPO_HEALTH_PROBE_BIND_ADDRESS",
    def: ":8081",
    help: "where /healthz and /readyz are served",
  },
  {
    name: "leader-elect",
    env: "HPO_LEADER_ELECT",
    def: "false",
    help: "elect a leader on a Lease, so that replicas can run",
    bool: true,
  },
  {
    name: "leader-election-namespace",
    env: "POD_NAMESPACE",
    def: "default",
    help: "namespace of the leader Lease",
  },
  {
    name: "leader-election-id",
    env: "HPO_LEADER_ELECTION_ID",
    def: "hpo-operator",
    help: "name of the leader Lease",
  },
  {
    name: "identity",
    env: "POD_NAME",
    def: "",
    help: "this replica's name in the Lease (default: hostname and pid)",
  },
  {
    name: "lease-duration",
    env: "HPO_LEASE_DURATION",
    def: "15s",
    help: "how long a leader's lease lasts unrenewed",
  },
  {
    name: "renew-deadline",
    env: "HPO_RENEW_DEADLINE",
    def: "10s",
    help: "how long a leader retries renewing before it steps down",
  },
  { name: "retry-period", env: "HPO_RETRY_PERIOD", def: "2s", help: "time between leader election attempts" },
  {
    name: "method-workers",
    env: "HPO_METHOD_WORKERS",
    def: "2",
    help: "worker threads for built-in methods",
  },
  {
    name: "method-timeout",
    env: "HPO_METHOD_TIMEOUT",
    def: "60s",
    help: "longest a built-in method may take for one generation",
  },
  {
    name: "generation-retries",
    env: "HPO_GENERATION_RETRIES",
    def: "3",
    help: "retries of a failed generation unless spec.generator.retries says otherwise",
  },
  {
    name: "generation-retry-base",
    env: "HPO_GENERATION_RETRY_BASE",
    def: "5s",
    help: "delay before the first retry; doubles per attempt",
  },
  {
    name: "generation-retry-max",
    env: "HPO_GENERATION_RETRY_MAX",
    def: "5m",
    help: "longest delay between retries",
  },
  {
    name: "set-bytes",
    env: "HPO_SET_BYTES",
    def: "8192",
    help: "size a HyperParameterSet aims at: a request's points go into as many sets as this needs (a report costs the API server more on a larger set); no set passes 512 KiB",
  },
  {
    name: "operator-image",
    env: "HPO_OPERATOR_IMAGE",
    def: "ghcr.io/hpo-operator/hpo-operator:v0.1.0",
    help: "this operator's image: runs stage-in and stage-out in generator Jobs",
  },
  {
    name: "nevergrad-image",
    env: "HPO_NEVERGRAD_IMAGE",
    def: "ghcr.io/hpo-operator/nevergrad-generator:v0.1.0",
    help: "the generator image behind method: nevergrad",
  },
  {
    name: "job-ttl",
    env: "HPO_JOB_TTL",
    def: "1h",
    help: "finished generator Jobs are deleted this long after they end",
  },
  {
    name: "image-pull-timeout",
    env: "HPO_IMAGE_PULL_TIMEOUT",
    def: "2m",
    help: "a generator pod that cannot pull its image this long fails the generation",
  },
  {
    name: "resync-period",
    env: "HPO_RESYNC_PERIOD",
    def: "10m",
    help: "every request is reconciled at least this often",
  },
  ...generatorPolicyFlags(),
  ...brokerFlags(),
];

/** brokerFlags are the ActiveMQ (STOMP) settings; see docs/messaging.md. */
function brokerFlags(): Flag[] {
  return [
    {
      name: "brokers",
      env: "HPO_BROKERS",
      def: "",
      help: "comma-separated ActiveMQ STOMP brokers host:port (failover, randomised); empty = messaging off",
    },
    { name: "broker-username", env: "HPO_BROKER_USERNAME", def: "", help: "STOMP login" },
    {
      name: "broker-username-file",
      env: "HPO_BROKER_USERNAME_FILE",
      def: "",
      help: "file holding the STOMP login (a mounted Secret); wins over --broker-username",
    },
    { name: "broker-password", env: "HPO_BROKER_PASSWORD", def: "", help: "STOMP passcode" },
    {
      name: "broker-password-file",
      env: "HPO_BROKER_PASSWORD_FILE",
      def: "",
      help: "file holding the STOMP passcode (a mounted Secret); wins over --broker-password",
    },
    {
      name: "broker-destination",
      env: "HPO_BROKER_DESTINATION",
      def: "/topic/hpo.points",
      help: "destination of requests without spec.notification.destination",
    },
    {
      name: "broker-tls",
      env: "HPO_BROKER_TLS",
      def: "false",
      help: "connect to the brokers over TLS",
      bool: true,
    },
    {
      name: "broker-heartbeat",
      env: "HPO_BROKER_HEARTBEAT",
      def: "10s",
      help: "STOMP heart-beat both ways; a silent connection is dropped after 2 of them",
    },
    {
      name: "broker-message-ttl",
      env: "HPO_BROKER_MESSAGE_TTL",
      def: "0",
      help: "message time to live (ttl and expires headers); 0 = never expires (ttl says iDDS's 12h)",
    },
    {
      name: "broker-vo",
      env: "HPO_BROKER_VO",
      def: "atlas",
      help: "the vo header of every message, as iDDS sends it",
    },
    {
      name: "broker-receipt-timeout",
      env: "HPO_BROKER_RECEIPT_TIMEOUT",
      def: "10s",
      help: "how long a message waits for the broker's receipt before it is sent again",
    },
  ];
}

/** parseDuration reads "250ms", "15s", "5m", "1h" or a number of seconds into milliseconds. */
export function parseDuration(s: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`${what}: "${s}" is not a duration; write it like 500ms, 15s, 5m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

/** parseVo checks the vo header's value: a word, such as atlas. */
function parseVo(s: string, what: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s)) throw new Error(`${what}: "${s}" must be a word such as atlas`);
  return s;
}

function parseCount(s: string, what: string, min: number): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`${what}: "${s}" must be a whole number >= ${min}`);
  return n;
}

function parseSetBytes(s: string, what: string): number {
  const n = parseCount(s, what, 4096);
  if (n > 512 * 1024) throw new Error(`${what}: "${s}" must be at most 524288 (512 KiB): no set may pass it`);
  return n;
}

/** parseQps reads a rate: a positive number, or -1 for no limit. */
function parseQps(s: string, what: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || (n <= 0 && n !== -1))
    throw new Error(`${what}: "${s}" must be a positive number of requests per second, or -1 for no limit`);
  return n;
}

function parseBool(s: string, what: string): boolean {
  if (/^(true|1|yes)$/i.test(s)) return true;
  if (/^(false|0|no)$/i.test(s)) return false;
  throw new Error(`${what}: "${s}" must be true or false`);
}

/** usage is the help text of `hpo-operator run`. */
export function usage(): string {
  const rows = flags.map(
    (f) => `  --${f.name.padEnd(30)} ${f.help} [$${f.env}${f.def ? `, default ${f.def}` : ""}]`,
  );
  return `usage: hpo-operator run [flags]\n\nflags:\n${rows.join("\n")}\n`;
}

/** runCommandSpec describes the command line of `hpo-operator run` for parseFlags. */
export function runCommandSpec(): CommandSpec {
  const spec: Record<string, FlagSpec> = {};
  for (const f of flags) spec[f.name] = { type: f.bool ? "boolean" : "string" };
  return { flags: spec, usage: usage() };
}

/** parseConfig reads flags (argv) over environment (env) over defaults; it throws a clear message on bad input. */
export function parseConfig(argv: string[], env: Record<string, string | undefined>): OperatorConfig {
  const parsed = parseFlags(argv, runCommandSpec());
  // parseConfig is not asked for help: `hpo-operator run --help` is answered before it.
  const values = parsed.help ? {} : parsed.values;
  const get = (name: string): string => {
    const f = flags.find((x) => x.name === name) as Flag;
    const v = values[name];
    return (v === undefined ? undefined : String(v)) ?? env[f.env] ?? f.def;
  };
  const flag = (name: string) => `--${name}`;
  const dur = (name: string) => parseDuration(get(name), flag(name));
  return {
    // Only the flag: KUBECONFIG is left to the loader, which reads it as kubectl does (a list of
    // files, merged, missing ones skipped) rather than as one file that must exist.
    kubeconfig: (typeof values.kubeconfig === "string" && values.kubeconfig) || undefined,
    context: get("context") || undefined,
    kubeApiQps: parseQps(get("kube-api-qps"), flag("kube-api-qps")),
    kubeApiBurst: parseCount(get("kube-api-burst"), flag("kube-api-burst"), 1),
    namespaces: get("namespaces")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    concurrency: parseCount(get("concurrency"), flag("concurrency"), 1),
    logLevel: parseLevel(get("log-level")),
    metricsAddress: get("metrics-bind-address"),
    probeAddress: get("health-probe-bind-address"),
    leaderElect: parseBool(get("leader-elect"), flag("leader-elect")),
    leaderElectionNamespace: get("leader-election-namespace"),
    leaderElectionId: get("leader-election-id"),
    identity: get("identity") || `${hostname()}_${process.pid}`,
    leaseDurationMs: dur("lease-duration"),
    renewDeadlineMs: dur("renew-deadline"),
    retryPeriodMs: dur("retry-period"),
    methodWorkers: parseCount(get("method-workers"), flag("method-workers"), 1),
    methodTimeoutMs: dur("method-timeout"),
    retries: parseCount(get("generation-retries"), flag("generation-retries"), 0),
    retryBaseMs: dur("generation-retry-base"),
    retryMaxMs: dur("generation-retry-max"),
    setBytes: parseSetBytes(get("set-bytes"), flag("set-bytes")),
    resyncMs: dur("resync-period"),
    operatorImage: get("operator-image"),
    nevergradImage: get("nevergrad-image"),
    jobTtlMs: dur("job-ttl"),
    imagePullTimeoutMs: dur("image-pull-timeout"),
    generators: parseGeneratorLimits(get, (name) => parseBool(get(name), flag(name))),
    broker: {
      brokers: parseBrokers(get("brokers"), flag("brokers")),
      username: get("broker-username") || undefined,
      usernameFile: get("broker-username-file") || undefined,
      password: get("broker-password") || undefined,
      passwordFile: get("broker-password-file") || undefined,
      destination: parseDestination(get("broker-destination"), flag("broker-destination")),
      tls: parseBool(get("broker-tls"), flag("broker-tls")),
      heartbeatMs: dur("broker-heartbeat"),
      ttlMs: dur("broker-message-ttl"),
      vo: parseVo(get("broker-vo"), flag("broker-vo")),
      receiptTimeoutMs: dur("broker-receipt-timeout"),
    },
  };
}
