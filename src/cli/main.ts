#!/usr/bin/env node
/**
 * hpo-operator: the operator's command line and the container image's entrypoint.
 *
 *   hpo-operator run        run the operator (the reconciler)
 *   hpo-operator generate   a built-in method as an iDDS steering container
 */
type Command = (argv: string[]) => Promise<number>;

/** commands maps each subcommand to its module, loaded only when it runs. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: "run the operator (the reconciler of HPORequests)",
    load: async () => (await import("./run.ts")).runOperator,
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
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: hpo-operator <command> [flags]\n\ncommands:\n${lines.join("\n")}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`hpo-operator: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest);
}

process.exitCode = await main(process.argv.slice(2));
