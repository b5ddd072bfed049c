/**
 * The dashboard's pure part on the server: requests, points, generations, Jobs and Events turned
 * into the wire format (wire.ts), and the points exported as CSV or JSON. No I/O here.
 */
import type { HPORequest, HyperParameterSet, Point } from "../api/index.ts";
import { pointsOfSet } from "../api/index.ts";
import type {
  ConditionRow,
  EventRow,
  GenerationRow,
  ParamInfo,
  PointRow,
  PointStateCode,
  PointsHeader,
  RequestRow,
} from "./wire.ts";
import { POINT_COLUMNS, pointColumnsAt, pointFrameBytes } from "./wire.ts";

/** Job is the part of a batch/v1 Job the dashboard reads. */
export interface Job {
  metadata?: { name?: string; labels?: Record<string, string>; creationTimestamp?: string };
  status?: {
    startTime?: string;
    completionTime?: string;
    failed?: number;
    succeeded?: number;
    active?: number;
    conditions?: { type: string; status: string; message?: string }[];
  };
}

/** Pod is the part of a Pod the dashboard reads. */
export interface Pod {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { phase?: string };
}

/** KubeEvent is the part of a core/v1 Event the dashboard reads. */
export interface KubeEvent {
  metadata?: { name?: string; creationTimestamp?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
  involvedObject?: { kind?: string; name?: string };
}

/** rowOf is the requests page's line of a request. */
export function rowOf(req: HPORequest): RequestRow {
  const st = req.status;
  const best = st?.best;
  return {
    namespace: req.metadata?.namespace ?? "",
    name: req.metadata?.name ?? "",
    uid: req.metadata?.uid ?? "",
    method: req.spec.method,
    direction: req.spec.objective?.direction ?? "minimize",
    phase: st?.phase,
    message: st?.message ?? (st?.phase ? "" : "waiting for the operator to pick up the request"),
    evaluated: st?.points?.evaluated ?? 0,
    failed: st?.points?.failed ?? 0,
    total: st?.points?.total ?? 0,
    maxPoints: req.spec.maxPoints,
    bestLoss: best?.loss,
    bestId: best?.id,
    generations: st?.generations ?? 0,
    created: req.metadata?.creationTimestamp,
  };
}

/** paramsOf lists a request's parameters: its search space, then names only its points use. */
export function paramsOf(req: HPORequest, points: readonly Point[] = []): ParamInfo[] {
  const out: ParamInfo[] = Object.entries(req.spec.searchSpace ?? {}).map(([name, p]) => ({
    name,
    type: p.type,
    ...(p.low !== undefined ? { low: p.low } : {}),
    ...(p.high !== undefined ? { high: p.high } : {}),
    ...(p.log ? { log: true } : {}),
    ...(p.choices ? { choices: p.choices } : {}),
  }));
  const known = new Set(out.map((p) => p.name));
  // Built-in methods propose exactly the search space; other generators may add names.
  if (out.length > 0 && req.spec.method !== "container") return out;
  for (const point of points) {
    for (const [name, value] of Object.entries(point.params)) {
      if (known.has(name)) continue;
      known.add(name);
      out.push({ name, type: typeof value === "number" ? "float" : "categorical" });
    }
  }
  return out;
}

const stateCode: Record<Point["state"], PointStateCode> = { New: 0, Evaluated: 1, Failed: 2 };

/** pointRowOf is one point in the order of params. */
export function pointRowOf(p: Point, params: readonly ParamInfo[]): PointRow {
  const row: PointRow = {
    id: Number(p.id),
    generation: p.generation,
    state: stateCode[p.state],
    loss: p.loss ?? null,
    values: params.map((q) => p.params[q.name] ?? null),
  };
  if (p.reason !== undefined) row.reason = p.reason;
  return row;
}

/**
 * encodePoints lays points (in id order) out in the binary format of PointsHeader: id, generation,
 * state and loss as float64 columns, each parameter as a float32 column (its value, ~7 significant
 * digits, or a category's index), so a browser reads 100,000 points without parsing them. The
 * exports (CSV, JSON) keep every digit.
 */
export function encodePoints(points: readonly Point[], params: readonly ParamInfo[]): Buffer {
  const n = points.length;
  const categories: Record<string, unknown[]> = {};
  const fixed = Array.from({ length: POINT_COLUMNS }, () => new Float64Array(n));
  const cols = params.map((p) => encodeParam(points, p, categories));
  const reasons: Record<string, string> = {};
  points.forEach((p, i) => {
    (fixed[0] as Float64Array)[i] = Number(p.id);
    (fixed[1] as Float64Array)[i] = p.generation;
    (fixed[2] as Float64Array)[i] = stateCode[p.state];
    (fixed[3] as Float64Array)[i] = p.loss ?? Number.NaN;
    if (p.reason !== undefined) reasons[p.id] = p.reason;
  });
  const header: PointsHeader = { count: n, params: params.map((p) => p.name), categories, reasons };
  const json = Buffer.from(JSON.stringify(header));
  const offset = pointColumnsAt(json.length);
  const out = Buffer.alloc(pointFrameBytes(json.length, header));
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let at = offset;
  for (const c of [...fixed, ...cols]) {
    out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  return out;
}

/** encodeParam is one parameter's column: numbers, or for a categorical one indices into categories. */
function encodeParam(
  points: readonly Point[],
  p: ParamInfo,
  categories: Record<string, unknown[]>,
): Float32Array {
  const col = new Float32Array(points.length).fill(Number.NaN);
  const categorical =
    p.type === "categorical" ||
    points.some((pt) => pt.params[p.name] !== undefined && typeof pt.params[p.name] !== "number");
  if (!categorical) {
    points.forEach((pt, i) => {
      const v = pt.params[p.name];
      if (typeof v === "number") col[i] = v;
    });
    return col;
  }
  const values = [...(p.choices ?? [])];
  const seen = new Map(values.map((v, i) => [JSON.stringify(v), i]));
  points.forEach((pt, i) => {
    const v = pt.params[p.name];
    if (v === undefined || v === null) return;
    const key = JSON.stringify(v);
    let k = seen.get(key);
    if (k === undefined) {
      k = seen.size;
      seen.set(key, k);
      values.push(v);
    }
    col[i] = k;
  });
  categories[p.name] = values;
  return col;
}

/**
 * changedPoints lists the points of a set that are new or whose outcome changed since its previous
 * copy (all of them when there was none): what a live update sends.
 */
export function changedPoints(
  set: HyperParameterSet,
  old: HyperParameterSet | undefined,
  initial: Parameters<typeof pointsOfSet>[1],
): Point[] {
  const now = pointsOfSet(set, initial);
  if (!old) return [...now];
  const before = new Map(pointsOfSet(old, initial).map((p) => [p.id, p]));
  return now.filter((p) => {
    const b = before.get(p.id);
    return !b || b.state !== p.state || b.loss !== p.loss;
  });
}

/** conditionRows are a request's conditions for the page. */
export function conditionRows(req: HPORequest | undefined): ConditionRow[] {
  return (req?.status?.conditions ?? []).map((c) => ({
    type: c.type,
    status: c.status,
    reason: c.reason,
    message: c.message,
    lastTransitionTime: c.lastTransitionTime,
  }));
}

/** eventRows are events, newest first, at most limit of them. */
export function eventRows(events: readonly KubeEvent[], limit = 200): EventRow[] {
  const rows = events.map((e) => ({
    type: e.type ?? "Normal",
    reason: e.reason ?? "",
    message: e.message ?? "",
    object: `${(e.involvedObject?.kind ?? "").toLowerCase()}/${e.involvedObject?.name ?? ""}`,
    count: e.series?.count ?? e.count ?? 1,
    last: e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp,
  }));
  rows.sort((a, b) => (b.last ?? "").localeCompare(a.last ?? ""));
  return rows.slice(0, limit);
}

const seconds = (from?: string, to?: string): number | undefined => {
  if (!from || !to) return undefined;
  const d = (Date.parse(to) - Date.parse(from)) / 1000;
  return Number.isFinite(d) ? d : undefined;
};

/**
 * generationsOf summarises each generation: its points (ids, outcomes) and, for a container
 * generator, its Jobs (one per attempt, labelled hpo.dev/generation), their pods, duration and
 * failures. The request's status.lastGeneration adds the state and message of the latest one.
 */
export function generationsOf(
  req: HPORequest,
  points: readonly Point[],
  jobs: readonly Job[] = [],
  pods: readonly Pod[] = [],
): GenerationRow[] {
  const rows = new Map<number, GenerationRow>();
  const row = (n: number): GenerationRow => {
    let r = rows.get(n);
    if (!r) {
      r = { number: n, points: 0, evaluated: 0, failed: 0 };
      rows.set(n, r);
    }
    return r;
  };
  for (const p of points) {
    const r = row(p.generation);
    const id = Number(p.id);
    r.points++;
    if (p.state === "Evaluated") r.evaluated++;
    if (p.state === "Failed") r.failed++;
    r.firstId = Math.min(r.firstId ?? id, id);
    r.lastId = Math.max(r.lastId ?? id, id);
  }
  for (const job of jobs) {
    const n = Number(job.metadata?.labels?.["hpo.dev/generation"]);
    if (!Number.isInteger(n)) continue;
    const r = row(n);
    const name = job.metadata?.name ?? "";
    // Retries are later Jobs of the same generation: the latest one describes it.
    if (r.job === undefined || name > r.job) {
      r.job = name;
      r.startedAt = job.status?.startTime;
      r.completedAt = job.status?.completionTime;
      r.durationSeconds = seconds(job.status?.startTime, job.status?.completionTime);
      r.state = jobState(job);
    }
    r.failures = (r.failures ?? 0) + (job.status?.failed ?? 0);
    r.pods = [
      ...(r.pods ?? []),
      ...pods
        .filter((p) => p.metadata?.labels?.["batch.kubernetes.io/job-name"] === name)
        .map((p) => `${p.metadata?.name ?? ""} (${p.status?.phase ?? "Unknown"})`),
    ];
  }
  const last = req.status?.lastGeneration;
  if (last?.number !== undefined) {
    const r = row(last.number);
    r.state ??= last.state;
    r.startedAt ??= last.startedAt;
    r.completedAt ??= last.completedAt;
    r.durationSeconds ??= seconds(last.startedAt, last.completedAt);
    r.job ??= last.job;
    if (last.message) r.message = last.message;
  }
  return [...rows.values()].sort((a, b) => a.number - b.number);
}

function jobState(job: Job): string {
  const done = job.status?.conditions?.find((c) => c.status === "True" && /Complete|Failed/.test(c.type));
  if (done) return done.type === "Complete" ? "Succeeded" : "Failed";
  return job.status?.active ? "Running" : "Pending";
}

const stateName = ["new", "evaluated", "failed"];

/** csvField quotes a CSV field when it needs it (RFC 4180). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** csvLines yields the points as CSV: a header, then one line per point. */
export function* csvLines(points: readonly PointRow[], params: readonly ParamInfo[]): Generator<string> {
  yield `${["id", "generation", "state", "loss", "reason", ...params.map((p) => p.name)].map(csvField).join(",")}\n`;
  for (const p of points) {
    yield `${[p.id, p.generation, stateName[p.state], p.loss, p.reason, ...p.values].map(csvField).join(",")}\n`;
  }
}

/** jsonPoint is one point as the JSON export writes it (the shape of kubectl hpo get -o json). */
export function jsonPoint(p: PointRow, params: readonly ParamInfo[]): Record<string, unknown> {
  return {
    id: String(p.id),
    generation: p.generation,
    state: ["New", "Evaluated", "Failed"][p.state],
    ...(p.loss !== null ? { loss: p.loss } : {}),
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    params: Object.fromEntries(params.map((q, j) => [q.name, p.values[j]])),
  };
}

/** parseStateFilter reads ?state= of an export: new, evaluated, failed (comma-separated) or all. */
export function parseStateFilter(text: string | null): Set<PointStateCode> | Error {
  if (!text || text === "all") return new Set([0, 1, 2]);
  const out = new Set<PointStateCode>();
  for (const s of text.split(",")) {
    const i = stateName.indexOf(s.trim());
    if (i < 0) return new Error(`unknown state "${s}": use new, evaluated, failed or all`);
    out.add(i as PointStateCode);
  }
  return out;
}
