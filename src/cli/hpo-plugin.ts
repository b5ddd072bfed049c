/**
 * The pure part of the kubectl plugin (kubectl-hpo.ts): its command line and what it prints.
 */
import { stringify } from "yaml";
import type { Point } from "../api/index.ts";
import {
  type PointStatus,
  pointStatusValues,
  type RequestStatus,
  type RequestSummary,
} from "../client/model.ts";
import { type CommandSpec, parseFlags, str, UsageError } from "./flags.ts";

export { UsageError } from "./flags.ts";

/** commandLines is each command's synopsis and what it does, as the usage shows them. */
const commandLines: Record<string, string> = {
  get:
    "kubectl hpo get REQUEST [--status new|evaluated|failed] [--limit N] [-o table|json|yaml]\n" +
    "                                          the points of a request",
  report: "kubectl hpo report REQUEST ID LOSS      report a point's loss (a number)",
  fail: "kubectl hpo fail REQUEST ID REASON      report that a point will never have a loss",
  status:
    "kubectl hpo status REQUEST [-o text|json|yaml]\n" +
    "                                          phase, counts, best point and convergence",
  watch: "kubectl hpo watch REQUEST               a progress bar until the request ends",
  dashboard:
    "kubectl hpo dashboard [--port N]        the web dashboard on http://127.0.0.1:N/ (default 8484,\n" +
    "                                          0 picks a free port) with your credentials, until Ctrl-C;\n" +
    "                                          -n shows that namespace only, else all you may read",
  validate:
    "kubectl hpo validate [-q] FILE...       check manifests offline (- reads standard input;\n" +
    "                                          -q: no summary line)",
};

const flagsHelp = `Flags (anywhere on the line):
  -n, --namespace NAME    the namespace (default: the current context's)
      --context NAME      a context of the kubeconfig (default: the current one)
      --kubeconfig FILE   a kubeconfig file (default: KUBECONFIG, then ~/.kube/config)
  -h, --help              this help
`;

/** usage is the help text of the plugin. */
export const usage = `kubectl hpo: the points of HPORequests, from a shell (kubectl plugin).

Usage:
${Object.values(commandLines)
  .map((l) => `  ${l}`)
  .join("\n")}

${flagsHelp}
Exit codes: 0 done; 1 the request, the point or the cluster said no (the message says why), or a
manifest is invalid; 2 the command line is wrong. watch exits 0 when the request ends Finished or
SubFinished, 1 when it ends Failed.
`;

/** topicOf is the command a command line is about (its first word that names one), if any. */
export function topicOf(argv: readonly string[]): string | undefined {
  return argv.find((a) => a in commandLines);
}

/** commandUsage is the help text of one command (the plugin's usage for an unknown one). */
export function commandUsage(name: string | undefined): string {
  const line = name === undefined ? undefined : commandLines[name];
  return line === undefined ? usage : `Usage:\n  ${line}\n\n${flagsHelp}`;
}

/** Output formats. */
export type Output = "table" | "json" | "yaml" | "text";

/** Command is a parsed command line (help: the usage of topic, or of the plugin). */
export type Command =
  | { name: "help"; topic?: string }
  | { name: "get"; request: string; status?: PointStatus; limit?: number; output: Output }
  | { name: "report"; request: string; id: string; loss: number }
  | { name: "fail"; request: string; id: string; reason: string }
  | { name: "status"; request: string; output: Output }
  | { name: "watch"; request: string }
  | { name: "dashboard"; port: number }
  | { name: "validate"; files: string[]; quiet: boolean };

/** Invocation is a command and the flags that choose the cluster. */
export interface Invocation {
  command: Command;
  namespace?: string;
  context?: string;
  kubeconfig?: string;
}

