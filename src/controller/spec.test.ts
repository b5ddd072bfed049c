import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import { generationSeed, seedOf, validateSpec } from "./spec.ts";

const req = (spec: Partial<HPORequest["spec"]>, uid = "uid-1"): HPORequest => ({
  metadata: { name: "r", namespace: "ns", uid },
  spec: { method: "tpe", ...spec },
});

describe("validateSpec", () => {
  it("compiles a valid space and canonicalises initial points", () => {
    const r = validateSpec(
      req({ searchSpace: { n: { type: "int", low: 1, high: 8 } }, initialPoints: [{ params: { n: 3 } }] }),
    );
    expect(r).toMatchObject({ ok: true, initial: [{ n: 3 }] });
  });
  it.each([
    [
      "categorical without choices",
      { searchSpace: { opt: { type: "categorical" as const } } },
      ["spec.searchSpace", '"opt"'],
    ],
    [
      "choices that are objects",
      { searchSpace: { opt: { type: "categorical" as const, choices: [{ a: 1 }] as never } } },
      ['"opt"'],
    ],
    [
      "float with choices",
      { searchSpace: { x: { type: "float" as const, low: 0, high: 1, choices: [1] } } },
      ['"x"'],
    ],
    ["an untranslatable optSpace", { optSpace: { a: { type: "Weird" } } }, ["spec.optSpace", '"a"']],
    [
      "an initial point outside the space",
      {
        searchSpace: { n: { type: "int" as const, low: 1, high: 8 } },
        initialPoints: [{ params: { n: 3 } }, { params: { n: 30 } }],
      },
      ["spec.initialPoints[1]", '"n"'],
    ],
    [
      "maxPoints below the initial points",
      {
        searchSpace: { n: { type: "int" as const, low: 1, high: 8 } },
        maxPoints: 1,
        initialPoints: [{ params: { n: 1 } }, { params: { n: 2 } }],
      },
      ["spec.maxPoints"],
    ],
  ])("refuses %s, naming what to fix", (_what, spec, parts) => {
    const r = validateSpec(req(spec));
    expect(r.ok).toBe(false);
    if (!r.ok) for (const part of parts) expect(r.message).toContain(part);
  });
  it("lets a container generator run without a space", () => {
    expect(validateSpec(req({ method: "container", generator: { image: "x" } }))).toMatchObject({
      ok: true,
      space: undefined,
    });
  });
});

describe("seeds", () => {
  it("uses spec.seed, else a stable number from the uid", () => {
    expect(seedOf(req({ seed: 7 }))).toBe(7);
    expect(seedOf(req({}, "a"))).toBe(seedOf(req({}, "a")));
    expect(seedOf(req({}, "a"))).not.toBe(seedOf(req({}, "b")));
  });
  it("gives each generation its own seed", () => {
    expect(generationSeed(7, 1)).not.toBe(generationSeed(7, 2));
    expect(generationSeed(7, 1)).toBe(generationSeed(7, 1));
  });
});
