/**
 * Checks one Kubernetes object offline as the API server would check it on creation, for the
 * kinds of crds/: its apiVersion and kind, metadata.name, the CRD's openAPIV3Schema (with ajv,
 * openapi.ts) and its CEL rules (cel.ts); then, for an HPORequest the API server would accept,
 * the operator's own checks (validateSpec), which the API server cannot make. Problems name the
 * field as the API server does (`spec.searchSpace.x.low`, `spec.searchSpace[x]` for a rule on a
 * map value, `spec.initialPoints[0].params`) with a message in its words.
 */
import type { ValidateFunction } from "ajv";
import { type CrdSchema, crdSchemas } from "../api/generated/schemas.ts";
import type { HPORequest } from "../api/index.ts";
import { validateSpec } from "../controller/spec.ts";
import { crdAjv, type SchemaError, toJsonSchema } from "./openapi.ts";

/** Segment is one step of a path into an object: a field or map key, or a list index. */
export type Segment = string | number;

/** Problem is one reason an object is invalid. */
export interface Problem {
  /** path is where, as segments (for finding the line in a file). */
  path: Segment[];
  /** field is where, written as the API server writes it ("" for the object itself). */
  field: string;
  message: string;
  /** by: the API server would refuse it (schema, rule), or only the operator would (operator). */
  by: "schema" | "rule" | "operator" | "object";
}

/** Verdict is the outcome for one object: checked (with its problems, [] when valid) or skipped. */
export type Verdict =
  | { checked: true; kind: string; name: string; problems: Problem[] }
  | { checked: false; reason: string };

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const validators = new Map<string, ValidateFunction>();

/** validatorFor compiles a CRD version's schema once, on first use. */
function validatorFor(crd: CrdSchema, version: CrdSchema["versions"][number]): ValidateFunction {
  const key = `${crd.group}/${version.name}/${crd.kind}`;
  let v = validators.get(key);
  if (!v) {
    v = crdAjv().compile(toJsonSchema(version.schema));
    validators.set(key, v);
  }
  return v;
}

/** ourGroups are the API groups of crds/: objects of other groups are not checked. */
export const ourGroups = [...new Set(crdSchemas.map((c) => c.group))];

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

/** validateObject checks obj as the API server would on `kubectl create` (plus the operator's checks). */
export function validateObject(obj: unknown): Verdict {
  if (!isObject(obj))
    return invalid("", "", [objectProblem([], "not a Kubernetes object (a map with apiVersion and kind)")]);
  const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
  const kind = typeof obj.kind === "string" ? obj.kind : "";
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  if (!ourGroups.includes(group as string)) {
    return { checked: false, reason: `${kind || "an object"} of ${apiVersion || "no apiVersion"}` };
  }
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const name =
    typeof meta.name === "string"
      ? meta.name
      : typeof meta.generateName === "string"
        ? `${meta.generateName}*`
        : "";
  const crd = crdSchemas.find((c) => c.group === group && c.kind === kind);
  if (!crd) {
    const known = crdSchemas.filter((c) => c.group === group).map((c) => c.kind);
    return invalid(kind, name, [
      objectProblem(["kind"], `no kind ${JSON.stringify(kind)} in ${group}; known: ${known.join(", ")}`),
    ]);
  }
  const served = crd.versions.find((v) => v.name === version);
  if (!served) {
    const versions = crd.versions.map((v) => `${group}/${v.name}`).join(", ");
    return invalid(kind, name, [
      objectProblem(["apiVersion"], `${apiVersion} is not served; use ${versions}`),
    ]);
  }
  const problems = metadataProblems(meta);
  // The API server drops status on create when it is a subresource, and fills defaults first.
  const body = structuredClone(obj);
  if (served.statusSubresource) delete body.status;
  const validate = validatorFor(crd, served);
  if (!validate(body)) problems.push(...(validate.errors ?? []).map((e) => schemaProblem(e, body)));
  if (problems.length === 0 && kind === "HPORequest") {
    const check = validateSpec(body as unknown as HPORequest);
    if (!check.ok) problems.push(operatorProblem(check.message));
  }
  return invalid(kind, name, problems);
}

function invalid(kind: string, name: string, problems: Problem[]): Verdict {
  return { checked: true, kind, name, problems };
}

function objectProblem(path: Segment[], message: string): Problem {
  return { path, field: fieldOf(path), message, by: "object" };
}

