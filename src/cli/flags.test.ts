import { describe, expect, it } from "vitest";
import { type CommandSpec, parseFlags, UsageError } from "./flags.ts";

const spec: CommandSpec = {
  flags: {
    from: { type: "string", required: true },
    max_points: { type: "string" },
    verbose: { type: "boolean", short: "v" },
    namespace: { type: "string", short: "n" },
  },
  args: ["FILE"],
  variadic: true,
  usage: "usage: x --from=DIR [FILE...]\n",
};

const parse = (argv: string[], s: CommandSpec = spec) => parseFlags(argv, s);
const error = (argv: string[], s: CommandSpec = spec): UsageError => {
  try {
    parse(argv, s);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
};

describe("parseFlags", () => {
  it("reads --name=value, --name value, -n value, -nvalue, booleans, and arguments anywhere", () => {
    expect(parse(["a", "--from=/x", "--max-points", "5", "-v", "-nteam", "b"])).toEqual({
      help: false,
      values: { from: "/x", max_points: "5", verbose: true, namespace: "team" },
      args: ["a", "b"],
    });
    expect(parse(["--from", "/x", "--verbose=false", "-n", "t"])).toMatchObject({
      values: { from: "/x", verbose: false, namespace: "t" },
    });
  });
  it("treats dashes and underscores alike", () => {
    expect(parse(["--from=/x", "--max_points=1"])).toMatchObject({ values: { max_points: "1" } });
    expect(parse(["--from=/x", "--max-points=1"])).toMatchObject({ values: { max_points: "1" } });
  });
  it("keeps -, negative numbers and everything after -- as arguments", () => {
    expect(parse(["--from=/x", "-", "-0.5", "-.5", "--", "--not-a-flag"])).toMatchObject({
      args: ["-", "-0.5", "-.5", "--not-a-flag"],
    });
    expect(parse(["--from", "-3"])).toMatchObject({ values: { from: "-3" } });
  });
  it("answers -h and --help anywhere before --, whatever else is wrong", () => {
    expect(parse(["--help"])).toEqual({ help: true });
    expect(parse(["--bogus", "-h"])).toEqual({ help: true });
    expect(parse(["--from=/x", "--", "-h"])).toMatchObject({ help: false, args: ["-h"] });
  });
  it.each([
    [["--bogus"], "unknown flag --bogus"],
    [["--bogus=1", "--from=/x"], "unknown flag --bogus"],
    [["-x"], "unknown flag -x"],
    [["--from"], "flag --from needs a value"],
    [["--from", "--verbose"], "flag --from needs a value"],
    [["-n"], "flag -n needs a value"],
    [["--from=/x", "--verbose=maybe"], '--verbose: "maybe" must be true or false'],
    [[], "missing required flag --from"],
  ])("refuses %j: %s", (argv, message) => {
    const e = error(argv);
    expect(e.message).toBe(message);
    expect(e.usage).toBe(spec.usage);
  });
  it("counts arguments", () => {
    const one: CommandSpec = { flags: {}, args: ["REQUEST", "ID"], minArgs: 1, usage: "" };
    expect(error([], one).message).toBe("missing argument REQUEST");
    expect(error(["a", "b", "c"], one).message).toBe('unexpected argument "c"');
    expect(error(["a"], { flags: {}, usage: "" }).message).toBe('unexpected argument "a"');
    expect(parse(["a", "b"], one)).toMatchObject({ args: ["a", "b"] });
  });
});
