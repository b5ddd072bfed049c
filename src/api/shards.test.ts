import { describe, expect, it } from "vitest";
import type { HPORequest, HyperParameterSet } from "./generated/types.ts";
import { chunksOf, setIndexOf, setName, setNameOf, setRange, setsOfRequest } from "./shards.ts";

describe("the placement of points in sets", () => {
  it.each([
    [1, 10, 1],
    [10, 10, 1],
    [11, 10, 2],
    [20, 10, 2],
    [21, 10, 3],
    [1, 1, 1],
    [7, 1, 7],
    [999, 1000, 1],
    [1001, 1000, 2],
  ])("point %i with %i points per set is in set %i", (id, perSet, k) => {
    expect(setIndexOf(id, perSet)).toBe(k);
    const { firstId, lastId } = setRange(k, perSet);
    expect(id).toBeGreaterThanOrEqual(firstId);
    expect(id).toBeLessThanOrEqual(lastId);
    expect(setNameOf("r", id, perSet)).toBe(`r-${k}`);
  });

  it.each([
    [1, 13, { firstId: 1, lastId: 13 }],
    [2, 13, { firstId: 14, lastId: 26 }],
    [3, 1, { firstId: 3, lastId: 3 }],
  ])("set %i with %i points per set holds %j", (k, perSet, range) => {
    expect(setRange(k, perSet)).toEqual(range);
  });

  it("names the k-th set after the request", () => {
    expect(setName("my-request", 12)).toBe("my-request-12");
  });
});

describe("chunksOf", () => {
  it.each([
    ["nothing", 5, 0, 10, []],
    ["within one set", 3, 4, 10, [{ k: 1, firstId: 3, count: 4 }]],
    ["filling a set exactly", 1, 10, 10, [{ k: 1, firstId: 1, count: 10 }]],
    [
      "across a boundary",
      8,
      5,
      10,
      [
        { k: 1, firstId: 8, count: 3 },
        { k: 2, firstId: 11, count: 2 },
      ],
    ],
    [
      "spanning three sets",
      9,
      25,
      10,
      [
        { k: 1, firstId: 9, count: 2 },
        { k: 2, firstId: 11, count: 10 },
        { k: 3, firstId: 21, count: 10 },
        { k: 4, firstId: 31, count: 3 },
      ],
    ],
    [
      "one point per set",
      2,
      3,
      1,
      [
        { k: 2, firstId: 2, count: 1 },
        { k: 3, firstId: 3, count: 1 },
        { k: 4, firstId: 4, count: 1 },
      ],
    ],
  ])("%s", (_what, firstId, count, perSet, want) => {
    const chunks = chunksOf(firstId, count, perSet);
    expect(chunks).toEqual(want);
    // The chunks cover the ids once each, in order, each inside its set.
    expect(chunks.reduce((n, c) => n + c.count, 0)).toBe(count);
    for (const c of chunks) {
      const r = setRange(c.k, perSet);
      expect(c.firstId).toBeGreaterThanOrEqual(r.firstId);
      expect(c.firstId + c.count - 1).toBeLessThanOrEqual(r.lastId);
    }
  });
});

describe("setsOfRequest", () => {
  const req: HPORequest = { metadata: { name: "r", uid: "u1" }, spec: { method: "random" } };
  const set = (name: string, request: string, uid: string, deleting = false): HyperParameterSet => ({
    metadata: {
      name,
      ownerReferences: [{ apiVersion: "hpo.dev/v1alpha1", kind: "HPORequest", name: request, uid }],
      ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { request, firstId: 1, lastId: 10 },
  });
  it("keeps the sets that name the request and are owned by it, not being deleted", () => {
    const sets = [
      set("r-1", "r", "u1"),
      set("r-2", "r", "u0"), // left over from an earlier request of the same name
      set("s-1", "s", "u1"),
      set("r-3", "r", "u1", true),
      set("r-4", "r", "u1"),
    ];
    expect(setsOfRequest(sets, req).map((s) => s.metadata?.name)).toEqual(["r-1", "r-4"]);
  });
});
