import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.ts";
import { createLogger, type Level, parseLevel } from "./log.ts";

function capture(level: Level, fields?: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createLogger({
    level,
    fields,
    stream: { write: (l) => lines.push(l) },
    now: () => Date.UTC(2026, 10, 28, 5, 12, 57, 123),
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe("createLogger", () => {
  it("writes one JSON object a line: ts, level, msg first, then fields", () => {
    const { log, lines } = capture("info", { logger: "op" });
    log.info("hello", { key: "ns/a", n: 3 });
    expect(lines).toEqual([
      '{"ts":"2026-11-28T05:12:57.123Z","level":"info","msg":"hello","logger":"op","key":"ns/a","n":3}\n',
    ]);
  });

  it("filters below its level", () => {
    const { log, parsed } = capture("warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(parsed().map((l) => l.level)).toEqual(["warn", "error"]);
    expect(log.enabled("info")).toBe(false);
    expect(log.enabled("error")).toBe(true);
  });

  it("writes every level at debug", () => {
    const { log, parsed } = capture("debug");
    for (const l of ["debug", "info", "warn", "error"] as const) log[l](l);
    expect(parsed().map((l) => l.msg)).toEqual(["debug", "info", "warn", "error"]);
  });

  it("child loggers add fields; the line's own fields win; ts/level/msg cannot be overridden", () => {
    const { log, parsed } = capture("info", { a: 1 });
    const child = log.child({ b: 2, c: "child" }).child({ d: 4 });
    child.info("m", { c: "line", msg: "spoof", level: "error" });
    log.info("parent");
    expect(parsed()).toEqual([
      { ts: "2026-11-28T05:12:57.123Z", level: "info", msg: "m", a: 1, b: 2, c: "line", d: 4 },
      { ts: "2026-11-28T05:12:57.123Z", level: "info", msg: "parent", a: 1 },
    ]);
  });

  it("serialises errors with name, message, own fields and cause; the stack only at debug", () => {
    const err = new ApiError(409, "conflict on x", { reason: "Conflict" }, { cause: new Error("inner") });
    const info = capture("info");
    info.log.error("failed", { err });
    const line = info.parsed()[0] as { err: Record<string, unknown> };
    expect(line.err).toMatchObject({
      name: "ApiError",
      message: "conflict on x",
      statusCode: 409,
      reason: "Conflict",
    });
    expect(line.err.cause).toEqual({ name: "Error", message: "inner" });
    expect(line.err.stack).toBeUndefined();
    const debug = capture("debug");
    debug.log.error("failed", { err });
    const dl = debug.parsed()[0] as { err: Record<string, unknown> };
    expect(String(dl.err.stack)).toContain("conflict on x");
    expect((dl.err.cause as Record<string, unknown>).stack).toBeDefined();
  });

  it("never throws on values JSON cannot write", () => {
    const { log, parsed } = capture("info");
    const cyclic: Record<string, unknown> = { name: "x" };
    cyclic.self = cyclic;
    const shared = { v: 1 };
    log.info("odd", { big: 10n, cyclic, pair: [shared, shared], skipped: undefined });
    expect(parsed()[0]).toEqual({
      ts: "2026-11-28T05:12:57.123Z",
      level: "info",
      msg: "odd",
      big: "10",
      cyclic: { name: "x", self: "[Circular]" },
      pair: [{ v: 1 }, "[Circular]"],
    });
    log.info("shared", { pair: [shared, shared] });
    expect(parsed()[1]?.pair).toEqual([{ v: 1 }, { v: 1 }]);
  });
});

describe("parseLevel", () => {
  it("reads level names and refuses others with the list", () => {
    expect(parseLevel(" WARN ")).toBe("warn");
    expect(() => parseLevel("verbose")).toThrow(/debug, info, warn, error/);
  });
});
