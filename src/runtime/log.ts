/**
 * Structured logs: one JSON object a line, `{"ts","level","msg",...fields}`, with child loggers
 * that carry fields (a controller, a key, a reconcile id) into every line they write.
 */

/** Level is a log severity; a logger writes its own level and the ones above it. */
export type Level = "debug" | "info" | "warn" | "error";

/** Fields are the structured values of a log line. Error values are serialised. */
export type Fields = Record<string, unknown>;

/** Logger writes structured log lines. */
export interface Logger {
  readonly level: Level;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** child returns a logger that adds fields to every line (the child's fields win on a clash). */
  child(fields: Fields): Logger;
  /** enabled tells whether a line of this level would be written. */
  enabled(level: Level): boolean;
}

/** LogStream is where lines go (process.stderr by default). */
export interface LogStream {
  write(line: string): unknown;
}

/** LoggerOptions configure createLogger. */
export interface LoggerOptions {
  /** level is the lowest level written (default "info"). */
  level?: Level;
  stream?: LogStream;
  fields?: Fields;
  /** now gives the time of a line in ms since the epoch (default Date.now). */
  now?: () => number;
}

const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const reserved = new Set(["ts", "level", "msg"]);

/** LEVELS lists the levels from the most to the least verbose. */
export const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

/** parseLevel reads a level name (case-insensitive), throwing with the accepted names when it is unknown. */
export function parseLevel(name: string): Level {
  const l = name.trim().toLowerCase();
  if ((LEVELS as readonly string[]).includes(l)) return l as Level;
  throw new Error(`unknown log level "${name}": use one of ${LEVELS.join(", ")}`);
}

/** createLogger returns a Logger that writes JSON lines to options.stream. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const sink: Sink = {
    level: options.level ?? "info",
    stream: options.stream ?? process.stderr,
    now: options.now ?? Date.now,
  };
  return new JsonLogger(sink, options.fields ?? {});
}

interface Sink {
  level: Level;
  stream: LogStream;
  now: () => number;
}

class JsonLogger implements Logger {
  private readonly sink: Sink;
  private readonly fields: Fields;

  constructor(sink: Sink, fields: Fields) {
    this.sink = sink;
    this.fields = fields;
  }

  get level(): Level {
    return this.sink.level;
  }
  enabled(level: Level): boolean {
    return rank[level] >= rank[this.sink.level];
  }
  debug(msg: string, fields?: Fields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: Fields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: Fields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: Fields): void {
    this.write("error", msg, fields);
  }
  child(fields: Fields): Logger {
    return new JsonLogger(this.sink, { ...this.fields, ...fields });
  }

  private write(level: Level, msg: string, fields: Fields | undefined): void {
    if (!this.enabled(level)) return;
    const line: Fields = { ts: new Date(this.sink.now()).toISOString(), level, msg };
    const withStack = this.sink.level === "debug";
    for (const src of [this.fields, fields ?? {}]) {
      for (const [k, v] of Object.entries(src)) {
        if (!reserved.has(k) && v !== undefined) line[k] = serialise(v, withStack);
      }
    }
    this.sink.stream.write(`${stringify(line)}\n`);
  }
}

/** serialiseError turns an Error into plain fields: name, message, its own extra fields, cause, stack at debug. */
export function serialiseError(err: Error, withStack: boolean, depth = 0): Fields {
  const out: Fields = { name: err.name, message: err.message };
  for (const [k, v] of Object.entries(err)) {
    if (k !== "cause" && typeof v !== "object" && typeof v !== "function") out[k] = v;
  }
  if (err.cause !== undefined && depth < 3) {
    out.cause = err.cause instanceof Error ? serialiseError(err.cause, withStack, depth + 1) : err.cause;
  }
  if (withStack && err.stack) out.stack = err.stack;
  return out;
}

function serialise(v: unknown, withStack: boolean): unknown {
  return v instanceof Error ? serialiseError(v, withStack) : v;
}

/** stringify never throws: bigints become strings; on a cycle, repeated objects become a marker. */
function stringify(line: Fields): string {
  const plain = (_k: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
  try {
    return JSON.stringify(line, plain);
  } catch {
    const seen = new WeakSet<object>();
    try {
      return JSON.stringify(line, (k, v: unknown) => {
        if (typeof v !== "object" || v === null) return plain(k, v);
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
        return v;
      });
    } catch (e) {
      return JSON.stringify({ ts: line.ts, level: line.level, msg: line.msg, logError: String(e) });
    }
  }
}

/** noopLogger discards everything; for callers that were given no logger. */
export const noopLogger: Logger = createLogger({ level: "error", stream: { write: () => undefined } });