/** DEFAULT_DASHBOARD_PORT is where `kubectl hpo dashboard` listens without --port. */
export const DEFAULT_DASHBOARD_PORT = 8484;

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** parseLoss reads a loss from the command line: a finite number, such as 0.12, -3 or 1e-4. */
export function parseLoss(text: string): number {
  const t = text.trim();
  if (/^[+-]?(nan|inf|infinity)$/i.test(t)) {
    throw new UsageError(`LOSS must be a finite number, not ${JSON.stringify(text)}`);
  }
  const n = Number(t);
  if (!numberPattern.test(t) || !Number.isFinite(n)) {
    throw new UsageError(`LOSS must be a number, such as 0.12 or 1e-3, not ${JSON.stringify(text)}`);
  }
  return n;
}

/** pluginSpec is the plugin's command line: flags anywhere, then COMMAND and its arguments. */
const pluginSpec: CommandSpec = {
  flags: {
    namespace: { type: "string", short: "n" },
    context: { type: "string" },
    kubeconfig: { type: "string" },
    status: { type: "string" },
    limit: { type: "string" },
    output: { type: "string", short: "o" },
    quiet: { type: "boolean", short: "q" },
    port: { type: "string" },
  },
  args: ["COMMAND", "ARGUMENTS"],
  variadic: true,
  usage,
};

/** parseCommandLine reads the plugin's arguments (what follows `kubectl hpo`). */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const parsed = parseFlags(argv, pluginSpec);
  if (parsed.help) return { command: { name: "help", topic: topicOf(argv) } };
  const values = {
    namespace: str(parsed.values, "namespace"),
    context: str(parsed.values, "context"),
    kubeconfig: str(parsed.values, "kubeconfig"),
    status: str(parsed.values, "status"),
    limit: str(parsed.values, "limit"),
    output: str(parsed.values, "output"),
    quiet: parsed.values.quiet === true ? "true" : undefined,
    port: str(parsed.values, "port"),
  };
  const flags = { namespace: values.namespace, context: values.context, kubeconfig: values.kubeconfig };
  const [name, ...rest] = parsed.args;
  if (name === undefined || name === "help") return { command: { name: "help", topic: rest[0] }, ...flags };
  const wrong = (message: string) => new UsageError(message, commandUsage(name));
  const need = (n: number, names: string) => {
    if (rest.length < n) throw wrong(`${name} needs ${names}`);
  };
  const outputOf = (allowed: Output[], def: Output): Output => {
    const o = (values.output ?? def) as Output;
    if (!allowed.includes(o)) {
      throw wrong(`unknown output format "${values.output}": use one of ${allowed.join(", ")}`);
    }
    return o;
  };
  const only = (allowed: string[]) => {
    for (const f of ["status", "limit", "output", "quiet", "port"] as const) {
      if (values[f] !== undefined && !allowed.includes(f)) {
        throw wrong(`${name} takes no --${f}`);
      }
    }
  };
  const noMore = (n: number) => {
    if (rest.length > n) throw wrong(`${name}: unexpected argument "${rest[n]}"`);
  };
  switch (name) {
    case "get": {
      need(1, "REQUEST");
      noMore(1);
      only(["status", "limit", "output"]);
      const status = values.status as PointStatus | undefined;
      if (status !== undefined && !pointStatusValues.includes(status)) {
        throw wrong(`unknown --status "${status}": use one of ${pointStatusValues.join(", ")}`);
      }
      let limit: number | undefined;
      if (values.limit !== undefined) {
        limit = Number(values.limit);
        if (!/^\d+$/.test(values.limit) || !Number.isSafeInteger(limit)) {
          throw wrong(`--limit must be a whole number, not ${JSON.stringify(values.limit)}`);
        }
      }
      return {
        command: {
          name,
          request: rest[0] as string,
          status,
          limit,
          output: outputOf(["table", "json", "yaml"], "table"),
        },
        ...flags,
      };
    }
    case "report":
    case "fail": {
      const what =
        name === "report"
          ? "LOSS (kubectl hpo report mnist 7 0.12)"
          : "REASON (kubectl hpo fail mnist 7 OOMKilled)";
      need(3, `REQUEST, ID and ${what}`);
      if (name === "report") noMore(3);
      only([]);
      const [request, id, ...more] = rest as [string, string, ...string[]];
      const point = { request, id: parseId(id) };
      const command: Command =
        name === "report"
          ? { name, ...point, loss: parseLoss(more[0] as string) }
          : { name, ...point, reason: more.join(" ") };
      return { command, ...flags };
    }
    case "status":
      need(1, "REQUEST");
      noMore(1);
      only(["output"]);
      return {
        command: { name, request: rest[0] as string, output: outputOf(["text", "json", "yaml"], "text") },
        ...flags,
      };
    case "watch":
      need(1, "REQUEST");
      noMore(1);
      only([]);
      return { command: { name, request: rest[0] as string }, ...flags };
    case "dashboard": {
      noMore(0);
      only(["port"]);
      const port = Number(values.port ?? DEFAULT_DASHBOARD_PORT);
      if (!/^\d{1,5}$/.test(values.port ?? "0") || port > 65535) {
        throw wrong(`--port must be a port number from 0 to 65535, not ${JSON.stringify(values.port)}`);
      }
      return { command: { name, port }, ...flags };
    }
    case "validate":
      need(1, "FILE (a manifest, or - for standard input)");
      only(["quiet"]);
      return { command: { name, files: rest, quiet: values.quiet !== undefined }, ...flags };
    default:
      throw wrong(`unknown command "${name}"`);
  }
}

