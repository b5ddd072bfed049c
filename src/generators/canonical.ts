/**
 * The canonical search-space entry ({type: float|int|categorical, low, high, log, step, choices})
 * compiled into a Dim, and the small helpers every space translation shares.
 */
import type { Dim, FloatDim, IntDim, ParamValue, SearchSpace } from "./types.ts";

/** Result is a value or an error message meant for the user. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** ok wraps a value in a successful Result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** fail wraps an error message in a failed Result. */
export function fail<T>(error: string): Result<T> {
  return { ok: false, error };
}

const canonicalTypes = ["float", "int", "categorical"];

/** isCanonicalEntry reports whether raw looks like a canonical entry ({type: float|int|categorical, ...}). */
export function isCanonicalEntry(raw: unknown): boolean {
  return isRecord(raw) && typeof raw.type === "string" && canonicalTypes.includes(raw.type);
}

/** compileCanonicalEntry compiles one canonical entry into a Dim. */
export function compileCanonicalEntry(name: string, raw: unknown): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  if (!isRecord(raw)) return fail(`${where}: expected {type, ...}, got ${describe(raw)}`);
  if (raw.type === "categorical") return categoricalDim(name, raw.choices);
  if (raw.type !== "float" && raw.type !== "int") {
    return fail(`${where}: type must be one of float, int, categorical (got ${describe(raw.type)})`);
  }
  if (raw.log !== undefined && typeof raw.log !== "boolean")
    return fail(`${where}: log must be true or false`);
  if (
    raw.step !== undefined &&
    (typeof raw.step !== "number" || !(raw.step > 0) || !Number.isFinite(raw.step))
  ) {
    return fail(`${where}: step must be a positive number (got ${describe(raw.step)})`);
  }
  return numericDim(name, raw.type, raw.low, raw.high, raw.log === true, raw.step as number | undefined);
}

/** numericDim builds and validates a float or int dimension. */
export function numericDim(
  name: string,
  kind: "float" | "int",
  low: unknown,
  high: unknown,
  log: boolean,
  step?: number,
): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  if (typeof low !== "number" || !Number.isFinite(low))
    return fail(`${where}: low must be a number (got ${describe(low)})`);
  if (typeof high !== "number" || !Number.isFinite(high)) {
    return fail(`${where}: high must be a number (got ${describe(high)})`);
  }
  if (high < low) return fail(`${where}: high (${high}) must not be below low (${low})`);
  if (log && low <= 0) return fail(`${where}: a log scale needs low > 0 (got low = ${low})`);
  if (log && step !== undefined) return fail(`${where}: step cannot be combined with log; drop one of them`);
  if (kind === "int") {
    if (!Number.isInteger(low) || !Number.isInteger(high)) {
      return fail(`${where}: an int needs whole-number bounds (got low = ${low}, high = ${high})`);
    }
    if (step !== undefined && !Number.isInteger(step))
      return fail(`${where}: an int's step must be a whole number`);
  }
  const dim = { name, kind, low, high, log } as FloatDim | IntDim;
  if (step !== undefined) dim.step = step;
  return ok(dim);
}

/** categoricalDim builds and validates a categorical dimension. */
export function categoricalDim(name: string, choices: unknown): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  if (!Array.isArray(choices) || choices.length === 0) {
    return fail(`${where}: a categorical needs a non-empty list of choices (got ${describe(choices)})`);
  }
  const seen = new Set<string>();
  for (const c of choices) {
    if (!isParamValue(c))
      return fail(`${where}: choices must be strings, numbers or booleans (got ${describe(c)})`);
    const key = JSON.stringify(c);
    if (seen.has(key)) return fail(`${where}: choice ${key} is listed twice`);
    seen.add(key);
  }
  return ok({ name, kind: "categorical", choices: [...choices] });
}

/** describeDim renders a dimension for messages, e.g. "int [1, 8]" or "one of [\"adam\",\"sgd\"]". */
export function describeDim(dim: Dim): string {
  if (dim.kind === "categorical") return `one of ${JSON.stringify(dim.choices)}`;
  const extras = [dim.log ? "log" : "", dim.step !== undefined ? `step ${dim.step}` : ""].filter(Boolean);
  return `${dim.kind} [${dim.low}, ${dim.high}]${extras.length ? ` (${extras.join(", ")})` : ""}`;
}

/** isRecord reports whether x is a plain JSON object. */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** isParamValue reports whether x can be a parameter value (a string, finite number or boolean). */
export function isParamValue(x: unknown): x is ParamValue {
  return typeof x === "string" || typeof x === "boolean" || (typeof x === "number" && Number.isFinite(x));
}

/** describe renders any JSON value for an error message, cut at limit characters. */
export function describe(x: unknown, limit = 60): string {
  if (x === undefined) return "nothing";
  const text = JSON.stringify(x) ?? String(x);
  return text.length > limit ? `${text.slice(0, limit - 3)}...` : text;
}

/** compileEntries compiles each entry of a map with compileOne, in name order, stopping at the first error. */
export function compileEntries(
  entries: Record<string, unknown>,
  compileOne: (name: string, raw: unknown) => Result<Dim>,
): Result<SearchSpace> {
  const dims: Dim[] = [];
  for (const name of Object.keys(entries).sort()) {
    const dim = compileOne(name, entries[name]);
    if (!dim.ok) return dim;
    dims.push(dim.value);
  }
  if (dims.length === 0) return fail("the search space has no parameters");
  return ok({ dims });
}
