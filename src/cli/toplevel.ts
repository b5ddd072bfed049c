/**
 * The top of every command-line program: whatever goes wrong reaches the user as one line, never
 * as a stack trace. A UsageError prints its message and the command's usage (exit code 2); any
 * other error, thrown or rejected at any time, prints `<program>: <message>` (exit code 1).
 * HPO_DEBUG=1 in the environment adds the stack (and the causes) for a developer.
 */
import { UsageError } from "./flags.ts";

/** Program is a command line's main function: it resolves with the exit code. */
export type Program = (argv: string[]) => Promise<number>;

/** errorLines is what the user reads for an error: one line, or the stack and causes when debug is set. */
export function errorLines(program: string, e: unknown, debug: boolean): string {
  if (e instanceof UsageError) {
    return `${program}: ${e.message}\n${e.usage ? `\n${e.usage.replace(/\n?$/, "\n")}` : ""}`;
  }
  const message = e instanceof Error ? e.message : String(e);
  let text = `${program}: ${oneLine(message)}\n`;
  if (debug) {
    for (let c: unknown = e; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) {
      text += `${c instanceof Error ? (c.stack ?? c.message) : String(c)}\n`;
      if (!(c instanceof Error)) break;
    }
  }
  return text;
}

/** exitCodeOf is 2 for a wrong command line, 1 for anything else. */
export function exitCodeOf(e: unknown): number {
  return e instanceof UsageError ? 2 : 1;
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, " ").trim() || "failed (no message)";
}

/**
 * runMain runs main with the process's arguments and sets the exit code; errors that escape main,
 * and any uncaught exception or unhandled rejection later on, print one line and exit 1.
 */
export async function runMain(program: string, main: Program): Promise<void> {
  const debug = /^(1|true|yes)$/i.test(process.env.HPO_DEBUG ?? "");
  const die = (e: unknown) => {
    process.stderr.write(errorLines(program, e, debug));
    process.exit(exitCodeOf(e));
  };
  process.on("uncaughtException", die);
  process.on("unhandledRejection", die);
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    // Exit now: whatever was started before the error (worker threads, sockets) must not keep
    // the process alive.
    die(e);
  }
}
