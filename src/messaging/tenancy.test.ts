import { describe, expect, it } from "vitest";
import type { HPORequest } from "../api/index.ts";
import { WorkloadAnnotation } from "./messages.ts";
import {
  checkDefault,
  destinationFor,
  judge,
  parseDestinationPatterns,
  parseWorkloadIds,
  type TenancyPolicy,
} from "./tenancy.ts";

function req(ns: string, destination?: string, workload?: string): HPORequest {
  return {
    metadata: {
      name: "r",
      namespace: ns,
      uid: "u",
      ...(workload ? { annotations: { [WorkloadAnnotation]: workload } } : {}),
    },
    spec: { method: "random", ...(destination ? { notification: { destination } } : {}) },
  };
}

const policy: TenancyPolicy = {
  destinations: parseDestinationPatterns("/topic/hpo.{namespace}.*,/queue/hpo.{namespace}", "--x"),
  workloadIds: parseWorkloadIds("team-a=1000-1999,team-b=4711", "--y"),
};
const fallback = "/topic/hpo.{namespace}.points";

describe("judge", () => {
  const cases: [string, HPORequest, string][] = [
    ["the default, in its namespace", req("team-a"), "ok /topic/hpo.team-a.points"],
    [
      "its own name under its prefix",
      req("team-a", "/topic/hpo.team-a.run-7.lr"),
      "ok /topic/hpo.team-a.run-7.lr",
    ],
    ["the exact queue", req("team-b", "/queue/hpo.team-b"), "ok /queue/hpo.team-b"],
    ["another namespace's topic", req("team-a", "/topic/hpo.team-b.points"), "DestinationRefused"],
    ["a shared topic", req("team-a", "/topic/hpo.points"), "DestinationRefused"],
    [
      "a composite destination (ActiveMQ's comma)",
      req("team-a", "/topic/hpo.team-a.x,topic://hpo.team-b.x"),
      "DestinationRefused",
    ],
    ["a wildcard", req("team-a", "/topic/hpo.team-a.>"), "DestinationRefused"],
    ["an empty rest", req("team-a", "/topic/hpo.team-a."), "DestinationRefused"],
    ["a workload id in its range", req("team-a", undefined, "1500"), "ok /topic/hpo.team-a.points"],
    ["a workload id out of its range", req("team-a", undefined, "4711"), "WorkloadIdRefused"],
    ["a workload id where none is allowed", req("team-c", undefined, "5"), "WorkloadIdRefused"],
    ["a workload id that is not a number", req("team-a", undefined, "task-9"), "WorkloadIdRefused"],
  ];
  it.each(cases)("%s", (_name, r, want) => {
    const v = judge(r, policy, fallback);
    expect(v.ok ? `ok ${v.destination}` : v.reason).toBe(want);
  });

  it("says what is allowed, in the request's namespace", () => {
    const v = judge(req("team-a", "/topic/hpo.team-b.points"), policy, fallback);
    expect(v).toMatchObject({
      ok: false,
      message: expect.stringContaining(
        "spec.notification.destination /topic/hpo.team-b.points is not allowed for namespace team-a: the cluster admin allows /topic/hpo.team-a.*, /queue/hpo.team-a",
      ),
    });
    const w = judge(req("team-a", undefined, "4711"), policy, fallback);
    expect(w.ok ? "" : w.message).toContain(
      'hpo.dev/workload-id="4711" is not allowed: the cluster admin lets namespace team-a use 1000-1999',
    );
    const none = judge(req("team-c", undefined, "5"), policy, fallback);
    expect(none.ok ? "" : none.message).toContain("lets namespace team-c set no workload id");
  });

  it("with no policy, anything goes (the operator's flags' defaults)", () => {
    const open: TenancyPolicy = { destinations: [], workloadIds: parseWorkloadIds("*", "--y") };
    expect(judge(req("x", "/topic/anything", "42"), open, "/topic/hpo.points")).toEqual({
      ok: true,
      destination: "/topic/anything",
    });
    expect(destinationFor(req("x"), "/topic/hpo.points")).toBe("/topic/hpo.points");
  });
});

describe("parsing the policy", () => {
  it("reads workload rules, and refuses what it cannot read", () => {
    expect(parseWorkloadIds("", "--y")).toEqual([]);
    expect(parseWorkloadIds("*=*, a=5", "--y")).toEqual([
      { namespace: "*", low: 1, high: Number.MAX_SAFE_INTEGER },
      { namespace: "a", low: 5, high: 5 },
    ]);
    for (const bad of ["a", "a=0", "a=9-3", "A=1", "a=x"])
      expect(() => parseWorkloadIds(bad, "--broker-workload-ids")).toThrow(
        /--broker-workload-ids: ".*" must be NAMESPACE=ID/,
      );
    expect(() => parseDestinationPatterns("/topic/a*b", "--p")).toThrow(/must look like/);
    expect(() => parseDestinationPatterns("hpo.points", "--p")).toThrow(/must look like/);
  });

  it("refuses a default destination outside the allowed ones", () => {
    expect(() =>
      checkDefault("/topic/hpo.points", ["/topic/hpo.{namespace}.*"], "--broker-destination"),
    ).toThrow(/requests without their own destination would all be refused/);
    expect(() => checkDefault(fallback, ["/topic/hpo.{namespace}.*"], "--d")).not.toThrow();
    expect(() => checkDefault("/topic/x", [], "--d")).not.toThrow();
  });
});
