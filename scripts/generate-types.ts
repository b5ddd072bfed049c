/**
 * generate-types writes src/api/generated/types.ts, the TypeScript types of every CRD in crds/,
 * from their OpenAPI v3 schemas, with code-block-writer. The CRD YAML is the single source of the
 * API; this file is derived from it.
 *
 *   node scripts/generate-types.ts           # write the file
 *   node scripts/generate-types.ts --check   # exit 1 when the file is stale
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import CodeBlockWriter from "code-block-writer";
import { parse } from "yaml";

/** Schema is the subset of a structural OpenAPI v3 schema that types are made from. */
export interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-int-or-string"?: boolean;
}

/** Crd is the subset of a CustomResourceDefinition that the generator reads. */
export interface Crd {
  spec: {
    group: string;
    names: { kind: string; plural: string; shortNames?: string[] };
    versions: { name: string; storage: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** outputPath is where the generated types live. */
export const outputPath = join(root, "src/api/generated/types.ts");

/** wrap breaks text into lines of at most width characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

const pascal = (s: string) =>
  s.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _sep, c: string) => c.toUpperCase());

/** readCrds loads every CRD of a folder, sorted by file name. */
export function readCrds(dir = join(root, "crds")): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => parse(readFileSync(join(dir, f), "utf8")) as Crd);
}

class Emitter {
  readonly w = new CodeBlockWriter({ indentNumberOfSpaces: 2, useSingleQuote: false });
  private readonly pending: [string, Schema][] = [];

