/**
 * `hpo-operator convert-idds FILE.json`: translates an iDDS HyperParameterOpt request (the body of
 * idds-client's add_request, or its request_metadata alone) into an HPORequest and prints it as
 * YAML (src/idds/convert.ts does the translation and validates it, so an invalid HPORequest is never
 * printed). Notes on dropped fields go to standard error; a field that cannot be translated is an
 * error that names it (exit code 1).
 */
import { readFileSync } from "node:fs";
import { Document, isScalar, isSeq, visit } from "yaml";
import { IddsConversionError, translateIddsRequest } from "../idds/convert.ts";
import { type CommandSpec, parseFlags, str } from "./flags.ts";

/** convertCommandSpec is the command line of convert-idds. */
export const convertCommandSpec: CommandSpec = {
  flags: {
    name: { type: "string" },
    namespace: { type: "string", short: "n" },
    optimizer: { type: "string" },
    quiet: { type: "boolean", short: "q" },
  },
  args: ["FILE"],
  minArgs: 1,
  usage: `usage: hpo-operator convert-idds [--name NAME] [-n NAMESPACE] [--optimizer NAME] [-q] FILE

Translates an iDDS HyperParameterOpt request into an HPORequest and prints it as YAML, ready for
kubectl apply -f -. FILE (or "-" for standard input) holds the JSON that idds-client's add_request
posts (request_type, request_metadata, ...), or request_metadata alone; write it from Python with
json.dumps, or idds.common.utils.json_dumps for iDDS's enums. Translated: method, opt_space (every
iDDS form, kept verbatim), max_points, num_points_per_generation, min_unevaluated_points,
initial_points, the docker method's sandbox, arguments, workdir and output_json, and workload_id
(the hpo.dev/workload-id annotation). The result is checked as hpo-operator validate checks it.

  --name NAME         the HPORequest's name (default hpo-<workload_id>; without a workload_id,
                      generateName hpo-, which needs kubectl create instead of apply)
  -n, --namespace NS  its namespace (default: none, so kubectl's current namespace)
  --optimizer NAME    method nevergrad: a nevergrad optimizer other than iDDS's DiscreteOnePlusOne
  -q, --quiet         do not print the notes on dropped fields

Exit codes: 0 printed, 1 the request cannot be translated (the message names the iDDS field and
says what to change), 2 wrong command line. See docs/idds-migration.md.
`,
};

/** ConvertIo is where convert-idds reads and writes. */
export interface ConvertIo {
  out: (s: string) => void;
  err: (s: string) => void;
  readFile: (file: string) => string;
}

const processIo: ConvertIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  readFile: (file) => readFileSync(file === "-" ? 0 : file, "utf8"),
};

/** runConvertIdds is `hpo-operator convert-idds`. */
export async function runConvertIdds(argv: string[], io: ConvertIo = processIo): Promise<number> {
  const parsed = parseFlags(argv, convertCommandSpec);
  if (parsed.help) {
    io.out(convertCommandSpec.usage);
    return 0;
  }
  const file = parsed.args[0] as string;
  const shown = file === "-" ? "<stdin>" : file;
  const request = parseJson(shown, readInput(io, file, shown));
  try {
    const { request: hpo, notes } = translateIddsRequest(request, {
      name: str(parsed.values, "name"),
      namespace: str(parsed.values, "namespace"),
      nevergradOptimizer: str(parsed.values, "optimizer"),
    });
    if (parsed.values.quiet !== true)
      for (const n of notes) io.err(`hpo-operator convert-idds: note: ${n}\n`);
    io.out(toYaml(hpo));
    return 0;
  } catch (e) {
    if (e instanceof IddsConversionError) throw new Error(`${shown}: ${e.message}`);
    throw e;
  }
}

/** toYaml writes an object as YAML, short lists of plain values on one line ([0, 5]). */
export function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_key, node) {
      if (isSeq(node) && node.items.every((i) => isScalar(i)) && JSON.stringify(node).length <= 60) {
        node.flow = true;
      }
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

function readInput(io: ConvertIo, file: string, shown: string): string {
  try {
    return io.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${shown}: cannot read the file${code ? ` (${code})` : ""}`);
  }
}

/** parseJson reads the request; a Python literal (single quotes, None, tuples) gets a hint. */
function parseJson(shown: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const python = /\bNone\b|\bTrue\b|\bFalse\b|'/.test(text)
      ? " (it looks like a Python literal: write it with json.dumps)"
      : "";
    throw new Error(`${shown}: not valid JSON: ${(e as Error).message}${python}`);
  }
}
