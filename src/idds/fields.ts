/**
 * Reading the fields of an iDDS request body: the typed error that names the iDDS field (its JSON
 * path, such as `request_metadata.max_points`) and says what to do, and small readers that throw it.
 * Pure.
 */
import { describe, isRecord } from "../generators/canonical.ts";

/**
 * IddsConversionError is an iDDS request (or one of its fields) that cannot be translated into an
 * HPORequest. field is the JSON path of the field in the iDDS request ("" for the request itself);
 * the message starts with it and says what to change.
 */
export class IddsConversionError extends Error {
  /** field is the iDDS field's JSON path, such as request_metadata.opt_space.A. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.name = "IddsConversionError";
    this.field = field;
  }
}

/** Fields is one JSON object of the request and the path that leads to it, for messages. */
export interface Fields {
  path: string;
  values: Record<string, unknown>;
}

/** at is the JSON path of key inside fields. */
export function at(fields: Fields, key: string): string {
  return fields.path ? `${fields.path}.${key}` : key;
}

/** isAbsent reports whether an iDDS value means "not set": missing, null or "". */
export function isAbsent(v: unknown): boolean {
  return v === undefined || v === null || v === "";
}

/** objectAt reads a JSON object (or throws IddsConversionError naming the field). */
export function objectAt(v: unknown, field: string, what: string): Record<string, unknown> {
  if (!isRecord(v)) throw new IddsConversionError(field, `must be ${what}; got ${describe(v)}`);
  return v;
}

/** stringAt reads a non-empty string, or undefined when absent. */
export function stringAt(fields: Fields, key: string): string | undefined {
  const v = fields.values[key];
  if (isAbsent(v)) return undefined;
  if (typeof v !== "string")
    throw new IddsConversionError(at(fields, key), `must be a string; got ${describe(v)}`);
  return v;
}

/**
 * integerAt reads a whole number in [min, max] (a number, or a string of digits as Python scripts
 * sometimes send), or undefined when absent.
 */
export function integerAt(fields: Fields, key: string, min: number, max: number): number | undefined {
  const v = fields.values[key];
  if (isAbsent(v)) return undefined;
  const n = typeof v === "string" && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new IddsConversionError(
      at(fields, key),
      `must be a whole number from ${min} to ${max}; got ${describe(v)}`,
    );
  }
  return n;
}

/**
 * checkKeys refuses a key that is neither used nor known to be ignorable, naming it and listing the
 * fields that are understood.
 */
export function checkKeys(fields: Fields, known: readonly string[]): void {
  for (const key of Object.keys(fields.values)) {
    if (known.includes(key)) continue;
    throw new IddsConversionError(
      at(fields, key),
      `is not a field hpo-operator knows (${fields.path || "the request"} takes ${known.join(", ")}); ` +
        "remove it, or write the HPORequest by hand (docs/api.md)",
    );
  }
}
