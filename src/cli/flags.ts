/**
 * The one flag parser of every command of `hpo-operator` and `kubectl hpo`, and the error that a
 * wrong command line throws. Pure: it reads an argv and a description of the flags, and either
 * returns the values or throws a UsageError that says what is wrong (exit code 2).
 *
 * Accepted forms: `--name=value`, `--name value`, `-n value`, `-nvalue`, `--bool`, `--bool=false`;
 * `-h`/`--help` anywhere; `--` ends the flags. Dashes and underscores in long names are alike
 * (`--max_points` is `--max-points`). An argument that starts with `-` and a digit (`-0.5`), and `-`
 * alone (standard input), are arguments, not flags.
 */

/** UsageError is a wrong command line: the caller prints its message and the usage, and exits 2. */
export class UsageError extends Error {
  /** usage is the help text of the command whose line was wrong ("" when unknown). */
  readonly usage: string;
  constructor(message: string, usage = "") {
    super(message);
    this.name = "UsageError";
    this.usage = usage;
  }
}

/** FlagSpec describes one flag. */
export interface FlagSpec {
  /** type: a string flag takes a value; a boolean flag takes none (or =true/=false). */
  type: "string" | "boolean";
  /** short is a one-letter alias, without the dash ("n" for -n). */
  short?: string;
  /** required makes parseFlags refuse a command line without the flag. */
  required?: boolean;
}

/** CommandSpec describes a command line: its flags, its arguments and its help text. */
export interface CommandSpec {
  /** flags by long name (as the user writes it, dashes or underscores). */
  flags: Record<string, FlagSpec>;
  /** args names the positional arguments for messages, e.g. ["FILE"]; absent means none are taken. */
  args?: string[];
  /** minArgs: fewer arguments are refused, naming the first missing one (default 0). */
  minArgs?: number;
  /** variadic: the last of args may repeat (FILE...); otherwise at most args.length are taken. */
  variadic?: boolean;
  /** usage is carried by every UsageError, so the caller can print it. */
  usage: string;
}

/** ParsedFlags is a parsed command line, or a request for help. */
export type ParsedFlags =
  | { help: true }
  | { help: false; values: Record<string, string | boolean | undefined>; args: string[] };

const norm = (name: string) => name.replaceAll("_", "-");

/** isArgument reports whether a word that starts with "-" is still an argument: "-", "-1", "-.5". */
function isArgument(word: string): boolean {
  return word === "-" || /^-(\d|\.\d)/.test(word);
}

/** parseFlags reads argv by spec; it throws UsageError (unknown flag, missing value, flag or argument). */
export function parseFlags(argv: readonly string[], spec: CommandSpec): ParsedFlags {
  const fail = (message: string) => new UsageError(message, spec.usage);
  const byLong = new Map(Object.keys(spec.flags).map((name) => [norm(name), name]));
  const byShort = new Map(
    Object.entries(spec.flags).flatMap(([name, f]) => (f.short ? [[f.short, name] as const] : [])),
  );
  if (argv.slice(0, endOfFlags(argv)).some((a) => a === "--help" || a === "-h")) return { help: true };
  const values: Record<string, string | boolean | undefined> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith("-") || isArgument(word)) {
      args.push(word);
      continue;
    }
    const long = word.startsWith("--");
    const eq = long ? word.indexOf("=") : -1;
    const written = long ? (eq < 0 ? word : word.slice(0, eq)) : word.slice(0, 2);
    const name = long ? byLong.get(norm(written.slice(2))) : byShort.get(word.charAt(1));
    if (name === undefined) throw fail(`unknown flag ${written}`);
    const flag = spec.flags[name] as FlagSpec;
    let inline: string | undefined;
    if (long && eq >= 0) inline = word.slice(eq + 1);
    else if (!long && word.length > 2) inline = word.slice(word.charAt(2) === "=" ? 3 : 2);
    if (flag.type === "boolean") {
      values[name] = parseBool(inline, written, fail);
      continue;
    }
    if (inline === undefined) {
      // The next word is the value, even "-3"; but not "--x": that is a flag whose value is missing.
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw fail(`flag ${written} needs a value`);
      inline = next;
      i++;
    }
    values[name] = inline;
  }
  for (const [name, f] of Object.entries(spec.flags)) {
    if (f.required && values[name] === undefined) throw fail(`missing required flag --${name}`);
  }
  checkArgs(args, spec, fail);
  return { help: false, values, args };
}

function endOfFlags(argv: readonly string[]): number {
  const i = argv.indexOf("--");
  return i < 0 ? argv.length : i;
}

function parseBool(text: string | undefined, flag: string, fail: (m: string) => UsageError): boolean {
  if (text === undefined || /^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw fail(`${flag}: ${JSON.stringify(text)} must be true or false`);
}

function checkArgs(args: string[], spec: CommandSpec, fail: (m: string) => UsageError): void {
  const names = spec.args ?? [];
  const min = spec.minArgs ?? 0;
  if (args.length < min) throw fail(`missing argument ${names[args.length] ?? names.at(-1) ?? ""}`.trim());
  if (!spec.variadic && args.length > names.length) {
    throw fail(`unexpected argument ${JSON.stringify(args[names.length])}`);
  }
}

/** str reads a string flag's value from parseFlags' values (undefined when absent). */
export function str(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}
