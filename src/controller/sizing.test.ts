import { describe, expect, it } from "vitest";
import type { HyperParameterSet } from "../api/index.ts";
import { MAX_POINTS_PER_SET } from "../api/shards.ts";
import type { Dim, SearchSpace } from "../generators/types.ts";
import {
  MAX_OBJECT_BYTES,
  MAX_REASON_CHARS,
  maxParamsBytes,
  paramsBytes,
  paramsBytesOf,
  pointsPerSet,
  SET_OVERHEAD_BYTES,
} from "./sizing.ts";

/** The longest JSON a float prints as, and a 4-byte UTF-8 character (one code point for the CRD's maxLength). */
const LONGEST_FLOAT = -1.2345678901234567e-308;
const WIDE = "\u{1F600}";

const floats = (n: number): SearchSpace => ({
  dims: Array.from({ length: n }, (_, i) => ({
    name: `param_${String(i).padStart(4, "0")}`,
    kind: "float" as const,
    low: -1,
    high: 1,
    log: false,
  })),
});

/** worstParams gives every parameter of space its longest value. */
function worstParams(space: SearchSpace): Record<string, unknown> {
  const longest = (d: Dim): unknown => {
    if (d.kind === "float") return LONGEST_FLOAT;
    if (d.kind === "int") return String(d.low).length >= String(d.high).length ? d.low : d.high;
    return [...d.choices].sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
  };
  return Object.fromEntries(space.dims.map((d) => [d.name, longest(d)]));
}

/**
 * worstSet is a set of n points with the largest ids and generation numbers, every param at its
 * longest value, and each point's outcome as big as it can be: a 128-character failure of 4-byte
 * characters, or the longest loss. Its spec and status as JSON are what the set's points cost.
 */
function worstSet(space: SearchSpace, n: number, outcome: "failed" | "loss"): HyperParameterSet {
  const params = worstParams(space);
  const ids = Array.from({ length: n }, (_, i) => String(999_999_999 - i));
  const reason = WIDE.repeat(MAX_REASON_CHARS);
  return {
    spec: {
      request: "r",
      firstId: 999_999_999 - n + 1,
      lastId: 999_999_999,
      ...(outcome === "failed"
        ? { failed: Object.fromEntries(ids.map((id) => [id, reason])) }
        : { losses: Object.fromEntries(ids.map((id) => [id, LONGEST_FLOAT])) }),
    },
    status: { total: n, points: ids.map((id) => ({ id, params, generation: 1_000_000 })) },
  };
}

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
/** pointsCost is what a set's points take: status.points and their outcomes (the rest is the set's overhead). */
const pointsCost = (s: HyperParameterSet) => bytes(s.status?.points) + bytes(s.spec.failed ?? s.spec.losses);

describe("paramsBytesOf", () => {
  it.each([
    ["floats", floats(3)],
    [
      "ints, negative and wide",
      {
        dims: [
          { name: "n", kind: "int", low: -100000, high: 5, log: false },
          { name: "m", kind: "int", low: 1, high: 123456789, log: false },
        ],
      },
    ],
    [
      "categorical choices of any type, with non-ASCII text",
      {
        dims: [
          { name: "opt", kind: "categorical", choices: ["adam", "sgd-with-momentum", "\u00e9\u00e8"] },
          { name: "flag", kind: "categorical", choices: [true, false, null, 12.5] },
        ],
      },
    ],
  ] as [string, SearchSpace][])("bounds the JSON of the longest params of %s", (_what, space) => {
    // paramsBytesOf leaves out the braces: the point's overhead counts them.
    expect(bytes(worstParams(space))).toBeLessThanOrEqual(paramsBytesOf(space) + 2);
  });

  it("paramsBytes is the JSON size of params as stored", () => {
    expect(paramsBytes({ x: 1 })).toBe(7);
    expect(paramsBytes({ s: "\u00e9" })).toBe(10);
  });
});

