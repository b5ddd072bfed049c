/**
 * `hpo-operator validate FILE...` (and `kubectl hpo validate`): checks HPORequest and
 * HyperParameterSet manifests offline, as the API server would on creation plus the operator's
 * own checks (src/validation/manifest.ts). YAML or JSON, several documents per file, `kind: List`,
 * `-` for standard input, a folder for its manifests; objects of other API groups are skipped. Prints one line per problem,
 * `FILE:LINE: FIELD: MESSAGE`, and exits 1 when any object is invalid, 0 when all are valid.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import { type Segment, type Verdict, validateObject } from "../validation/manifest.ts";
import { type CommandSpec, parseFlags } from "./flags.ts";

/** validateCommandSpec is the command line of validate. */
export const validateCommandSpec: CommandSpec = {
  flags: { quiet: { type: "boolean", short: "q" } },
  args: ["FILE"],
  minArgs: 1,
  variadic: true,
  usage: `usage: hpo-operator validate [-q] FILE...

Checks HPORequest and HyperParameterSet manifests offline: the CRDs' schemas and CEL rules, as
the API server checks them when the object is created, and the operator's own checks (a search
space that compiles, initial points inside it). YAML or JSON, several documents per file, "-"
for standard input, a folder for its *.yaml, *.yml and *.json files; objects of other API groups
are skipped. Prints FILE:LINE: FIELD: MESSAGE for each problem; exit code 0 when every object is
valid, 1 when one is not, 2 for a wrong command line. -q leaves out the summary line on standard
error. Rules that compare an update with the stored object (fields fixed after creation) are
left to the API server.
`,
};

/** Output is where validate writes: problem lines, and the summary. */
export interface Output {
  out: (s: string) => void;
  err: (s: string) => void;
  readStdin: () => string;
}

const processOutput: Output = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readStdin: () => readFileSync(0, "utf8"),
};

/** runValidate is `hpo-operator validate`. */
export async function runValidate(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, validateCommandSpec);
  if (parsed.help) {
    process.stdout.write(validateCommandSpec.usage);
    return 0;
  }
  return validateFiles(parsed.args, { quiet: parsed.values.quiet === true });
}

/** Counts are what the summary line reports. */
export interface Counts {
  valid: number;
  invalid: number;
  skipped: number;
}

/**
 * validateFiles checks every object of files, prints the problems, and returns the exit code.
 * kubectl hpo validate calls it directly.
 */
export function validateFiles(
  files: readonly string[],
  opts: { quiet?: boolean; program?: string } = {},
  io: Output = processOutput,
): number {
  const counts: Counts = { valid: 0, invalid: 0, skipped: 0 };
  let unreadable = 0;
  for (const file of expandFolders(files)) {
    let text: string;
    try {
      text = file === "-" ? io.readStdin() : readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      io.out(`${file}: cannot read the file${code ? ` (${code})` : ""}\n`);
      unreadable++;
      continue;
    }
    for (const line of checkText(file === "-" ? "<stdin>" : file, text, counts)) io.out(`${line}\n`);
  }
  if (!opts.quiet) {
    const program = opts.program ?? "hpo-operator validate";
    const unread = unreadable > 0 ? `, ${unreadable} file(s) unreadable` : "";
    io.err(
      `${program}: ${counts.valid} valid, ${counts.invalid} invalid, ${counts.skipped} skipped (not hpo.dev)${unread}\n`,
    );
  }
  return counts.invalid > 0 || unreadable > 0 ? 1 : 0;
}

/** expandFolders replaces each folder by its *.yaml, *.yml and *.json files, sorted (as kubectl -f DIR, not recursive). */
export function expandFolders(files: readonly string[]): string[] {
  return files.flatMap((f) => {
    if (f === "-" || !statSync(f, { throwIfNoEntry: false })?.isDirectory()) return [f];
    return readdirSync(f)
      .filter((n) => /\.(ya?ml|json)$/.test(n))
      .sort()
      .map((n) => join(f, n));
  });
}

/** checkText checks every object of one file's text and returns its problem lines (counting into counts). */
export function checkText(name: string, text: string, counts: Counts): string[] {
  const lineCounter = new LineCounter();
  // YAML 1.1, as kubectl reads it: an unquoted yes is a boolean.
  const docs = parseAllDocuments(text, { version: "1.1", lineCounter });
  const lines: string[] = [];
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      lines.push(`${name}:${lineOf(e?.pos[0] ?? 0)}: cannot parse the YAML: ${e?.message.split("\n")[0]}`);
      counts.invalid++;
      continue;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue; // an empty document
    for (const [prefix, obj] of objectsOf(value)) {
      const verdict = validateObject(obj);
      lines.push(...report(name, doc, prefix, verdict, lineOf, counts));
    }
  }
  return lines;
}

/** objectsOf lists the objects of a document: the document, or the items of a kind: List. */
function objectsOf(value: unknown): [Segment[], unknown][] {
  const v = value as { kind?: unknown; items?: unknown };
  if (
    v &&
    typeof v === "object" &&
    typeof v.kind === "string" &&
    v.kind.endsWith("List") &&
    Array.isArray(v.items)
  ) {
    return v.items.map((item, i) => [["items", i], item]);
  }
  return [[[], value]];
}

function report(
  name: string,
  doc: Document,
  prefix: Segment[],
  verdict: Verdict,
  lineOf: (offset: number) => number,
  counts: Counts,
): string[] {
  if (!verdict.checked) {
    counts.skipped++;
    return [];
  }
  if (verdict.problems.length === 0) {
    counts.valid++;
    return [];
  }
  counts.invalid++;
  return verdict.problems
    .map((p) => ({ p, line: lineOf(nearestOffset(doc, [...prefix, ...p.path])) }))
    .sort((a, b) => a.line - b.line)
    .map(({ p, line }) => `${name}:${line}: ${p.field ? `${p.field}: ` : ""}${p.message}`);
}

/**
 * nearestOffset is where in the file path is (a field's key, a list item), or its nearest ancestor
 * that is there (for a missing field).
 */
function nearestOffset(doc: Document, path: Segment[]): number {
  let best = doc.contents?.range?.[0] ?? 0;
  let node: unknown = doc.contents;
  for (const seg of path) {
    let next: unknown;
    if (isMap(node)) {
      // Keys compare as text: in YAML 1.1 an unquoted key y is the boolean true, sent as "true".
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (isScalar(pair?.key) && pair.key.range) best = pair.key.range[0];
      next = pair?.value;
    } else if (isSeq(node) && typeof seg === "number") {
      next = node.items[seg];
      const range = (next as { range?: number[] } | undefined)?.range;
      if (range?.[0] !== undefined) best = range[0];
    }
    if (next === undefined) break;
    node = next;
  }
  return best;
}
