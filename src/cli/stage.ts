/**
 * `hpo-operator stage-in` and `stage-out`: the two halves of a generator Job that run the operator's
 * own image around the user's generator.
 *
 *   stage-in  --from=DIR --to=DIR   copy idds_input.json (or gunzip idds_input.json.gz) from the
 *                                   ConfigMap's folder into the shared working folder
 *   stage-out --file=PATH           check the generator's output (a JSON list of objects) and print
 *                                   it to the log in a frame with its length and checksum
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { frameOutput } from "../jobs/frame.ts";
import { checkOutput, INPUT_FILE } from "../jobs/protocol.ts";
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
  flags: { file: { type: "string", required: true } },
  usage:
    "usage: hpo-operator stage-out --file=PATH\n\n" +
    "Checks the generator's output PATH (a JSON list of points) and prints it to the log in a frame\n" +
    "with its length and checksum, for the operator to read. Run by the operator's generator Jobs.\n",
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
  writeFileSync(join(values.to, INPUT_FILE), text);
  process.stderr.write(`stage-in: wrote ${join(values.to, INPUT_FILE)} (${text.length} bytes)\n`);
  return 0;
}

/** runStageOut is the stage-out command. */
export async function runStageOut(argv: string[]): Promise<number> {
  const parsed = parseFlags(argv, stageOutSpec);
  if (parsed.help) return help(stageOutSpec);
  const values = { file: str(parsed.values, "file") as string };
  if (!existsSync(values.file)) return fail("stage-out", `the generator wrote no output file ${values.file}`);
  const text = readFileSync(values.file, "utf8");
  const checked = checkOutput(text);
  if (!checked.ok) return fail("stage-out", `${values.file}: ${checked.error}`);
  process.stdout.write(frameOutput(text));
  process.stdout.write(`stage-out: ${checked.points.length} points (${text.length} bytes)\n`);
  return 0;
}
