/**
 * The frame in which stage-out prints the generator's output to its log, so the operator can read
 * it through the API server and tell a complete, intact output from a truncated or garbled one:
 *
 *   ---HPO-OUTPUT v1 bytes=<length of the JSON> sha256=<hex of the JSON> encoding=gzip+base64---
 *   <base64 of the gzip of the JSON, 76 characters a line>
 *   ---HPO-OUTPUT END---
 *
 * Gzip keeps a large output (10 MB of points) small in the log. The reader takes a limit: an output
 * over it is refused before it is decompressed, and decompression stops at the limit.
 */
import { constants } from "node:buffer";
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { formatBytes } from "./bytes.ts";

const BEGIN = /^---HPO-OUTPUT v1 bytes=(\d+) sha256=([0-9a-f]{64}) encoding=gzip\+base64---$/;
const END = "---HPO-OUTPUT END---";

/** frameOutput returns the log text that carries json. */
export function frameOutput(json: string): string {
  const raw = Buffer.from(json, "utf8");
  const sha = createHash("sha256").update(raw).digest("hex");
  const b64 = gzipSync(raw).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return `---HPO-OUTPUT v1 bytes=${raw.length} sha256=${sha} encoding=gzip+base64---\n${lines.join("\n")}\n${END}\n`;
}

/** Unframed is the JSON text found in a log, or why none could be read. */
export type Unframed = { ok: true; json: string } | { ok: false; error: string };

/** overLimit is the message of an output larger than the operator takes. */
export function overLimit(bytes: number | undefined, limit: number): string {
  const size = bytes === undefined ? "larger than" : `${bytes} bytes, over`;
  return `the generator's output is ${size} the limit of ${formatBytes(limit)} (the operator's --generator-output-limit)`;
}

/**
 * unframeOutput finds the last frame in a log and checks its length and checksum; an output over
 * maxBytes is refused, naming the limit.
 */
export function unframeOutput(log: string, maxBytes = Number.MAX_SAFE_INTEGER): Unframed {
  const lines = log.split(/\r?\n/);
  let begin = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (BEGIN.test(lines[i] ?? "")) {
      begin = i;
      break;
    }
  }
  if (begin < 0)
    return { ok: false, error: "stage-out printed no output frame (the log holds no ---HPO-OUTPUT line)" };
  const m = BEGIN.exec(lines[begin] ?? "") as RegExpExecArray;
  const end = lines.indexOf(END, begin + 1);
  if (end < 0)
    return { ok: false, error: "the output frame in the stage-out log is cut short (no END line)" };
  if (Number(m[1]) > maxBytes) return { ok: false, error: overLimit(Number(m[1]), maxBytes) };
  let raw: Buffer;
  try {
    // Only base64 lines belong to the frame: a log merges stdout and stderr, so a line of the other
    // stream may stand between them.
    const data = lines.slice(begin + 1, end).filter((l) => /^[A-Za-z0-9+/=]{1,76}$/.test(l));
    // A header may lie about the size: decompression itself stops at the limit.
    raw = gunzipSync(Buffer.from(data.join(""), "base64"), {
      maxOutputLength: Math.min(maxBytes, constants.MAX_LENGTH),
    });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
      return { ok: false, error: overLimit(undefined, maxBytes) };
    return { ok: false, error: `the output frame does not decode: ${(e as Error).message}` };
  }
  if (raw.length !== Number(m[1])) {
    return { ok: false, error: `the output frame holds ${raw.length} bytes, its header says ${m[1]}` };
  }
  const sha = createHash("sha256").update(raw).digest("hex");
  if (sha !== m[2]) return { ok: false, error: "the output frame's checksum does not match its content" };
  return { ok: true, json: raw.toString("utf8") };
}
