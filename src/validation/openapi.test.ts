import { describe, expect, it } from "vitest";
import { crdSchemas } from "../api/generated/schemas.ts";
import { crdAjv, toJsonSchema } from "./openapi.ts";

describe("toJsonSchema", () => {
  it("turns OpenAPI 3.0's boolean exclusive bounds into JSON Schema's numbers", () => {
    expect(toJsonSchema({ type: "number", minimum: 0, exclusiveMinimum: true })).toEqual({
      type: "number",
      exclusiveMinimum: 0,
    });
    expect(toJsonSchema({ type: "number", maximum: 5, exclusiveMaximum: false })).toEqual({
      type: "number",
      maximum: 5,
    });
  });
  it("closes objects with properties, unless they preserve unknown fields", () => {
    const s = toJsonSchema({
      type: "object",
      properties: {
        a: { type: "object", properties: { b: { type: "string" } } },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { c: {} } },
        map: { type: "object", additionalProperties: { type: "string" } },
      },
    }) as { additionalProperties: unknown; properties: Record<string, Record<string, unknown>> };
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.a?.additionalProperties).toBe(false);
    expect(s.properties.free?.additionalProperties).toBeUndefined();
    expect(s.properties.map?.additionalProperties).toEqual({ type: "string" });
  });
});

describe("crdAjv", () => {
  it("compiles every CRD version's schema (an unknown keyword would fail here)", () => {
    for (const crd of crdSchemas)
      for (const v of crd.versions) expect(() => crdAjv().compile(toJsonSchema(v.schema))).not.toThrow();
    expect(() => crdAjv().compile({ type: "object", "x-kubernetes-something-new": true })).toThrow(
      /unknown keyword/,
    );
  });
  it("checks x-kubernetes-list-type set and map", () => {
    const set = crdAjv().compile({ type: "array", "x-kubernetes-list-type": "set" });
    expect(set([1, 2])).toBe(true);
    expect(set([1, 1])).toBe(false);
    const map = crdAjv().compile({
      type: "array",
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    });
    expect(
      map([
        { type: "A", v: 1 },
        { type: "B", v: 1 },
      ]),
    ).toBe(true);
    expect(
      map([
        { type: "A", v: 1 },
        { type: "A", v: 2 },
      ]),
    ).toBe(false);
    expect(map.errors?.[0]).toMatchObject({ keyword: "x-kubernetes-list-type", params: { index: 1 } });
  });
  it("checks x-kubernetes-int-or-string", () => {
    const v = crdAjv().compile({ "x-kubernetes-int-or-string": true });
    expect([v(1), v("1Gi"), v(1.5), v(true)]).toEqual([true, true, false, false]);
  });
  it("fills defaults, as the API server does before its rules run", () => {
    const v = crdAjv().compile({ type: "object", properties: { n: { type: "integer", default: 10 } } });
    const data: Record<string, unknown> = {};
    expect(v(data)).toBe(true);
    expect(data).toEqual({ n: 10 });
  });
});
