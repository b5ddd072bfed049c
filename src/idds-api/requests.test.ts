import { describe, expect, it } from "vitest";
import { namespaceFor, parseBody } from "./requests.ts";

describe("add_request's namespace", () => {
  it("is --request-namespace when set, else the caller's service-account namespace, else default", () => {
    expect(namespaceFor({ username: "system:serviceaccount:team-a:trainer" }, "hpo")).toBe("hpo");
    expect(namespaceFor({ username: "system:serviceaccount:team-a:trainer" }, "")).toBe("team-a");
    expect(namespaceFor({ username: "alice@example.org" }, "")).toBe("default");
    expect(namespaceFor({ username: "system:serviceaccount:broken" }, "")).toBe("default");
  });
});

describe("add_request's body", () => {
  it("is JSON, else BadRequest with iDDS's message", () => {
    expect(parseBody('{"a": 1}')).toEqual({ a: 1 });
    expect(() => parseBody("{")).toThrow(
      expect.objectContaining({ status: 400, message: "Cannot decode json parameter dictionary" }),
    );
  });
});
