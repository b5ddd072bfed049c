import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Counts, checkText, validateFiles } from "./validate.ts";

const counts = (): Counts => ({ valid: 0, invalid: 0, skipped: 0 });

const request = (name: string, extra = "") => `apiVersion: hpo.dev/v1alpha1
kind: HPORequest
metadata:
  name: ${name}
spec:
  method: tpe
  searchSpace:
    lr: {type: float, low: 0.001, high: 0.1, log: true}${extra}
`;

describe("checkText", () => {
  it("checks every document, names file and line, and skips other groups", () => {
    const c = counts();
    const text = [
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
      request("ok"),
      request("bad", "\n    x:\n      type: float\n      low: 2\n      high: 1\n  maxPoints: 0"),
      "",
    ].join("---\n");
    expect(checkText("m.yaml", text, c)).toEqual([
      'm.yaml:23: spec.searchSpace[x]: Invalid value: "object": low must be less than high',
      "m.yaml:27: spec.maxPoints: Invalid value: 0: should be greater than or equal to 1",
    ]);
    expect(c).toEqual({ valid: 1, invalid: 1, skipped: 1 });
  });
  it("reads JSON, and the items of a List", () => {
    const c = counts();
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "hpo.dev/v1alpha1",
          kind: "HyperParameterSet",
          metadata: { name: "a" },
          spec: { request: "r", firstId: 1, lastId: 10 },
        },
        {
          apiVersion: "hpo.dev/v1alpha1",
          kind: "HyperParameterSet",
          metadata: { name: "b" },
          spec: { firstId: 1, lastId: 10 },
        },
      ],
    };
    expect(checkText("l.json", JSON.stringify(list, null, 1), c)).toEqual([
      "l.json:23: spec.request: Required value",
    ]);
    expect(c).toEqual({ valid: 1, invalid: 1, skipped: 0 });
  });
  it("reads YAML 1.1 as kubectl does: an unquoted yes is a boolean", () => {
    const c = counts();
    expect(checkText("y.yaml", request("yes-please", "\n  suspend: yes"), c)).toEqual([]);
    expect(c.valid).toBe(1);
  });
  it("reports YAML it cannot parse", () => {
    const c = counts();
    expect(checkText("b.yaml", "a: [1, 2\n", c)[0]).toMatch(/^b\.yaml:\d+: cannot parse the YAML: /);
    expect(c.invalid).toBe(1);
  });
});

describe("validateFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "hpo-validate-"));
  const good = join(dir, "good.yaml");
  const bad = join(dir, "bad.yaml");
  writeFileSync(good, request("good"));
  writeFileSync(bad, request("bad", "\n  maxPoints: 0"));
  const run = (files: string[], stdin = "") => {
    const out: string[] = [];
    const err: string[] = [];
    const code = validateFiles(
      files,
      {},
      { out: (s) => out.push(s), err: (s) => err.push(s), readStdin: () => stdin },
    );
    return { code, out: out.join(""), err: err.join("") };
  };
  it("exits 0 when every object is valid, 1 when one is not, and sums up on stderr", () => {
    expect(run([good])).toEqual({
      code: 0,
      out: "",
      err: "hpo-operator validate: 1 valid, 0 invalid, 0 skipped (not hpo.dev)\n",
    });
    const r = run([good, bad]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`${bad}:9: spec.maxPoints: Invalid value: 0: should be greater than or equal to 1\n`);
    expect(r.err).toContain("1 valid, 1 invalid");
  });
  it("reads the manifests of a folder", () => {
    const r = run([dir]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("1 valid, 1 invalid");
  });
  it("reads - from standard input, and fails on a file it cannot read", () => {
    expect(run(["-"], request("in", "\n  maxPoints: 0")).out).toMatch(/^<stdin>:9: spec.maxPoints/);
    const missing = run([join(dir, "nope.yaml")]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("nope.yaml: cannot read the file (ENOENT)");
  });
});
