import { describe, expect, it } from "vitest";
import { compileSearchSpace } from "../generators/space.ts";
import type { SearchSpace } from "../generators/types.ts";
import { checkInput } from "./idds.ts";
import { checkBatch, pointSchema } from "./points.ts";

const compiled = compileSearchSpace({
  drop: { type: "float", low: 0, high: 0.5, step: 0.1 },
  layers: { type: "int", low: 1, high: 8 },
  lr: { type: "float", low: 1e-5, high: 0.1, log: true },
  opt: { type: "categorical", choices: ["adam", "sgd", 1, true] },
});
if (!compiled.ok) throw new Error(compiled.error);
const space: SearchSpace = compiled.value;

describe("checkBatch", () => {
  it("accepts points in the space and canonicalises them", () => {
    expect(checkBatch(space, [{ drop: 0.30000000004, layers: 3.0000001, lr: 0.01, opt: 1 }])).toEqual({
      ok: true,
      value: [{ drop: 0.3, layers: 3, lr: 0.01, opt: 1 }],
    });
    expect(checkBatch(space, [])).toEqual({ ok: true, value: [] });
  });
  it.each([
    [
      [{ drop: 0.2, layers: 9, lr: 0.01, opt: "adam" }],
      'point 1 of the batch is not in the search space: parameter "layers": 9 is not in int [1, 8]',
    ],
    [
      [
        { drop: 0.2, layers: 2, lr: 0.01, opt: "adam" },
        { drop: 0.2, layers: 2, lr: 0.01, opt: "rmsprop" },
      ],
      'point 2 of the batch is not in the search space: parameter "opt": "rmsprop" is not in one of ["adam","sgd",1,true]',
    ],
    [[{ drop: 0.2, layers: 2, lr: 0.01 }], 'parameter "opt": missing from the point'],
    [
      [{ drop: 0.2, layers: 2, lr: 0.01, opt: "sgd", extra: 1 }],
      'parameter "extra": not in the search space',
    ],
    [[5], "a point must be an object of parameter values (got 5)"],
    [
      [{ drop: "0.2", layers: 2, lr: 0.01, opt: "sgd" }],
      'parameter "drop": "0.2" is not in float [0, 0.5] (step 0.1)',
    ],
    [[{ drop: 0.2, layers: 2, lr: 0.01, opt: "true" }], 'parameter "opt": "true" is not in one of'],
  ])("refuses %j, naming the point and the parameter", (batch, message) => {
    const r = checkBatch(space, batch);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
  it("describes a point with exactly the space's parameters", () => {
    expect(pointSchema(space)).toMatchObject({
      type: "object",
      required: ["drop", "layers", "lr", "opt"],
      additionalProperties: false,
      properties: { opt: { enum: ["adam", "sgd", 1, true] } },
    });
  });
});

describe("checkInput (idds_input.json)", () => {
  it("accepts the document the operator writes, with or without a space", () => {
    expect(
      checkInput({ points: [[{ a: 1 }, 0.5], [{ a: 2 }, null], [{ a: 3 }]], opt_space: { a: [0, 5] } }).ok,
    ).toBe(true);
    expect(checkInput({ points: [], opt_space: null }).ok).toBe(true);
    expect(checkInput({}).ok).toBe(true);
  });
  it.each([
    [[], "the document must be an object"],
    [{ points: {} }, '"points" must be a list of [point, loss] pairs'],
    [{ points: [[1, 2]] }, '"points"[0] must be [point, loss] with point an object; got [1,2]'],
    [{ points: [[{ a: 1 }, 1, 2]] }, '"points"[0] must be [point, loss]'],
    [{ points: [[]] }, '"points"[0] must be [point, loss]'],
    [{ opt_space: [1, 2] }, '"opt_space" must be a map of parameters, or null'],
  ])("refuses %j", (doc, message) => {
    const r = checkInput(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });
});
