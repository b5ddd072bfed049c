/**
 * Seeded generators of bad inputs for the fuzz test (test/integration/fuzz.test.ts): HPORequests
 * mutated from a valid one, merge patches of a HyperParameterSet's reports, and generator outputs
 * (JSON text, sometimes with its stage-out frame damaged). The same seed gives the same inputs.
 * Also the check of a message's quality: it names a field and carries no stack trace.
 */
import { createRng, type Rng } from "../../src/generators/rng.ts";
import { frameOutput } from "../../src/jobs/frame.ts";

/** Fuzzer draws from one seeded stream. */
export class Fuzzer {
  readonly rng: Rng;
  constructor(seed: number) {
    this.rng = createRng(seed);
  }
  /** pick returns one of items. */
  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(items.length)] as T;
  }
  /** chance is true with probability p. */
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
}

/** nasty are values that break careless code: wrong types, extremes, odd text. */
const nasty: readonly unknown[] = [
  -1,
  0,
  1.5,
  2 ** 53,
  -(2 ** 31),
  1e308,
  -1e-308,
  "",
  " ",
  "x".repeat(5000),
  "ünïcødé ✓",
  "NaN",
  "Infinity",
  "-0",
  "<script>alert(1)</script>",
  "../../etc/passwd",
  "/topic/a,/topic/b",
  "$(HOME)",
  null,
  true,
  false,
  [],
  [1, "a", null],
  {},
  { a: { b: { c: 1 } } },
  { __proto__: { polluted: true } },
  "constructor",
];

/** requestPaths are the spec fields a mutation sets (the last segment is what a message must name). */
const requestPaths: readonly string[][] = [
  ["method"],
  ["searchSpace"],
  ["searchSpace", "x"],
  ["searchSpace", "x", "type"],
  ["searchSpace", "x", "low"],
  ["searchSpace", "x", "high"],
  ["searchSpace", "x", "log"],
  ["searchSpace", "x", "step"],
  ["searchSpace", "x", "choices"],
  ["searchSpace", "c", "choices"],
  ["searchSpace", "c", "type"],
  ["searchSpace", "new-param"],
  ["maxPoints"],
  ["pointsPerGeneration"],
  ["minUnevaluatedPoints"],
  ["objective"],
  ["objective", "direction"],
  ["initialPoints"],
  ["initialPoints", "0"],
  ["initialPoints", "0", "params"],
  ["initialPoints", "0", "params", "x"],
  ["initialPoints", "0", "loss"],
  ["generator"],
  ["generator", "image"],
  ["generator", "timeoutSeconds"],
  ["generator", "retries"],
  ["generator", "args"],
  ["notification", "destination"],
  ["suspend"],
  ["seed"],
  ["optSpace"],
  ["unknownField"],
];

/** semantic are mutations the CRD's schema lets through, for the operator to refuse (or accept). */
const semantic: readonly [string[], unknown][] = [
  [["searchSpace", "x"], { type: "float", low: 0, high: 1, log: true }],
  [["searchSpace", "x"], { type: "int", low: 0.5, high: 3 }],
  [["searchSpace", "x"], { type: "float", low: 0, high: 1, step: 5 }],
  [
    ["searchSpace", "c", "choices"],
    [{ a: 1 }, [1]],
  ],
  [
    ["searchSpace", "c", "choices"],
    ["a", "a"],
  ],
  [
    ["searchSpace", "c", "choices"],
    ["a", 1, true],
  ],
  [["searchSpace", "x", "choices"], ["a"]],
  [["searchSpace"], {}],
  [["initialPoints", "0", "params"], { x: 5, c: "a" }],
  [["initialPoints", "0", "params"], { x: 0.5, c: "z" }],
  [["initialPoints", "0", "params"], { y: 1 }],
  [["initialPoints", "0", "params"], { x: 0.5 }],
  [["maxPoints"], 0],
  [["optSpace"], { x: { type: "float", low: 0, high: 1 } }],
];

/** BadRequest is a mutated HPORequest and the fields it touched. */
export interface BadRequest {
  body: Record<string, unknown>;
  fields: string[];
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o: Record<string, unknown> = obj;
  for (const k of path.slice(0, -1)) {
    const next = o[k];
    if (typeof next !== "object" || next === null) o[k] = /^\d+$/.test(k) ? [] : {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1] as string] = value;
}

/** badRequest is a valid request with 1 to 3 fields set to nasty values (or too-large numbers). */
export function badRequest(f: Fuzzer, ns: string, name: string): BadRequest {
  const spec: Record<string, unknown> = {
    method: "random",
    searchSpace: { x: { type: "float", low: 0, high: 1 }, c: { type: "categorical", choices: ["a", "b"] } },
    maxPoints: 2,
    pointsPerGeneration: 2,
    initialPoints: [{ params: { x: 0.5, c: "a" }, loss: 1 }],
  };
  const fields: string[] = [];
  const n = 1 + f.rng.int(3);
  for (let i = 0; i < n; i++) {
    let path = f.pick(requestPaths);
    let value = f.chance(0.15) ? f.pick([1e9, 86401, 10001, 101, -5]) : structuredClone(f.pick(nasty));
    if (f.chance(0.3)) [path, value] = structuredClone(f.pick(semantic));
    setPath(spec, path, value);
    fields.push(...path.filter((p) => !/^\d+$/.test(p)));
  }
  const body = {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name, namespace: ns },
    spec,
  };
  return { body, fields };
}

