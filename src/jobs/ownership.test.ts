import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import { type OwnerReference, ownership } from "./ownership.ts";

const req = { metadata: { name: "steer", namespace: "a", uid: "new" } } as HPORequest;
const owned = (...refs: OwnerReference[]) => ({ metadata: { ownerReferences: refs } });

describe("ownership", () => {
  it.each<[string, ReturnType<typeof owned>, string]>([
    ["the request's UID", owned({ kind: "HPORequest", name: "steer", uid: "new", controller: true }), "ours"],
    [
      "a request of the same name deleted before",
      owned({ kind: "HPORequest", name: "steer", uid: "old", controller: true }),
      "predecessor",
    ],
    ["another request", owned({ kind: "HPORequest", name: "other", uid: "x", controller: true }), "foreign"],
    [
      "another kind of the same name",
      owned({ kind: "CronJob", name: "steer", uid: "x", controller: true }),
      "foreign",
    ],
    [
      "the request's UID, but not as controller",
      owned({ kind: "HPORequest", name: "steer", uid: "new" }),
      "foreign",
    ],
    ["no owner", owned(), "foreign"],
  ])("an object owned by %s is %s", (_what, obj, want) => {
    expect(ownership(obj, req)).toBe(want);
  });
});
