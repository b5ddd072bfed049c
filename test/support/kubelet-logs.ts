/**
 * Container logs of the test kubelet: each container run's stdout and stderr go to one file in the
 * CRI log format (`<RFC3339Nano time> <stream> <F|P> <text>`), and are read back with the
 * kubelet's query options (tailLines, limitBytes, timestamps, sinceSeconds/sinceTime, stream,
 * follow).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeSync } from "node:fs";

/** Stream is a container output stream. */
export type Stream = "stdout" | "stderr";

/** maxRecord is the longest text of one record; longer lines are split into partial (P) records. */
const maxRecord = 16 * 1024;

/** rfc3339Nano formats a time as the CRI does, with nine fractional digits. */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

/** LogWriter appends one container run's output to a CRI-format log file. */
export class LogWriter {
  readonly file: string;
  private fd: number | undefined;
  private readonly pending: Record<Stream, Buffer[]> = { stdout: [], stderr: [] };

  constructor(file: string) {
    this.file = file;
    this.fd = openSync(file, "a");
  }

  /** write records a chunk of output; complete lines are written at once, the rest is held back. */
  write(stream: Stream, chunk: Buffer): void {
    const held = this.pending[stream];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      held.push(chunk.subarray(start, nl));
      this.record(stream, "F", Buffer.concat(held.splice(0)));
      start = nl + 1;
    }
    if (start < chunk.length) held.push(chunk.subarray(start));
    let size = held.reduce((n, b) => n + b.length, 0);
    while (size >= maxRecord) {
      const all = Buffer.concat(held.splice(0));
      this.record(stream, "P", all.subarray(0, maxRecord));
      held.push(all.subarray(maxRecord));
      size -= maxRecord;
    }
  }

  private record(stream: Stream, tag: "F" | "P", text: Buffer): void {
    if (this.fd === undefined) return;
    const line = Buffer.concat([
      Buffer.from(`${rfc3339Nano(Date.now())} ${stream} ${tag} `),
      text.subarray(0, text.at(-1) === 13 ? text.length - 1 : text.length),
      Buffer.from("\n"),
    ]);
    writeSync(this.fd, line);
  }

  /** close writes what is held back as partial records and closes the file. */
  close(): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = Buffer.concat(this.pending[stream].splice(0));
      if (rest.length) this.record(stream, "P", rest);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** LogRecord is one parsed record of a log file. */
export interface LogRecord {
  time: string;
  stream: Stream;
  partial: boolean;
  text: string;
}

/** parseRecords parses complete records of CRI log text (a trailing incomplete line is ignored). */
export function parseRecords(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
    if (m) out.push({ time: m[1] ?? "", stream: m[2] as Stream, partial: m[3] === "P", text: m[4] ?? "" });
  }
  return out;
}

/** LogQuery is the kubelet's container log options. */
export interface LogQuery {
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
  /** since drops records before this time (RFC 3339). */
  since?: string;
  stream?: "All" | "Stdout" | "Stderr";
  follow?: boolean;
}

/** parseQuery reads a LogQuery from the query string of a /containerLogs request. */
export function parseQuery(q: URLSearchParams, now = Date.now()): LogQuery {
  const int = (k: string) => {
    const v = q.get(k);
    if (v === null || v === "") return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`invalid ${k} ${JSON.stringify(v)}`);
    return n;
  };
  const since = int("sinceSeconds");
  const stream = q.get("stream") ?? "All";
  if (!["All", "Stdout", "Stderr"].includes(stream)) throw new Error(`invalid stream type "${stream}"`);
  const tail = q.get("tail") === "all" ? undefined : (int("tailLines") ?? int("tail"));
  return {
    tailLines: tail,
    limitBytes: int("limitBytes"),
    timestamps: q.get("timestamps") === "true",
    since:
      since !== undefined ? new Date(now - since * 1000).toISOString() : (q.get("sinceTime") ?? undefined),
    stream: stream as LogQuery["stream"],
    follow: q.get("follow") === "true",
  };
}

/** Formatter turns records into output text under a query, across the calls of a follow. */
export class Formatter {
  private readonly q: LogQuery;
  private sent = 0;
  private atLineStart: Record<Stream, boolean> = { stdout: true, stderr: true };

  constructor(q: LogQuery) {
    this.q = q;
  }

  /** full tells whether limitBytes has been reached. */
  get full(): boolean {
    return this.q.limitBytes !== undefined && this.sent >= this.q.limitBytes;
  }

  /** format returns the output for records, honouring stream, since, timestamps and limitBytes. */
  format(records: LogRecord[]): Buffer {
    const parts: Buffer[] = [];
    for (const r of records) {
      if (this.q.stream === "Stdout" && r.stream !== "stdout") continue;
      if (this.q.stream === "Stderr" && r.stream !== "stderr") continue;
      if (this.q.since && Date.parse(r.time) < Date.parse(this.q.since)) continue;
      const prefix = this.q.timestamps && this.atLineStart[r.stream] ? `${r.time} ` : "";
      parts.push(Buffer.from(`${prefix}${r.text}${r.partial ? "" : "\n"}`));
      this.atLineStart[r.stream] = !r.partial;
    }
    let out = Buffer.concat(parts);
    if (this.q.limitBytes !== undefined) out = out.subarray(0, Math.max(0, this.q.limitBytes - this.sent));
    this.sent += out.length;
    return out;
  }
}

/** tail keeps the records of the last n lines (a line is its partial records and the final one). */
export function tail(records: LogRecord[], n: number | undefined): LogRecord[] {
  if (n === undefined) return records;
  if (n === 0) return [];
  let lines = 0;
  for (let i = records.length - 1; i >= 0; i--) {
    if (!records[i]?.partial || i === records.length - 1) {
      if (lines === n) return records.slice(i + 1);
      lines++;
    }
  }
  return records;
}

/** FileCursor reads a growing log file from an offset, returning complete records only. */
export class FileCursor {
  private readonly file: string;
  private offset = 0;

  constructor(file: string) {
    this.file = file;
  }

  /** next returns the records appended since the last call. */
  next(): LogRecord[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    const end = buf.lastIndexOf(10);
    if (end < 0) return [];
    this.offset += end + 1;
    return parseRecords(buf.subarray(0, end).toString("utf8"));
  }
}

/** lastLines returns the last lines of a log file as text, within a byte limit (for termination messages). */
export function lastLines(file: string, lines: number, maxBytes: number): string {
  if (!existsSync(file)) return "";
  const f = new Formatter({});
  const text = f.format(tail(parseRecords(readFileSync(file, "utf8")), lines)).toString("utf8");
  const bytes = Buffer.from(text);
  return bytes.length <= maxBytes ? text : bytes.subarray(bytes.length - maxBytes).toString("utf8");
}
