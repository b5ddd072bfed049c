#!/usr/bin/env node
/**
 * hpo-operator: the operator's command line and the container image's entrypoint.
 *
 *   hpo-operator run        run the operator (the reconciler)
 *   hpo-operator generate   a built-in method as an iDDS steering container
 *   hpo-operator api        serve the iDDS HPO REST API (docs/idds-api.md)
 *   hpo-operator validate   check HPORequest manifests offline
 *   hpo-operator convert-idds  translate an iDDS HyperParameterOpt request into an HPORequest
 *
 * No stack trace reaches the user: see toplevel.ts (HPO_DEBUG=1 shows them).
 */
import { UsageError } from "./flags.ts";
import { errorLines, type Program, runMain } from "./toplevel.ts";

/** commands maps each subcommand to its module, loaded only when it runs. */
const commands: Record<string, { summary: string; load: () => Promise<Program> }> = {
  run: {
    summary: "run the operator (the reconciler of HPORequests)",
    load: async () => (await import("./run.ts")).runOperator,
  },
  api: {
    summary: "serve the iDDS HPO REST API (idds-client) over HTTPS, with Kubernetes authentication",
    load: async () => (await import("./api.ts")).runApi,
  },
  validate: {
    summary: "check HPORequest and HyperParameterSet manifests offline (CI, pre-commit hooks)",
    load: async () => (await import("./validate.ts")).runValidate,
  },
  "convert-idds": {
    summary: "translate an iDDS HyperParameterOpt request (JSON) into an HPORequest (YAML)",
    load: async () => (await import("./convert-idds.ts")).runConvertIdds,
  },
  "stage-in": {
    summary: "(generator Jobs) copy idds_input.json into the shared working folder",
    load: async () => (await import("./stage.ts")).runStageIn,
  },
  "stage-out": {
    summary: "(generator Jobs) check the generator's output and print it framed to the log",
    load: async () => (await import("./stage.ts")).runStageOut,
  },
  generate: {
    summary: "propose points with a built-in method, speaking the iDDS container protocol",
    load: async () => (await import("./generate.ts")).runGenerate,
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return (
    `usage: hpo-operator <command> [flags]\n\ncommands:\n${lines.join("\n")}\n\n` +
    "Run 'hpo-operator <command> --help' for a command's flags. Exit codes: 0 done, 1 failed,\n" +
    "2 wrong command line. HPO_DEBUG=1 shows the stack of an error.\n"
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    (name ? process.stdout : process.stderr).write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    const what = name.startsWith("-") ? `unknown flag ${name}` : `unknown command "${name}"`;
    process.stderr.write(`hpo-operator: ${what}\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(errorLines(`hpo-operator ${name}`, e, false));
    return 2;
  }
}

await runMain("hpo-operator", main);
