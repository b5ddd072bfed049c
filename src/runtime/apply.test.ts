import { describe, expect, it } from "vitest";
import { ApplyPatch, applyStatus } from "./apply.ts";
import type { Calls } from "./client.ts";

describe("applyStatus", () => {
  it("sends only the given status fields as a forced server-side apply to /status, under the field manager", async () => {
    const calls: unknown[][] = [];
    const api = {
      request: async (...args: unknown[]) => {
        calls.push(args);
        return { answered: true };
      },
    } as unknown as Calls;
    const got = await applyStatus(
      api,
      {
        apiVersion: "hpo.dev/v1alpha1",
        kind: "HPORequest",
        plural: "hporequests",
        namespace: "ns",
        name: "r",
      },
      "hpo-reconciler",
      { phase: "Waiting" },
    );
    expect(got).toEqual({ answered: true });
    expect(calls).toEqual([
      [
        "PATCH",
        "/apis/hpo.dev/v1alpha1/namespaces/ns/hporequests/r/status",
        {
          body: {
            apiVersion: "hpo.dev/v1alpha1",
            kind: "HPORequest",
            metadata: { name: "r", namespace: "ns" },
            status: { phase: "Waiting" },
          },
          contentType: ApplyPatch,
          query: { fieldManager: "hpo-reconciler", force: true },
        },
      ],
    ]);
    expect(ApplyPatch).toBe("application/apply-patch+yaml");
  });
});