  doc(text: string | undefined): void {
    if (!text) return;
    const lines = wrap(text.trim().replace(/\*\//g, "*\\/"), 100 - this.w.getIndentationLevel() * 2);
    if (lines.length === 1) {
      this.w.writeLine(`/** ${lines[0]} */`);
      return;
    }
    this.w.writeLine("/**");
    for (const l of lines) this.w.writeLine(` * ${l}`.trimEnd());
    this.w.writeLine(" */");
  }

  /** typeOf returns the TypeScript type of a schema, queueing named interfaces for objects. */
  typeOf(s: Schema, name: string): string {
    if (s["x-kubernetes-int-or-string"]) return "number | string";
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    switch (s.type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array":
        return s.items ? `${this.wrap(this.typeOf(s.items, `${name}Item`))}[]` : "unknown[]";
      case "object":
        if (s.properties) {
          this.pending.push([name, s]);
          return name;
        }
        if (typeof s.additionalProperties === "object") {
          return `Record<string, ${this.typeOf(s.additionalProperties, `${name}Entry`)}>`;
        }
        return "Record<string, unknown>";
      default:
        return "unknown";
    }
  }

  private wrap(t: string): string {
    return /[|&]/.test(t) ? `(${t})` : t;
  }

  /** iface writes one interface, then the interfaces its fields need. */
  iface(name: string, s: Schema, extra: [string, string, string][] = []): void {
    this.doc(s.description);
    this.w.write(`export interface ${name}`).block(() => {
      for (const [field, type, doc] of extra) {
        this.doc(doc);
        this.w.writeLine(`${field}: ${type};`);
      }
      const required = new Set(s.required ?? []);
      for (const [field, fs] of Object.entries(s.properties ?? {})) {
        if (extra.some(([f]) => f.replace("?", "") === field)) continue;
        this.doc(fs.description);
        const type = field === "metadata" ? "ObjectMeta" : this.typeOf(fs, `${name}${pascal(field)}`);
        this.w.writeLine(`${field}${required.has(field) ? "" : "?"}: ${type};`);
      }
      if (s["x-kubernetes-preserve-unknown-fields"]) {
        this.doc("Further fields, kept as given.");
        this.w.writeLine("[key: string]: unknown;");
      }
    });
    this.w.blankLine();
    this.flush();
  }

  /** enums writes a const array of the values of every enum field. */
  enums(prefix: string, s: Schema): void {
    for (const [field, fs] of Object.entries(s.properties ?? {})) {
      const name = `${prefix}${pascal(field)}`;
      if (fs.enum) {
        this.doc(`${name}Values lists the allowed values of ${field}.`);
        this.w.writeLine(
          `export const ${name}Values = ${JSON.stringify(fs.enum).replaceAll(",", ", ")} as const;`,
        );
        this.w.blankLine();
      }
      if (fs.properties) this.enums(name, fs);
      if (typeof fs.additionalProperties === "object") this.enums(`${name}Entry`, fs.additionalProperties);
      if (fs.items) this.enums(`${name}Item`, fs.items);
    }
  }

  private flush(): void {
    while (this.pending.length > 0) {
      const next = this.pending.shift();
      if (next) this.iface(next[0], next[1]);
    }
  }
}

/**
 * objectMetaFields are the metav1.ObjectMeta fields every kind's metadata is typed with, as the API
 * server sends them in JSON: timestamps are RFC 3339 strings, never Date objects.
 */
const objectMetaFields: [string, string, string][] = [
  ["name?", "string", "Unique within a namespace."],
  ["generateName?", "string", "A prefix the server completes into a unique name when name is empty."],
  ["namespace?", "string", "The namespace of a namespaced object."],
  ["uid?", "string", "Unique in time and space; set by the server."],
  ["resourceVersion?", "string", "Opaque version of the object, for conditional writes and watches."],
  ["generation?", "number", "Incremented by the server on each change of the desired state (spec)."],
  ["creationTimestamp?", "string", "When the object was created (RFC 3339)."],
  ["deletionTimestamp?", "string", "When the object will be deleted (RFC 3339); set once deletion starts."],
  ["deletionGracePeriodSeconds?", "number", "Seconds allowed for graceful termination once deleting."],
  ["labels?", "Record<string, string>", "Labels, for selection."],
  ["annotations?", "Record<string, string>", "Annotations, not used for selection."],
  ["ownerReferences?", "OwnerReference[]", "The objects this one depends on (garbage collection)."],
  ["finalizers?", "string[]", "What must happen before the object is removed."],
  ["managedFields?", "ManagedFieldsEntry[]", "Which manager set which fields (server-side apply)."],
];

/** objectMeta writes the metadata types (metav1.ObjectMeta and the types it uses). */
function objectMeta(e: Emitter): void {
  const w = e.w;
  const fields = (list: [string, string, string][]) => {
    for (const [field, type, doc] of list) {
      e.doc(doc);
      w.writeLine(`${field}: ${type};`);
    }
  };
  e.doc(
    "ObjectMeta is the standard metadata of every object (metav1.ObjectMeta): the fields this project uses and the common ones. Timestamps are RFC 3339 strings, as in JSON.",
  );
  w.write("export interface ObjectMeta").block(() => fields(objectMetaFields));
  w.blankLine();
  e.doc("OwnerReference names an object this one depends on (metav1.OwnerReference).");
  w.write("export interface OwnerReference").block(() =>
    fields([
      ["apiVersion", "string", "API version of the owner."],
      ["kind", "string", "Kind of the owner."],
      ["name", "string", "Name of the owner."],
      ["uid", "string", "UID of the owner."],
      ["controller?", "boolean", "True when the owner is the managing controller."],
      ["blockOwnerDeletion?", "boolean", "True when foreground deletion of the owner waits for this object."],
    ]),
  );
  w.blankLine();
  e.doc("ManagedFieldsEntry records the fields one manager set (metav1.ManagedFieldsEntry).");
  w.write("export interface ManagedFieldsEntry").block(() =>
    fields([
      ["manager?", "string", "The manager's name."],
      ["operation?", "string", "Apply or Update."],
      ["apiVersion?", "string", "The version of the fields."],
      ["time?", "string", "When the fields last changed (RFC 3339)."],
      ["fieldsType?", "string", "The format of fieldsV1: FieldsV1."],
      ["fieldsV1?", "Record<string, unknown>", "The set of fields."],
      ["subresource?", "string", "The subresource the write went to (status), or empty."],
    ]),
  );
  w.blankLine();
}

/** generate returns the text of the types file for the given CRDs. */
export function generate(crds: Crd[]): string {
  const e = new Emitter();
  const w = e.w;
  w.writeLine("// Code generated by scripts/generate-types.ts from crds/*.yaml. DO NOT EDIT.");
  w.writeLine("// Change the CRD, then run `npm run generate`; CI fails when this file is stale.");
  w.blankLine();
  objectMeta(e);
  for (const crd of crds) {
    const { group, names } = crd.spec;
    const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
    if (!version) throw new Error(`CRD ${names.kind} has no version`);
    const apiVersion = `${group}/${version.name}`;
    const schema = version.schema.openAPIV3Schema;
    const kind = names.kind;
    e.doc(`${kind}Resource names the ${kind} resource for API calls.`);
    w.writeLine(
      `export const ${kind}Resource = ${JSON.stringify({ group, version: version.name, apiVersion, kind, plural: names.plural }, null, 2)} as const;`,
    );
    w.blankLine();
    e.iface(kind, schema, [
      ["apiVersion?", JSON.stringify(apiVersion), "APIVersion of the object."],
      ["kind?", JSON.stringify(kind), "Kind of the object."],
    ]);
    e.doc(`${kind}List is a list of ${kind} objects.`);
    w.write(`export interface ${kind}List`).block(() => {
      w.writeLine(`apiVersion?: ${JSON.stringify(apiVersion)};`);
      w.writeLine(`kind?: "${kind}List";`);
      w.writeLine("metadata?: { resourceVersion?: string; continue?: string };");
      w.writeLine(`items: ${kind}[];`);
    });
    w.blankLine();
    e.enums(kind, schema);
  }
  return `${w.toString().trimEnd()}\n`;
}

/**
 * writeOrCheck writes a generated file, or with --check on the command line exits 1 when the file
 * on disk differs from text (it is stale), saying what changed (source) and what to run.
 */
export function writeOrCheck(path: string, text: string, what: string, source = "the CRDs in crds/"): void {
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      process.stderr.write(
        `${path} is stale: ${source} changed. Run \`npm run generate\` and commit the result.\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`generated ${what} are up to date\n`);
    return;
  }
  writeFileSync(path, text);
  process.stdout.write(`wrote ${path}\n`);
}

function main(): void {
  writeOrCheck(outputPath, generate(readCrds()), "types");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
