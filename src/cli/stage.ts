/**
 * `hpo-operator stage-in` and `stage-out`: the two halves of a generator Job that run the operator's
 * own image around the user's generator.
 *
 *   stage-in  --from=DIR --to=DIR   copy idds_input.json (or gunzip idds_input.json.gz) from the
 *                                   ConfigMap's folder into the shared working folder
 *   stage-in also checks that the document is an idds_input.json (src/validation/idds.ts)
 *   stage-out --file=PATH [--input=PATH] [--max-bytes=N]
 *                                   check the generator's output (a JSON list of objects, in the
 *                                   input's space when --input names one the operator can read, at
 *                                   most N bytes) and print it to the log in a frame with its length
 *                                   and checksum
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { compileSearchSpace } from "../generators/space.ts";
import type { SearchSpace } from "../generators/types.ts";
import { parseBytes } from "../jobs/bytes.ts";
import { frameOutput, overLimit } from "../jobs/frame.ts";
import { checkOutput, INPUT_FILE } from "../jobs/protocol.ts";
import { checkInput } from "../validation/idds.ts";
import { checkBatch } from "../validation/points.ts";
import { type CommandSpec, parseFlags, str } from "./flags.ts";

/** stageInSpec is the command line of stage-in. */
export const stageInSpec: CommandSpec = {
  flags: { from: { type: "string", required: true }, to: { type: "string", required: true } },
  usage:
    "usage: hpo-operator stage-in --from=DIR --to=DIR\n\n" +
    "Copies idds_input.json (or gunzips idds_input.json.gz) from DIR --from (the input ConfigMap's\n" +
    "folder) into DIR --to (the generator's working folder). Run by the operator's generator Jobs.\n",
};

/** stageOutSpec is the command line of stage-out. */
export const stageOutSpec: CommandSpec = {
  flags: {
    file: { type: "string", required: true },
    input: { type: "string" },
    "max-bytes": { type: "string" },
  },
  usage:
    "usage: hpo-operator stage-out --file=PATH [--input=PATH] [--max-bytes=N]\n\n" +
    "Checks the generator's output PATH (a JSON list of points) and prints it to the log in a frame\n" +
    "with its length and checksum, for the operator to read. With --input (the generation's\n" +
    "idds_input.json), the points must also lie in its opt_space when the operator can read that\n" +
    "space. With --max-bytes (the operator's --generator-output-limit), a larger output fails\n" +
    "without being read. Run by the operator's generator Jobs.\n",
};

function help(spec: CommandSpec): number {
  process.stdout.write(spec.usage);
  return 0;
}

function fail(command: string, message: string, code = 1): number {
  process.stderr.write(`hpo-operator ${command}: ${message}\n`);
  return code;
}

/** runStageIn is the stage-in command. */
export async function runStageIn(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, stageInSpec);
  if (parsed.help) return help(stageInSpec);
  const values = { from: str(parsed.values, "from") as string, to: str(parsed.values, "to") as string };
  const plain = join(values.from, INPUT_FILE);
  const gz = `${plain}.gz`;
  let text: Buffer;
  if (existsSync(plain)) text = readFileSync(plain);
  else if (existsSync(gz)) text = gunzipSync(readFileSync(gz));
  else return fail("stage-in", `neither ${plain} nor ${gz} exists`);
  const input = parseInput(text.toString("utf8"));
  if (!input.ok) return fail("stage-in", `${INPUT_FILE}: ${input.error}`);
  writeFileSync(join(values.to, INPUT_FILE), text);
  process.stderr.write(`stage-in: wrote ${join(values.to, INPUT_FILE)} (${text.length} bytes)\n`);
  return 0;
}

/** runStageOut is the stage-out command. */
export async function runStageOut(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, stageOutSpec);
  if (parsed.help) return help(stageOutSpec);
  const values = { file: str(parsed.values, "file") as string, input: str(parsed.values, "input") };
  if (!existsSync(values.file)) return fail("stage-out", `the generator wrote no output file ${values.file}`);
  const max = str(parsed.values, "max-bytes");
  if (max !== undefined) {
    const limit = parseBytes(max, "--max-bytes");
    const size = statSync(values.file).size;
    if (size > limit) return fail("stage-out", `${values.file}: ${overLimit(size, limit)}`);
  }
  const text = readFileSync(values.file, "utf8");
  const checked = checkOutput(text);
  if (!checked.ok) return fail("stage-out", `${values.file}: ${checked.error}`);
  const space = values.input === undefined ? undefined : spaceOf(values.input);
  if (space) {
    const inSpace = checkBatch(space, checked.points);
    if (!inSpace.ok) return fail("stage-out", `${values.file}: ${inSpace.error}`);
  }
  process.stdout.write(frameOutput(text));
  process.stdout.write(`stage-out: ${checked.points.length} points (${text.length} bytes)\n`);
  return 0;
}

function parseInput(text: string): { ok: true } | { ok: false; error: string } {
  try {
    const checked = checkInput(JSON.parse(text));
    return checked.ok ? { ok: true } : checked;
  } catch (e) {
    return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
  }
}

/**
 * spaceOf is the search space of an idds_input.json, or undefined when there is none the operator
 * can read (a container generator may take an opt_space of its own form: its points are then
 * checked for shape only, as the operator does).
 */
function spaceOf(path: string): SearchSpace | undefined {
  try {
    const checked = checkInput(JSON.parse(readFileSync(path, "utf8")));
    if (!checked.ok || !checked.value.opt_space) return undefined;
    const space = compileSearchSpace(undefined, checked.value.opt_space);
    return space.ok ? space.value : undefined;
  } catch {
    return undefined;
  }
}
