/**
 * The iDDS container protocol, as pure functions: the placeholders in a generator's command and
 * args, the idds_input.json document, and the check of what a generator wrote.
 */
import type { ValidateFunction } from "ajv";
import type { HPORequest, Point } from "../api/index.ts";
import { dataAjv } from "../validation/points.ts";

/** INPUT_FILE is the input document's name in the working directory (what %IN becomes). */
export const INPUT_FILE = "idds_input.json";

/** UNCAPPED is what %MAX_POINTS becomes for a request without maxPoints (the CRD's largest maxPoints). */
export const UNCAPPED = 1_000_000;

/** PROTOCOL_ARGS is the usual argument list of an iDDS steering container (and of method: nevergrad). */
export const PROTOCOL_ARGS: readonly string[] = [
  "--max_points=%MAX_POINTS",
  "--num_points=%NUM_POINTS",
  "--input=%IN",
  "--output=%OUT",
];

/** Placeholders are the values substituted for %MAX_POINTS, %NUM_POINTS, %IN and %OUT. */
export interface Placeholders {
  maxPoints: number;
  numPoints: number;
  input: string;
  output: string;
}

/** substitute replaces the iDDS placeholders in one argument. */
export function substitute(arg: string, p: Placeholders): string {
  return arg
    .replaceAll("%MAX_POINTS", String(p.maxPoints))
    .replaceAll("%NUM_POINTS", String(p.numPoints))
    .replaceAll("%IN", p.input)
    .replaceAll("%OUT", p.output);
}

/** placeholdersFor gives the values of a request's generation that asks for count points. */
export function placeholdersFor(req: HPORequest, count: number): Placeholders {
  return {
    maxPoints: req.spec.maxPoints ?? UNCAPPED,
    numPoints: count,
    input: INPUT_FILE,
    output: req.spec.generator?.outputFile ?? "output.json",
  };
}

/**
 * inputDocument is idds_input.json: every point with its loss (null when it has none), in id order,
 * and the space: spec.optSpace verbatim, or the canonical searchSpace when optSpace is empty.
 */
export function inputDocument(req: HPORequest, points: readonly Point[]): string {
  const opt = req.spec.optSpace;
  const hasOpt = opt !== undefined && Object.keys(opt).length > 0;
  const hasSpace = req.spec.searchSpace !== undefined && Object.keys(req.spec.searchSpace).length > 0;
  const optSpace = hasOpt ? opt : hasSpace ? req.spec.searchSpace : null;
  const list = points.map((p) => [p.params, p.state === "Evaluated" && p.loss !== undefined ? p.loss : null]);
  return JSON.stringify({ points: list, opt_space: optSpace });
}

/** outputSchema is the JSON Schema of a generator's output: a list of points (objects). */
export const outputSchema = { type: "array", items: { type: "object" } } as const;

let outputValidator: ValidateFunction | undefined;

/**
 * checkOutput parses a generator's output: a JSON list of objects ([] means no more points). Whether
 * the points lie in the request's space is checkBatch's question (src/validation/points.ts).
 */
export function checkOutput(
  text: string,
): { ok: true; points: Record<string, unknown>[] } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `the output is not valid JSON: ${(e as Error).message}` };
  }
  outputValidator ??= dataAjv().compile(outputSchema);
  if (outputValidator(value)) return { ok: true, points: value as Record<string, unknown>[] };
  if (!Array.isArray(value))
    return { ok: false, error: `the output must be a JSON list of points, got ${typeof value}` };
  const i = Number((outputValidator.errors?.[0]?.instancePath ?? "/0").split("/")[1]);
  return {
    ok: false,
    error: `point ${i + 1} of the output is not an object of parameter values: ${JSON.stringify(value[i])?.slice(0, 100)}`,
  };
}