function parseId(text: string): string {
  if (!/^\d{1,9}$/.test(text)) {
    throw new UsageError(`ID must be a point id (digits, such as 7), not ${JSON.stringify(text)}`);
  }
  return String(Number(text));
}

/** formatValue shows a parameter or loss compactly: numbers with at most 6 significant digits. */
export function formatValue(v: unknown): string {
  if (typeof v === "number") {
    if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
    const rounded = Number(v.toPrecision(6));
    return Math.abs(v) < 1e-3 ? rounded.toExponential() : String(rounded);
  }
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** table lays out rows under headers, columns three spaces apart, as kubectl does. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("   ")
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join("\n")}\n`;
}

/** pointsTable shows points: ID, STATE, LOSS, GENERATION, each parameter, and REASON when one failed. */
export function pointsTable(points: readonly Point[]): string {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.params)))].sort();
  const failed = points.some((p) => p.state === "Failed");
  const headers = ["ID", "STATE", "LOSS", "GENERATION", ...names, ...(failed ? ["REASON"] : [])];
  const rows = points.map((p) => [
    p.id,
    p.state,
    p.loss === undefined ? "<none>" : String(p.loss),
    String(p.generation ?? 0),
    ...names.map((n) => (n in p.params ? formatValue(p.params[n]) : "")),
    ...(failed ? [p.reason ?? ""] : []),
  ]);
  return table(headers, rows);
}

/** formatPoints prints points in an output format (json and yaml: the points exactly as stored). */
export function formatPoints(points: readonly Point[], output: Output): string {
  if (output === "json") return `${JSON.stringify(points, null, 2)}\n`;
  if (output === "yaml") return stringify(points);
  return pointsTable(points);
}

const bars = "▁▂▃▄▅▆▇█";

/**
 * sparkline draws values as block characters, lowest ▁ to highest █, at most width of them (longer
 * series are sampled evenly, keeping the last value).
 */
export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return "";
  let vs = [...values];
  if (vs.length > width) {
    const n = vs.length;
    vs = Array.from({ length: width }, (_, i) => values[Math.round((i * (n - 1)) / (width - 1))] as number);
  }
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return vs
    .map((v) => (hi === lo ? bars[0] : bars[Math.round(((v - lo) / (hi - lo)) * (bars.length - 1))]))
    .join("");
}

/** done counts the points that have an outcome. */
function done(s: RequestSummary): number {
  return s.points.evaluated + s.points.failed;
}

/** target is what the progress bar counts towards: maxPoints, else the points so far. */
function target(s: RequestSummary): number {
  return Math.max(s.maxPoints ?? 0, s.points.total, 1);
}

/** bestText names the best point: "0.12 (point 7)". */
function bestText(s: RequestSummary): string {
  return s.best ? `${formatValue(s.best.loss)} (point ${s.best.id})` : "none yet";
}

/** progressBar draws how many points have an outcome (a loss or a failure), out of maxPoints (or the points so far). */
export function progressBar(s: RequestSummary, width = 30): string {
  const t = target(s);
  const frac = s.ended && s.phase !== "Failed" ? 1 : Math.min(1, done(s) / t);
  const full = Math.round(frac * width);
  const pct = `${Math.round(frac * 100)}%`.padStart(4);
  const of = s.maxPoints === undefined ? `${done(s)}/${s.points.total}` : `${done(s)}/${s.maxPoints}`;
  return `${"█".repeat(full)}${"░".repeat(width - full)} ${pct} ${of} done · ${s.phase ?? "Pending"} · best ${bestText(s)}`;
}

/** watchLine is one plain line of progress (watch without a terminal). */
export function watchLine(s: RequestSummary, now: Date = new Date()): string {
  const time = now.toISOString().slice(11, 19);
  const of = s.maxPoints === undefined ? "" : ` of ${s.maxPoints}`;
  return (
    `${time} ${s.phase ?? "Pending"}: ${s.points.total}${of} points, ${s.points.evaluated} evaluated, ` +
    `${s.points.failed} failed, ${s.points.unevaluated} waiting; best ${bestText(s)}`
  );
}

/** statusText is what `kubectl hpo status` prints. */
export function statusText(s: RequestStatus): string {
  const rows: [string, string][] = [
    ["Request", `${s.namespace}/${s.name} (${s.method}, ${s.direction})`],
    ["Phase", s.phase ?? "none yet (the operator has not seen the request)"],
  ];
  if (s.phase && !s.observed) rows.push(["", "(the operator has not yet seen the latest spec change)"]);
  if (s.message) rows.push(["Message", s.message]);
  const cap = s.maxPoints === undefined ? "no maxPoints" : `maxPoints ${s.maxPoints}`;
  rows.push([
    "Points",
    `${s.points.total} (${cap}): ${s.points.evaluated} evaluated, ${s.points.failed} failed, ` +
      `${s.points.unevaluated} waiting for a loss`,
  ]);
  rows.push(["Generations", String(s.generations)]);
  if (s.best) {
    const params = Object.entries(s.best.params)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(" ");
    rows.push(["Best", `loss ${s.best.loss} (point ${s.best.id}) ${params}`]);
  } else rows.push(["Best", "none yet"]);
  if (s.convergence.length > 0) {
    const first = s.convergence[0] as number;
    const last = s.convergence.at(-1) as number;
    rows.push([
      "Convergence",
      `${sparkline(s.convergence)}  best so far over ${s.convergence.length} evaluated: ` +
        `${formatValue(first)} → ${formatValue(last)}`,
    ]);
  }
  if (s.conditions.length > 0) {
    rows.push(["Conditions", s.conditions.map((c) => `${c.type}=${c.status} (${c.reason})`).join(", ")]);
  }
  const w = Math.max(...rows.map(([k]) => k.length)) + 2;
  return `${rows.map(([k, v]) => `${k ? `${k}:` : ""}`.padEnd(w) + v).join("\n")}\n`;
}

/** formatStatus prints a status in an output format. */
export function formatStatus(s: RequestStatus, output: Output): string {
  if (output === "json") return `${JSON.stringify(s, null, 2)}\n`;
  if (output === "yaml") return stringify(s);
  return statusText(s);
}
