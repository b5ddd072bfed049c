/**
 * Translates the search-space forms that iDDS users already write in opt_space into a SearchSpace:
 *
 * - bayes_opt bounds, `{"A": [1, 4]}`: a two-number list is a float range (bayes_opt is continuous,
 *   so integer bounds still give a float; write `{"type": "int", ...}` for whole numbers);
 * - a plain list of any other length, or of non-numbers, `{"opt": ["adam", "sgd"]}`: categorical;
 * - nevergrad, `{"type": "Choice" | "TransitionChoice", "params": {"choices": [...]}}` (categorical),
 *   `{"type": "Scalar", "bounds": [lo, hi]}` (float; int with `"integer": true`),
 *   `{"type": "Log", "bounds": [lo, hi]}` (float on a log scale),
 *   `{"type": "Array", "params": {"shape": [1]}, "bounds": [lo, hi]}` (a one-element array: a float);
 *   bounds may also be given as params.lower / params.upper;
 * - the canonical form, `{"type": "float" | "int" | "categorical", ...}`, entry by entry;
 * - a single string, number or boolean: a fixed value (a categorical with one choice).
 */

import {
  categoricalDim,
  compileCanonicalEntry,
  compileEntries,
  describe,
  fail,
  isCanonicalEntry,
  isParamValue,
  isRecord,
  numericDim,
  type Result,
} from "./canonical.ts";
import type { Dim, SearchSpace } from "./types.ts";

const nevergradTypes = ["Choice", "TransitionChoice", "Scalar", "Log", "Array"];

/** translateOptSpace compiles an opt_space in any of the iDDS forms (or the canonical one) into a SearchSpace. */
export function translateOptSpace(optSpace: unknown): Result<SearchSpace> {
  if (!isRecord(optSpace)) {
    return fail(`opt_space must be a map from parameter name to its definition (got ${describe(optSpace)})`);
  }
  return compileEntries(optSpace, translateEntry);
}

/** translateEntry translates one opt_space entry. */
export function translateEntry(name: string, raw: unknown): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  if (Array.isArray(raw)) return translateList(name, raw);
  if (isParamValue(raw)) return categoricalDim(name, [raw]);
  if (!isRecord(raw)) return fail(`${where}: cannot read ${describe(raw)} as a parameter definition`);
  if (isCanonicalEntry(raw)) return compileCanonicalEntry(name, raw);
  if (typeof raw.type !== "string") {
    return fail(
      `${where}: missing "type"; use a nevergrad type (${nevergradTypes.join(", ")}), ` +
        "a canonical one (float, int, categorical), [low, high] bounds or a list of choices",
    );
  }
  return translateNevergrad(name, raw.type, raw);
}

function translateList(name: string, list: unknown[]): Result<Dim> {
  const [a, b] = list;
  if (list.length === 2 && typeof a === "number" && typeof b === "number") {
    if (b < a)
      return fail(`parameter ${JSON.stringify(name)}: bounds [${a}, ${b}] must be given as [low, high]`);
    return numericDim(name, "float", a, b, false);
  }
  return categoricalDim(name, list);
}

function translateNevergrad(name: string, type: string, raw: Record<string, unknown>): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  const params = isRecord(raw.params) ? raw.params : {};
  const repetitions = params.repetitions ?? raw.repetitions;
  if (repetitions !== undefined && repetitions !== 1) {
    return fail(
      `${where}: repetitions (vector parameters) are not supported; define one parameter per component`,
    );
  }
  switch (type) {
    case "Choice":
    case "TransitionChoice":
      return categoricalDim(name, choicesOf(params.choices ?? raw.choices));
    case "Scalar":
    case "Log":
    case "Array":
      return translateBounded(name, type, raw, params);
    default:
      return fail(
        `${where}: unknown type ${JSON.stringify(type)}; expected one of ${nevergradTypes.join(", ")} ` +
          "(nevergrad) or float, int, categorical",
      );
  }
}

/** choicesOf accepts nevergrad's integer shorthand Choice(n) for range(n). */
function choicesOf(choices: unknown): unknown {
  if (typeof choices === "number" && Number.isInteger(choices) && choices > 0) {
    return Array.from({ length: choices }, (_, i) => i);
  }
  return choices;
}

function translateBounded(
  name: string,
  type: string,
  raw: Record<string, unknown>,
  params: Record<string, unknown>,
): Result<Dim> {
  const where = `parameter ${JSON.stringify(name)}`;
  if (type === "Array") {
    const shape = params.shape ?? raw.shape;
    const size = Array.isArray(shape) ? shape.reduce((p: number, s) => p * Number(s), 1) : 1;
    if (size !== 1) {
      return fail(
        `${where}: an Array of shape ${describe(shape)} is a vector; define one parameter per component`,
      );
    }
  }
  const bounds = raw.bounds ?? params.bounds;
  const [low, high] = Array.isArray(bounds) ? bounds : [params.lower ?? raw.lower, params.upper ?? raw.upper];
  if (low === undefined || low === null || high === undefined || high === null) {
    return fail(
      `${where}: a ${type} needs bounds, e.g. "bounds": [0, 5] (unbounded parameters cannot be searched)`,
    );
  }
  const integer = raw.integer === true || params.integer === true;
  if (!integer) return numericDim(name, "float", low, high, type === "Log");
  if (typeof low !== "number" || typeof high !== "number")
    return numericDim(name, "int", low, high, type === "Log");
  return numericDim(name, "int", Math.ceil(low), Math.floor(high), type === "Log");
}