function metadataProblems(meta: Record<string, unknown>): Problem[] {
  const { name, generateName } = meta;
  if (name === undefined && generateName === undefined) {
    return [objectProblem(["metadata", "name"], "Required value: name or generateName is required")];
  }
  if (name !== undefined && (typeof name !== "string" || name.length > 253 || !dnsSubdomain.test(name))) {
    return [
      objectProblem(
        ["metadata", "name"],
        `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      ),
    ];
  }
  return [];
}

/** operatorProblem reads validateSpec's "spec.x[0]: message" (or "spec.x (1) is ...") into a problem. */
export function operatorProblem(message: string): Problem {
  const m = /^(spec[\w.[\]]*)(: | )/.exec(message);
  const field = m?.[1] ?? "spec";
  const text = m?.[2] === ": " ? message.slice(field.length + 2) : message;
  const path = field
    .split(/[.[\]]+/)
    .filter(Boolean)
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  return {
    path,
    field,
    message: `${text} (the operator's check: the API server accepts this, the operator fails the request)`,
    by: "operator",
  };
}

/** fieldOf writes a path as the API server does: a.b[0].c, and a.b[key] for a rule on a map value. */
export function fieldOf(path: readonly Segment[], mapKeyLast = false): string {
  let out = "";
  path.forEach((s, i) => {
    if (typeof s === "number" || (mapKeyLast && i === path.length - 1)) out += `[${s}]`;
    else out += out === "" ? s : `.${s}`;
  });
  return out;
}

/** segmentsOf reads an ajv instancePath (a JSON pointer) against data: list indices become numbers. */
export function segmentsOf(pointer: string, data: unknown): Segment[] {
  if (pointer === "") return [];
  const out: Segment[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    const seg: Segment = Array.isArray(cur) ? Number(key) : key;
    out.push(seg);
    cur = (cur as Record<string | number, unknown> | undefined)?.[seg];
  }
  return out;
}

function valueAt(data: unknown, path: readonly Segment[]): unknown {
  let cur = data;
  for (const s of path) cur = (cur as Record<string | number, unknown> | undefined)?.[s];
  return cur;
}

/** typeName is the JSON type of a value, as the API server names it in messages. */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** schemaProblem turns an ajv error into the API server's field and words. */
export function schemaProblem(e: SchemaError, data: unknown): Problem {
  const path = segmentsOf(e.instancePath, data);
  const value = valueAt(data, path);
  const p = e.params as Record<string, unknown>;
  const shown = JSON.stringify(value);
  const at = (extra: string, message: string): Problem => {
    const full = [...path, extra];
    return { path: full, field: fieldOf(full), message, by: "schema" };
  };
  const here = (message: string, by: Problem["by"] = "schema", mapKeyLast = false): Problem => ({
    path,
    field: fieldOf(path, mapKeyLast),
    message,
    by,
  });
  switch (e.keyword) {
    case "required":
      return at(String(p.missingProperty), "Required value");
    case "additionalProperties":
      return at(String(p.additionalProperty), "unknown field: it is not in the schema");
    case "type":
      return here(`Invalid value: "${typeName(value)}": must be of type ${p.type}`);
    case "enum":
      return here(
        `Unsupported value: ${shown}: supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
      );
    case "minimum":
    case "exclusiveMinimum":
    case "maximum":
    case "exclusiveMaximum": {
      const cmp = {
        minimum: "greater than or equal to",
        exclusiveMinimum: "greater than",
        maximum: "less than or equal to",
        exclusiveMaximum: "less than",
      }[e.keyword];
      return here(`Invalid value: ${shown}: should be ${cmp} ${p.limit}`);
    }
    case "pattern":
      return here(`Invalid value: ${shown}: should match '${p.pattern}'`);
    case "minLength":
      return here(`Invalid value: ${shown}: should be at least ${p.limit} chars long`);
    case "maxLength":
      return here(`Too long: may not be more than ${p.limit} bytes`);
    case "minItems":
      return here(`Invalid value: ${(value as unknown[]).length}: should have at least ${p.limit} items`);
    case "maxItems":
      return here(`Too many: ${(value as unknown[]).length}: must have at most ${p.limit} items`);
    case "minProperties":
      return here(
        `Invalid value: ${Object.keys(value as object).length}: should have at least ${p.limit} properties`,
      );
    case "maxProperties":
      return here(`Too many: ${Object.keys(value as object).length}: must have at most ${p.limit} items`);
    case "format":
      return here(`Invalid value: ${shown}: must be of format ${p.format}`);
    case "x-kubernetes-int-or-string":
      return here(`Invalid value: "${typeName(value)}": must be an integer or a string`);
    case "x-kubernetes-list-type":
      return {
        ...here(`Duplicate value: ${p.value}`),
        path: [...path, Number(p.index)],
        field: fieldOf([...path, Number(p.index)]),
      };
    case "x-kubernetes-validations":
      return here(
        `Invalid value: "${typeName(value)}": ${p.message}`,
        "rule",
        e.schemaPath.endsWith("/additionalProperties/x-kubernetes-validations"),
      );
    default:
      return here(`${e.keyword}: ${JSON.stringify(p)}`);
  }
}
