import { describe, expect, it } from "vitest";
import { UsageError } from "./flags.ts";
import { errorLines, exitCodeOf } from "./toplevel.ts";

describe("errorLines", () => {
  it("prints any error as one line, without its stack", () => {
    const e = new Error("cannot read kubeconfig /missing: no such file");
    expect(errorLines("hpo-operator", e, false)).toBe(
      "hpo-operator: cannot read kubeconfig /missing: no such file\n",
    );
    expect(errorLines("hpo-operator", new Error("two\n  lines"), false)).toBe("hpo-operator: two lines\n");
    expect(errorLines("hpo-operator", "a string", false)).toBe("hpo-operator: a string\n");
    expect(errorLines("hpo-operator", new Error(""), false)).toBe("hpo-operator: failed (no message)\n");
    expect(exitCodeOf(e)).toBe(1);
  });
  it("adds the stack and the causes when debugging", () => {
    const e = new Error("outer", { cause: new Error("inner") });
    const text = errorLines("hpo-operator", e, true);
    expect(text.split("\n")[0]).toBe("hpo-operator: outer");
    expect(text).toMatch(/ {4}at /);
    expect(text).toContain("Error: inner");
  });
  it("prints a wrong command line with the usage, exit code 2", () => {
    const e = new UsageError("unknown flag --x", "usage: hpo-operator stage-in --from=DIR --to=DIR\n");
    expect(errorLines("hpo-operator stage-in", e, false)).toBe(
      "hpo-operator stage-in: unknown flag --x\n\nusage: hpo-operator stage-in --from=DIR --to=DIR\n",
    );
    expect(exitCodeOf(e)).toBe(2);
  });
});
