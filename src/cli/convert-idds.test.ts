import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateObject } from "../validation/manifest.ts";
import { type ConvertIo, runConvertIdds } from "./convert-idds.ts";
import { UsageError } from "./flags.ts";

const fixtures = join(import.meta.dirname, "../../test/fixtures/idds");

/** io runs convert-idds on files (by name), "-" reading stdin; it collects what is printed. */
function io(stdin = ""): ConvertIo & { stdout: string; stderr: string } {
  const r = {
    stdout: "",
    stderr: "",
    out: (s: string) => {
      r.stdout += s;
    },
    err: (s: string) => {
      r.stderr += s;
    },
    readFile: (f: string) => (f === "-" ? stdin : readFileSync(f, "utf8")),
  };
  return r;
}

describe("hpo-operator convert-idds", () => {
  it("prints the HPORequest as YAML that validates, and the notes on standard error", async () => {
    const r = io();
    const code = await runConvertIdds(["--name", "ng", "-n", "team-a", join(fixtures, "nevergrad.json")], r);
    expect(code).toBe(0);
    const hpo = parse(r.stdout);
    expect(hpo).toMatchObject({
      metadata: { name: "ng", namespace: "team-a" },
      spec: { method: "nevergrad" },
    });
    expect(validateObject(hpo)).toMatchObject({ checked: true, problems: [] });
    expect(r.stderr).toBe(
      "hpo-operator convert-idds: note: lifetime (30) is dropped: HPORequests do not expire; delete the HPORequest when it is no longer needed\n",
    );
  });
  it("reads standard input with -, and -q leaves the notes out", async () => {
    const r = io(readFileSync(join(fixtures, "bayesian.json"), "utf8"));
    expect(await runConvertIdds(["-q", "--optimizer=NGOpt", "-"], r)).toBe(0);
    expect(parse(r.stdout).spec.optSpace).toEqual({ A: [1, 4], B: [1, 10] });
    expect(r.stderr).toBe("");
  });
  it("an untranslatable field is an error naming the file and the field; nothing is printed", async () => {
    const r = io(
      '{"request_metadata": {"method": "bayesian", "opt_space": {"A": [1, 4]}, "max_points": -1}}',
    );
    await expect(runConvertIdds(["-"], r)).rejects.toThrow(
      "<stdin>: request_metadata.max_points: must be a whole number from 1 to 1000000; got -1",
    );
    expect(r.stdout).toBe("");
  });
  it("says what is wrong with a file that is not JSON, or not there", async () => {
    await expect(runConvertIdds(["-"], io("{'method': None}"))).rejects.toThrow(
      /^<stdin>: not valid JSON: .* \(it looks like a Python literal: write it with json.dumps\)$/,
    );
    await expect(runConvertIdds(["/nowhere.json"], io())).rejects.toThrow(
      "/nowhere.json: cannot read the file (ENOENT)",
    );
  });
  it("prints what docs/idds-migration.md shows for iDDS's docker example", async () => {
    const doc = readFileSync(join(import.meta.dirname, "../../docs/idds-migration.md"), "utf8");
    const shown = /\$ hpo-operator convert-idds -n team-a my-hpo\.json\n.*\n(apiVersion:[\s\S]*?)\$ /.exec(
      doc,
    )?.[1];
    const r = io();
    await runConvertIdds(["-q", "-n", "team-a", join(fixtures, "docker.json")], r);
    expect(r.stdout).toBe(shown);
  });
  it("--help prints the usage; a missing FILE is a usage error", async () => {
    const r = io();
    expect(await runConvertIdds(["--help"], r)).toBe(0);
    expect(r.stdout).toMatch(/^usage: hpo-operator convert-idds/);
    await expect(runConvertIdds([], io())).rejects.toThrow(UsageError);
  });
});
