import { describe, expect, it } from "vitest";
import { backoffMs, keyOf } from "./informer.ts";

describe("informer helpers", () => {
  it("backs off by doubling, capped, with jitter of at most 25 %", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 200, 5000, mid))).toEqual([200, 400, 800, 1600, 5000]);
    expect(backoffMs(1, 200, 5000, () => 0)).toBe(300);
    expect(backoffMs(1, 200, 5000, () => 1)).toBe(500);
  });
  it("keys objects by namespace/name", () => {
    expect(keyOf({ metadata: { namespace: "a", name: "b" } })).toBe("a/b");
  });
});
