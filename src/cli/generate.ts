/**
 * hpo-operator generate: a built-in method as a drop-in iDDS steering container.
 *
 *   hpo-operator generate --method tpe --max_points=%MAX_POINTS --num_points=%NUM_POINTS \
 *     --input=%IN --output=%OUT [--seed=7] [--direction=minimize] [--options='{"multivariate":false}']
 *
 * Reads idds_input.json ({"points": [[point, loss|null], ...], "opt_space": ...}), writes a JSON list
 * of new points ([] when the method is exhausted or max_points is reached), exits 0; on bad input it
 * prints one clear line to stderr and exits 1 (2 for bad flags).
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { builtinMethodNames, getMethod } from "../generators/methods.ts";
import { compileSearchSpace, type Result } from "../generators/space.ts";
import type { History, Params } from "../generators/types.ts";
import { checkInput } from "../validation/idds.ts";
import { checkBatch } from "../validation/points.ts";
import { type CommandSpec, parseFlags as parseArgv, str, UsageError } from "./flags.ts";

const usage =
  "usage: hpo-operator generate --method M --num_points=K --input=FILE --output=FILE\n" +
  "         [--max_points=N] [--seed=S] [--direction=minimize|maximize] [--options=JSON]\n\n" +
  "Proposes K new points with the built-in method M (bayesian, tpe, random, sobol, grid, cmaes),\n" +
  "speaking the iDDS steering container protocol: reads idds_input.json ({points, opt_space}) from\n" +
  "--input, writes a JSON list of points to --output ([] when the method is exhausted or\n" +
  "--max_points is reached; none, inf or a negative number mean no cap). Flags may be written\n" +
  "with dashes or underscores (--num-points). Exit codes: 0 done, 1 bad input, 2 bad flags.\n";

/** generateSpec is the command line of generate. */
export const generateSpec: CommandSpec = {
  flags: {
    method: { type: "string", required: true },
    max_points: { type: "string" },
    num_points: { type: "string", required: true },
    input: { type: "string", required: true },
    output: { type: "string", required: true },
    seed: { type: "string" },
    direction: { type: "string" },
    options: { type: "string" },
  },
  usage,
};

/** GenerateFlags are the parsed command-line flags of generate. */
export interface GenerateFlags {
  method: string;
  maxPoints: number;
  numPoints: number;
  input: string;
  output: string;
  seed: number;
  direction: "minimize" | "maximize";
  options: Record<string, unknown>;
}

/** runGenerate runs the generate command and returns its exit code. */
export async function runGenerate(argv: string[]): Promise<number> {
  if (parseArgv(argv, generateSpec).help) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    const flags = parseFlags(argv);
    const points = generate(flags);
    const tmp = `${flags.output}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(points)}\n`);
    renameSync(tmp, flags.output);
    process.stderr.write(`hpo-operator generate: wrote ${points.length} point(s) to ${flags.output}\n`);
    return 0;
  } catch (err) {
    // A wrong command line goes to the caller, which prints it with the usage (exit code 2).
    if (err instanceof UsageError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`hpo-operator generate: ${message}\n`);
    return 1;
  }
}

/** generate reads the input file named by flags and returns the new points. */
export function generate(flags: GenerateFlags): Params[] {
  const method = getMethod(flags.method);
  if (!method)
    throw new UsageError(
      `unknown method ${JSON.stringify(flags.method)}; valid: ${builtinMethodNames.join(", ")}`,
      usage,
    );
  const input = readInput(flags.input);
  const space = compileSearchSpace(undefined, input.optSpace);
  if (!space.ok) throw new Error(`opt_space in ${flags.input}: ${space.error}`);
  const total = input.history.evaluated.length + input.history.pending.length + input.history.failed.length;
  const count = Math.min(flags.numPoints, flags.maxPoints - total);
  if (count <= 0) return [];
  const result = method.suggest({
    space: space.value,
    history: input.history,
    count,
    seed: flags.seed,
    direction: flags.direction,
    options: flags.options,
  });
  const checked = checkBatch(space.value, result.points);
  if (!checked.ok)
    throw new Error(`method ${method.name} proposed a point outside the space: ${checked.error}`);
  return checked.value;
}