describe("pointsPerSet", () => {
  it("20 float parameters give sets under the 8 KiB target, with a loss for every point", () => {
    const space = floats(20);
    const n = pointsPerSet(paramsBytesOf(space), 8192, MAX_POINTS_PER_SET);
    expect(n).toBeGreaterThan(1);
    expect(pointsCost(worstSet(space, n, "loss")) + SET_OVERHEAD_BYTES).toBeLessThanOrEqual(8192);
    // and the target is used, not far undershot: two more points would pass it
    expect(pointsCost(worstSet(space, n + 2, "loss")) + SET_OVERHEAD_BYTES).toBeGreaterThan(8192);
  });

  it.each([
    [1, 8192],
    [1, 512 * 1024],
    [20, 512 * 1024],
    [1000, 8192],
    [1000, 512 * 1024],
  ])(
    "%i float parameters, target %i bytes: a set stays under 512 KiB with a 128-character failure for every point",
    (dims, target) => {
      const space = floats(dims);
      const n = pointsPerSet(paramsBytesOf(space), target, MAX_POINTS_PER_SET);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(MAX_POINTS_PER_SET);
      expect(pointsCost(worstSet(space, n, "failed")) + SET_OVERHEAD_BYTES).toBeLessThanOrEqual(
        MAX_OBJECT_BYTES,
      );
    },
  );

  it("never holds more than the CRD allows", () => {
    expect(pointsPerSet(1, 512 * 1024, MAX_POINTS_PER_SET)).toBeLessThanOrEqual(MAX_POINTS_PER_SET);
    expect(pointsPerSet(1, 512 * 1024, 7)).toBe(7);
  });

  it("gives 0 when one point's params pass the bound, at least 1 up to it", () => {
    expect(pointsPerSet(maxParamsBytes(), 8192, MAX_POINTS_PER_SET)).toBe(1);
    expect(pointsPerSet(maxParamsBytes() + 1, 8192, MAX_POINTS_PER_SET)).toBe(0);
    expect(pointsPerSet(10 * 1024 * 1024, 8192, MAX_POINTS_PER_SET)).toBe(0);
    // the largest params that are allowed still fit, with a failure, in one set
    const one = worstSet({ dims: [] }, 1, "failed");
    expect(pointsCost(one) + maxParamsBytes() + SET_OVERHEAD_BYTES).toBeLessThanOrEqual(MAX_OBJECT_BYTES);
  });

  it("leaves room for a set's metadata and the JSON around its points", () => {
    const name = "x".repeat(61);
    const set = worstSet({ dims: [] }, 0, "failed");
    const manager = (m: string, operation: string, fields: Record<string, unknown>) => ({
      manager: m,
      operation,
      apiVersion: "hpo.dev/v1alpha1",
      time: "2026-12-07T03:30:25Z",
      fieldsType: "FieldsV1",
      fieldsV1: fields,
      ...(operation === "Apply" ? { subresource: "status" } : {}),
    });
    const full: HyperParameterSet = {
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HyperParameterSet",
      metadata: {
        name: `${name}-100000`,
        namespace: "n".repeat(63),
        uid: "0000000a-0000-0000-0000-000000000000",
        resourceVersion: "123456789012",
        generation: 123456,
        creationTimestamp: "2026-12-07T03:30:25Z",
        labels: { "hpo.dev/request": name },
        ownerReferences: [
          {
            apiVersion: "hpo.dev/v1alpha1",
            kind: "HPORequest",
            name,
            uid: "0000000a-0000-0000-0000-000000000000",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        managedFields: [
          manager("hpo-operator", "Update", {
            "f:metadata": { "f:labels": { ".": {}, "f:hpo.dev/request": {} }, "f:ownerReferences": {} },
            "f:spec": { ".": {}, "f:firstId": {}, "f:lastId": {}, "f:request": {} },
          }),
          manager("hpo-client", "Update", { "f:spec": { "f:failed": {}, "f:losses": {} } }),
          manager("hpo-reconciler", "Apply", { "f:status": { ".": {}, "f:points": {}, "f:total": {} } }),
        ],
      },
      spec: set.spec,
      status: set.status,
    };
    expect(bytes(full)).toBeLessThanOrEqual(SET_OVERHEAD_BYTES);
  });
});