/** BadPatch is a merge patch of a set and the fields it touched. */
export interface BadPatch {
  patch: Record<string, unknown>;
  fields: string[];
}

/** badPatch is a merge patch of a HyperParameterSet's reports (ids 1..points exist), mostly wrong. */
export function badPatch(f: Fuzzer, points: number): BadPatch {
  const id = () =>
    f.pick([String(1 + f.rng.int(points)), "0", "-1", "999999", "abc", "1.5", "", " 1", "01", "1e3"]);
  const value = () =>
    f.chance(0.4) ? Math.round(f.rng.next() * 1000) / 100 : structuredClone(f.pick(nasty));
  switch (f.rng.int(7)) {
    case 0:
    case 1:
      return { patch: { spec: { losses: { [id()]: value() } } }, fields: ["losses"] };
    case 2:
      return {
        patch: { spec: { failed: { [id()]: f.pick(["OOM", "", "x".repeat(3000), 7, null]) } } },
        fields: ["failed"],
      };
    case 3: {
      const k = id();
      return {
        patch: { spec: { losses: { [k]: 1 }, failed: { [k]: "both" } } },
        fields: ["losses", "failed"],
      };
    }
    case 4:
      return { patch: { spec: { losses: f.pick([null, "x", [], 5]) } }, fields: ["losses"] };
    case 5: {
      const field = f.pick(["firstId", "lastId", "request"]);
      return { patch: { spec: { [field]: value() } }, fields: [field] };
    }
    default:
      return {
        patch: { spec: { [f.pick(["loss", "reports", "extra"])]: value() } },
        fields: ["loss", "reports", "extra"],
      };
  }
}

/** BadOutput is a generator's output as stage-out would find it, and its log as the operator reads it. */
export interface BadOutput {
  text: string;
  /** log is the framed text, sometimes damaged (cut short, a changed character, a false length). */
  log: string;
  /** damaged says the frame was damaged on purpose. */
  damaged: boolean;
  /** fields are the parameter names the output touched. */
  fields: string[];
}

/** badOutput is a generator output for the space {x: float 0..1, k: int 1..5, c: a|b}. */
export function badOutput(f: Fuzzer): BadOutput {
  const fields = ["x", "k", "c"];
  const point = (): unknown => {
    const p: Record<string, unknown> = { x: f.rng.next(), k: 1 + f.rng.int(5), c: f.pick(["a", "b"]) };
    if (f.chance(0.6)) {
      const key = f.pick([...fields, "extra"]);
      if (f.chance(0.3)) delete p[key];
      else p[key] = structuredClone(f.pick(nasty));
      if (key === "extra") fields.push("extra");
    }
    return f.chance(0.05) ? f.pick(nasty) : p;
  };
  let text: string;
  const shape = f.rng.int(10);
  if (shape === 0) text = JSON.stringify(f.pick(nasty));
  else if (shape === 1) text = JSON.stringify(Array.from({ length: 3 }, point)).slice(0, 10 + f.rng.int(30));
  else if (shape === 2) text = f.pick(["[NaN]", "[{x: 1}]", "", "[1,]", "\u0000", '[{"x":Infinity}]']);
  else text = JSON.stringify(Array.from({ length: f.rng.int(6) }, point));
  let log = frameOutput(text);
  let damaged = false;
  if (f.chance(0.3)) {
    damaged = true;
    const lines = log.split("\n");
    const which = f.rng.int(4);
    if (which === 0) log = lines.slice(0, -2).join("\n");
    else if (which === 1 && lines.length > 2) {
      const l = lines[1] as string;
      const at = f.rng.int(l.length);
      lines[1] = `${l.slice(0, at)}${l[at] === "A" ? "B" : "A"}${l.slice(at + 1)}`;
      log = lines.join("\n");
    } else if (which === 2) log = log.replace(/bytes=\d+/, "bytes=7");
    else log = "the generator printed this and nothing else\n";
  }
  return { text, log, damaged, fields };
}

/** unclear says what is wrong with a message meant for a user (undefined when it is fine). */
export function unclear(message: string | undefined, fields: readonly string[]): string | undefined {
  if (!message?.trim()) return "no message";
  if (/\n\s+at \S+ \(|\bat [\w.<>]+ \(\/|node:internal/.test(message)) return "a stack trace";
  if (/\[object Object\]/.test(message)) return "[object Object]";
  // A field is named as a word of its own: "x" in spec.searchSpace.x or parameter "x", not in "expected".
  const word = (f: string) =>
    new RegExp(
      `(^|[^A-Za-z0-9_-])${f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${/\w$/.test(f) ? "(?![A-Za-z0-9_])" : ""}`,
    );
  const named = fields.some((f) => word(f).test(message));
  if (!named) return `names none of ${fields.join(", ")}`;
  return undefined;
}