/** parseFlags parses generate's flags (--name=value or --name value; dashes and underscores alike). */
export function parseFlags(argv: string[]): GenerateFlags {
  const parsed = parseArgv(argv, generateSpec);
  // runGenerate answers --help before it parses: here it is a flag out of place.
  if (parsed.help) throw new UsageError("--help asks for the usage, not for points", usage);
  const get = (name: string) => str(parsed.values, name);
  return {
    method: get("method") as string,
    maxPoints: unwrap(parseMaxPoints(get("max_points") ?? "none")),
    numPoints: unwrap(parseCount("--num_points", get("num_points") as string)),
    input: get("input") as string,
    output: get("output") as string,
    seed: unwrap(parseSeed(get("seed") ?? "0")),
    direction: unwrap(parseDirection(get("direction") ?? "minimize")),
    options: unwrap(parseOptions(get("options") ?? "{}")),
  };
}

const uncappedWords = ["none", "null", "inf", "infinity", "unlimited", "nolimit", ""];

/**
 * parseMaxPoints reads --max_points: a whole number caps the total number of points; a negative
 * number or one of the words none, null, inf, infinity, unlimited, nolimit (any case; iDDS writes
 * "None" for a request without a cap) means no cap.
 */
export function parseMaxPoints(text: string): Result<number> {
  const t = text.trim();
  if (uncappedWords.includes(t.toLowerCase())) return { ok: true, value: Number.POSITIVE_INFINITY };
  const n = Number(t);
  if (!Number.isFinite(n)) {
    const hint = t.startsWith("%") ? " (the placeholder was not substituted)" : "";
    return {
      ok: false,
      error: `--max_points must be a whole number or one of none, inf, unlimited; got ${JSON.stringify(text)}${hint}`,
    };
  }
  return { ok: true, value: n < 0 ? Number.POSITIVE_INFINITY : Math.floor(n) };
}

function parseCount(flag: string, text: string): Result<number> {
  const n = Number(text.trim());
  if (text.trim() === "" || !Number.isInteger(n) || n < 0) {
    return { ok: false, error: `${flag} must be a whole number >= 0; got ${JSON.stringify(text)}` };
  }
  return { ok: true, value: n };
}

function parseSeed(text: string): Result<number> {
  const n = Number(text.trim());
  if (text.trim() === "" || !Number.isSafeInteger(n)) {
    return { ok: false, error: `--seed must be a whole number; got ${JSON.stringify(text)}` };
  }
  return { ok: true, value: n };
}

function parseDirection(text: string): Result<"minimize" | "maximize"> {
  if (text === "minimize" || text === "maximize") return { ok: true, value: text };
  return { ok: false, error: `--direction must be minimize or maximize; got ${JSON.stringify(text)}` };
}

function parseOptions(text: string): Result<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return { ok: true, value: value as Record<string, unknown> };
    }
  } catch {
    // reported below
  }
  return { ok: false, error: `--options must be a JSON object; got ${JSON.stringify(text)}` };
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new UsageError(result.error, usage);
  return result.value;
}

/** GenerateInput is idds_input.json, read. */
export interface GenerateInput {
  history: History;
  optSpace: unknown;
}

/**
 * readInput reads and checks idds_input.json. A point with a numeric loss is evaluated, one with a
 * null (or absent) loss is pending, and one with any other loss (such as the string "failed") is
 * failed: it is never proposed again and never modelled.
 */
export function readInput(path: string): GenerateInput {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    throw new Error(`cannot read input file ${path}${code ? ` (${code})` : ""}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`input file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const checked = checkInput(doc);
  if (!checked.ok) throw new Error(`input file ${path}: ${checked.error}`);
  return { history: toHistory(checked.value.points ?? []), optSpace: checked.value.opt_space };
}

/** toHistory splits checked [point, loss] pairs by their loss. */
function toHistory(points: [Record<string, unknown>, unknown?][]): History {
  const history: History = { evaluated: [], pending: [], failed: [] };
  for (const [params, loss] of points) {
    const p = params as Params;
    if (loss === null || loss === undefined) history.pending.push(p);
    else if (typeof loss === "number" && Number.isFinite(loss)) history.evaluated.push({ params: p, loss });
    else history.failed.push(p);
  }
  return history;
}
