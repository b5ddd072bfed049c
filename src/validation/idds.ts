/**
 * idds_input.json, the input document of a generator (what the operator writes into the input
 * ConfigMap, stage-in copies into the working folder, and `hpo-operator generate` reads), checked
 * with ajv against one JSON Schema, compiled once on first use:
 *
 *   {"points": [[point, loss], ...], "opt_space": {...} | null}
 *
 * A point is an object; its loss is a number (evaluated), null or absent (pending), or anything
 * else (failed). opt_space is a map whose entries the search-space compiler reads
 * (src/generators/idds-space.ts says which forms), or null for a container generator without one.
 */
import type { ValidateFunction } from "ajv";
import { describe } from "../generators/canonical.ts";
import { dataAjv } from "./points.ts";

/** inputSchema is the JSON Schema of idds_input.json. */
export const inputSchema = {
  type: "object",
  properties: {
    points: {
      type: "array",
      items: {
        type: "array",
        minItems: 1,
        maxItems: 2,
        items: [{ type: "object" }, {}],
        additionalItems: false,
      },
    },
    opt_space: { type: ["object", "null"] },
  },
} as const;

let validator: ValidateFunction | undefined;

/** IddsInput is idds_input.json once checked. */
export interface IddsInput {
  points: [Record<string, unknown>, unknown?][];
  opt_space?: Record<string, unknown> | null;
}

/** where writes a JSON pointer as the document's path: "points"[3][0]. */
function where(pointer: string): string {
  const [first, ...rest] = pointer.slice(1).split("/");
  return `${JSON.stringify(first)}${rest.map((s) => `[${s}]`).join("")}`;
}

/**
 * checkInput checks a parsed idds_input.json; the error names the place, e.g.
 * `"points"[0] must be [point, loss] with point an object; got [1,2]`.
 */
export function checkInput(doc: unknown): { ok: true; value: IddsInput } | { ok: false; error: string } {
  validator ??= dataAjv().compile(inputSchema);
  if (validator(doc)) return { ok: true, value: doc as IddsInput };
  const e = (validator.errors ?? [])[0];
  const pointer = e?.instancePath ?? "";
  const parts = pointer.split("/");
  if (pointer === "") {
    return {
      ok: false,
      error: `the document must be an object {"points": [...], "opt_space": ...}; got ${describe(doc)}`,
    };
  }
  if (parts.length === 2 && parts[1] === "points") {
    return { ok: false, error: `"points" must be a list of [point, loss] pairs` };
  }
  if (parts[1] === "points") {
    const pair = (doc as { points: unknown[] }).points[Number(parts[2])];
    return {
      ok: false,
      error: `${where(parts.slice(0, 3).join("/"))} must be [point, loss] with point an object; got ${describe(pair)}`,
    };
  }
  return {
    ok: false,
    error: `${where(pointer)} must be a map of parameters, or null; got ${describe((doc as Record<string, unknown>).opt_space)}`,
  };
}
