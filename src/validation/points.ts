/**
 * Generator output against the request's search space, with ajv: a point is an object with exactly
 * the space's parameters, each a number within its bounds (with the rounding slack snapValue allows)
 * or one of its choices. The schema of a space is compiled once and kept (a bounded cache keyed by
 * the space); the points that pass are then canonicalised (ints rounded, steps snapped).
 *
 * checkBatch is what the built-in generator's acceptBatch (src/controller/generator.ts), stage-out
 * and `hpo-operator generate` check a batch with.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { describe, describeDim, type Result } from "../generators/canonical.ts";
import { numericStep } from "../generators/dims.ts";
import { canonicalisePoint } from "../generators/space.ts";
import type { Dim, Params, SearchSpace } from "../generators/types.ts";

let ajv: Ajv | undefined;

/** dataAjv is the ajv instance of the iDDS documents (points, idds_input.json), made on first use. */
export function dataAjv(): Ajv {
  // strictTuples off: idds_input.json's [point, loss] pair may leave out the loss.
  ajv ??= new Ajv({ allErrors: false, strict: true, strictTuples: false });
  return ajv;
}

/** dimSchema is the JSON Schema of one parameter's values. */
function dimSchema(dim: Dim): Record<string, unknown> {
  if (dim.kind === "categorical") return { enum: dim.choices };
  const step = numericStep(dim);
  const slack = step > 0 ? step * 1e-6 : (dim.high - dim.low) * 1e-12;
  return { type: "number", minimum: dim.low - slack, maximum: dim.high + slack };
}

/** pointSchema is the JSON Schema of a point of space: every parameter, and nothing else. */
export function pointSchema(space: SearchSpace): Record<string, unknown> {
  return {
    type: "object",
    required: space.dims.map((d) => d.name),
    properties: Object.fromEntries(space.dims.map((d) => [d.name, dimSchema(d)])),
    additionalProperties: false,
  };
}

const cacheSize = 256;
const compiled = new Map<string, ValidateFunction>();

/** batchValidator compiles the schema of a list of points of space, once per distinct space. */
function batchValidator(space: SearchSpace): ValidateFunction {
  const key = JSON.stringify(space.dims);
  let v = compiled.get(key);
  if (v) {
    // most recently used last, so the oldest is dropped first
    compiled.delete(key);
  } else {
    v = dataAjv().compile({ type: "array", items: pointSchema(space) });
    if (compiled.size >= cacheSize) compiled.delete(compiled.keys().next().value as string);
  }
  compiled.set(key, v);
  return v;
}

/** explain says why one point failed its schema, naming the parameter as canonicalisePoint does. */
function explain(space: SearchSpace, e: ErrorObject, point: unknown): string {
  const p = e.params as Record<string, unknown>;
  const name = decodeURIComponent(e.instancePath.split("/")[2] ?? "")
    .replaceAll("~1", "/")
    .replaceAll("~0", "~");
  if (e.keyword === "required")
    return `parameter ${JSON.stringify(p.missingProperty)}: missing from the point`;
  if (e.keyword === "additionalProperties")
    return `parameter ${JSON.stringify(p.additionalProperty)}: not in the search space`;
  if (e.instancePath.split("/").length <= 2)
    return `a point must be an object of parameter values (got ${describe(point)})`;
  const dim = space.dims.find((d) => d.name === name);
  const value = (point as Record<string, unknown>)[name];
  return `parameter ${JSON.stringify(name)}: ${describe(value)} is not in ${dim ? describeDim(dim) : "the space"}`;
}

/**
 * checkBatch checks proposed points against space and canonicalises them. On the first point
 * outside the space it fails with "point N of the batch is not in the search space: parameter
 * "x": 11 is not in float [0, 10]".
 */
export function checkBatch(space: SearchSpace, proposed: readonly unknown[]): Result<Params[]> {
  const validate = batchValidator(space);
  if (!validate(proposed)) {
    const e = (validate.errors ?? [])[0] as ErrorObject;
    const index = Number(e.instancePath.split("/")[1] ?? 0);
    const why = explain(space, e, proposed[index]);
    return { ok: false, error: `point ${index + 1} of the batch is not in the search space: ${why}` };
  }
  const points: Params[] = [];
  for (const [i, raw] of proposed.entries()) {
    const c = canonicalisePoint(space, raw);
    if (!c.ok)
      return { ok: false, error: `point ${i + 1} of the batch is not in the search space: ${c.error}` };
    points.push(c.value);
  }
  return { ok: true, value: points };
}
