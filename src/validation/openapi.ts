/**
 * A CRD's structural openAPIV3Schema as a JSON Schema that ajv compiles, with the Kubernetes
 * extensions (x-kubernetes-*) that change what is valid turned into ajv keywords:
 *
 * - OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum become JSON Schema's numbers;
 * - an object with properties and without x-kubernetes-preserve-unknown-fields refuses other
 *   fields (kubectl's default --validate=strict makes the API server refuse them too);
 * - x-kubernetes-int-or-string: an integer or a string;
 * - x-kubernetes-list-type set/map: no two equal items / no two items with the same keys;
 * - x-kubernetes-validations: the CEL rules, through their translations (cel.ts);
 * - x-kubernetes-map-type, x-kubernetes-list-map-keys, x-kubernetes-preserve-unknown-fields:
 *   no check of their own (they change merging, or are handled above).
 *
 * Any other keyword fails the compilation (ajv's strict mode), so a new extension in a CRD is
 * noticed by the tests rather than ignored.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type SchemaValidateFunction } from "ajv";
import { type CelRule, failedRules } from "./cel.ts";

type Schema = Record<string, unknown>;

/** toJsonSchema converts an openAPIV3Schema (structural, as in a CRD) for ajv. Pure. */
export function toJsonSchema(oas: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(oas)) {
    if (k === "properties") {
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, Schema>).map(([name, s]) => [name, toJsonSchema(s)]),
      );
    } else if ((k === "items" || k === "additionalProperties") && typeof v === "object" && v !== null) {
      out[k] = toJsonSchema(v as Schema);
    } else if (k === "exclusiveMinimum" || k === "exclusiveMaximum") {
      // OpenAPI 3.0: a boolean that makes minimum/maximum exclusive.
      if (v === true) out[k] = oas[k === "exclusiveMinimum" ? "minimum" : "maximum"];
    } else if (k === "minimum" && oas.exclusiveMinimum === true) {
      // carried by exclusiveMinimum
    } else if (k === "maximum" && oas.exclusiveMaximum === true) {
      // carried by exclusiveMaximum
    } else out[k] = v;
  }
  const preserve = oas["x-kubernetes-preserve-unknown-fields"] === true;
  if (oas.properties !== undefined && oas.additionalProperties === undefined && !preserve) {
    out.additionalProperties = false;
  }
  return out;
}

/** The Kubernetes formats of the CRDs: numbers' formats only say their size; date-time is RFC 3339. */
const formats = {
  int32: { type: "number" as const, validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 },
  int64: { type: "number" as const, validate: (n: number) => Number.isInteger(n) },
  double: { type: "number" as const, validate: () => true },
  float: { type: "number" as const, validate: () => true },
  "date-time": /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i,
};

let ajv: Ajv | undefined;

/** crdAjv is the one ajv instance for CRD schemas, made on first use (not when this module loads). */
export function crdAjv(): Ajv {
  ajv ??= makeAjv();
  return ajv;
}

function makeAjv(): Ajv {
  // strictSchema: an unknown keyword fails the compilation. strictTypes is off: Kubernetes puts
  // pattern beside x-kubernetes-int-or-string, without a type.
  const a = new Ajv({ allErrors: true, strictSchema: true, strictTypes: false, useDefaults: true, formats });
  for (const keyword of [
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-map-type",
    "x-kubernetes-list-map-keys",
  ]) {
    a.addKeyword({ keyword });
  }
  a.addKeyword({
    keyword: "x-kubernetes-int-or-string",
    errors: true,
    validate: intOrString,
  });
  a.addKeyword({
    keyword: "x-kubernetes-list-type",
    errors: true,
    validate: listType,
  });
  a.addKeyword({
    keyword: "x-kubernetes-validations",
    errors: true,
    validate: cel,
  });
  return a;
}

const intOrString: SchemaValidateFunction = (_schema: boolean, data: unknown) => {
  const ok = typeof data === "string" || Number.isInteger(data);
  intOrString.errors = ok ? [] : [{ keyword: "x-kubernetes-int-or-string", params: {} }];
  return ok;
};

/** listType checks x-kubernetes-list-type set (no two equal items) and map (no two items with equal keys). */
const listType: SchemaValidateFunction = (type: string, data: unknown, parent?: AnySchemaObject) => {
  listType.errors = [];
  if (!Array.isArray(data) || (type !== "set" && type !== "map")) return true;
  const keys = (parent?.["x-kubernetes-list-map-keys"] as string[] | undefined) ?? [];
  const keyOf = (item: unknown) =>
    JSON.stringify(type === "set" ? item : keys.map((k) => (item as Record<string, unknown>)?.[k]));
  const seen = new Set<string>();
  for (const [i, item] of data.entries()) {
    const key = keyOf(item);
    if (seen.has(key)) {
      listType.errors = [{ keyword: "x-kubernetes-list-type", params: { index: i, value: key } }];
      return false;
    }
    seen.add(key);
  }
  return true;
};

const cel: SchemaValidateFunction = (rules: CelRule[], data: unknown) => {
  const failed = failedRules(rules, data);
  cel.errors = failed.map((message) => ({ keyword: "x-kubernetes-validations", params: { message } }));
  return failed.length === 0;
};

/** SchemaError is an ajv error (what ajv's ErrorObject holds that the formatter reads). */
export type SchemaError = Pick<ErrorObject, "keyword" | "instancePath" | "schemaPath" | "params" | "data">;
