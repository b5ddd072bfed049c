import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  baseRequest,
  baseSet,
  invalidRequests,
  invalidSets,
  req,
  set,
  space,
  validRequests,
} from "../../test/fixtures/manifests.ts";
import { fieldOf, operatorProblem, type Problem, segmentsOf, validateObject } from "./manifest.ts";

const problemsOf = (obj: unknown): Problem[] => {
  const v = validateObject(obj);
  if (!v.checked) throw new Error(`skipped: ${v.reason}`);
  return v.problems;
};
const lines = (ps: Problem[]) => ps.map((p) => `${p.field}: ${p.message}`).join("\n");

describe("validateObject gives the API server's verdict on the API tests' manifests", () => {
  it.each([...invalidRequests, ...invalidSets].map((c) => [c.name, c] as const))("%s is invalid", (_n, c) => {
    const text = lines(problemsOf(c.make()));
    expect(text).toContain(`${c.field}: `);
    for (const s of c.expect) expect(text).toContain(s);
  });

  it.each(validRequests)("%s passes the API server's checks", (_n, make) => {
    expect(problemsOf(make()).filter((p) => p.by !== "operator")).toEqual([]);
  });

  it("accepts the base objects and the samples", () => {
    expect(problemsOf(baseRequest())).toEqual([]);
    expect(problemsOf(baseSet())).toEqual([]);
    const root = join(import.meta.dirname, "../..");
    for (const f of ["", "_container", "_idds"]) {
      const text = readFileSync(join(root, `config/samples/hpo_v1alpha1_hporequest${f}.yaml`), "utf8");
      for (const doc of parseAllDocuments(text)) expect(problemsOf(doc.toJS()), f).toEqual([]);
    }
  });
});

describe("validateObject", () => {
  it("skips objects of other groups, and refuses unknown kinds and versions of ours", () => {
    expect(validateObject({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }).checked).toBe(
      false,
    );
    expect(lines(problemsOf({ ...baseRequest(), kind: "HPOThing" }))).toContain(
      'kind: no kind "HPOThing" in hpo.dev; known: HPORequest, HyperParameterSet',
    );
    expect(lines(problemsOf({ ...baseRequest(), apiVersion: "hpo.dev/v2" }))).toContain(
      "apiVersion: hpo.dev/v2 is not served; use hpo.dev/v1alpha1",
    );
    expect(lines(problemsOf(["a list"]))).toContain("not a Kubernetes object");
  });

  it("checks metadata.name as the API server does", () => {
    expect(lines(problemsOf(set(baseRequest(), "metadata.name", undefined)))).toContain(
      "metadata.name: Required value",
    );
    expect(lines(problemsOf(set(baseRequest(), "metadata.name", "My_Request")))).toContain(
      'metadata.name: Invalid value: "My_Request"',
    );
    expect(
      problemsOf(set(set(baseRequest(), "metadata.name", undefined), "metadata.generateName", "r-")),
    ).toEqual([]);
  });

  it("refuses fields the schema does not know (kubectl's default strict validation), but not in preserved maps", () => {
    expect(lines(problemsOf(set(baseRequest(), "spec.colour", "red")))).toContain(
      "spec.colour: unknown field: it is not in the schema",
    );
    expect(
      problemsOf(set(baseRequest(), "spec.generator", { image: "x", securityContext: { any: 1 } })),
    ).toEqual([]);
  });

  it("ignores status, which the API server drops on create", () => {
    expect(problemsOf(set(baseRequest(), "status", { phase: "Nonsense" }))).toEqual([]);
  });

  it("checks int-or-string quantities", () => {
    const withLimits = (v: unknown) =>
      problemsOf(set(baseRequest(), "spec.generator", { image: "x", resources: { limits: { cpu: v } } }));
    expect(withLimits(2)).toEqual([]);
    expect(withLimits("500m")).toEqual([]);
    expect(lines(withLimits(true))).toContain("spec.generator.resources.limits.cpu: Invalid value");
    expect(lines(withLimits("lots"))).toContain("should match");
  });

  it("adds the operator's own checks, and says the API server accepts them", () => {
    const ps = problemsOf(req(space("c", { type: "float", low: 0, high: 1, choices: [1] }))());
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ by: "operator", field: "spec.searchSpace" });
    expect(ps[0]?.message).toContain("choices belongs to categorical parameters");
    expect(ps[0]?.message).toContain("the API server accepts this");
    const outside = problemsOf(req(["spec.initialPoints", [{ params: { layers: 99 } }]])());
    expect(outside).toMatchObject([
      { by: "operator", field: "spec.initialPoints[0]", path: ["spec", "initialPoints", 0] },
    ]);
    expect(operatorProblem("spec.maxPoints (1) is less than the number of spec.initialPoints")).toMatchObject(
      {
        field: "spec.maxPoints",
        message: expect.stringMatching(/^spec.maxPoints \(1\) is less than/),
      },
    );
  });

  it("runs the CEL rules on the defaulted object, and leaves transition rules to the API server", () => {
    expect(problemsOf(req(["spec.seed", 7])())).toEqual([]);
  });
});

describe("paths", () => {
  it("writes fields as the API server does", () => {
    expect(fieldOf(["spec", "initialPoints", 0, "params"])).toBe("spec.initialPoints[0].params");
    expect(fieldOf(["spec", "searchSpace", "x"], true)).toBe("spec.searchSpace[x]");
    expect(fieldOf([])).toBe("");
  });
  it("reads JSON pointers against the data, so list indices are numbers", () => {
    expect(segmentsOf("/spec/initialPoints/0/a~1b", { spec: { initialPoints: [{}] } })).toEqual([
      "spec",
      "initialPoints",
      0,
      "a/b",
    ]);
  });
});
