import { describe, expect, it } from "vitest";
import { type JobEvent, needsEvents, nextLookMs, type StuckPod, stuckProblem } from "./stuck.ts";

const t0 = Date.parse("2026-12-07T06:00:00Z");
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const grace = 30_000;

function pod(extra: StuckPod["status"] = {}, created = 0): StuckPod {
  return {
    metadata: { name: "r-gen-1-abcde", creationTimestamp: at(created) },
    status: { phase: "Pending", ...extra },
  };
}
const unschedulable = pod({
  conditions: [
    {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message: "0/1 nodes are available: 1 Insufficient cpu.",
    },
  ],
});
const waiting = (reason: string, message = "") =>
  pod({
    startTime: at(1),
    containerStatuses: [{ name: "generator", state: { waiting: { reason, message } } }],
  });
const failedCreate: JobEvent = {
  type: "Warning",
  reason: "FailedCreate",
  message:
    'Error creating: pods "r-gen-1-x" is forbidden: error looking up service account ns/missing: serviceaccount "missing" not found',
  lastTimestamp: at(20),
};

describe("stuckProblem", () => {
  const cases: [string, StuckPod[], JobEvent[], number, string | undefined][] = [
    ["unschedulable, before the grace", [unschedulable], [], 29, undefined],
    [
      "unschedulable, after the grace",
      [unschedulable],
      [],
      31,
      "pod r-gen-1-abcde cannot be scheduled (31 s): 0/1 nodes are available: 1 Insufficient cpu.",
    ],
    ["ImagePullBackOff, before the grace", [waiting("ImagePullBackOff")], [], 20, undefined],
    [
      "ImagePullBackOff, after the grace",
      [waiting("ImagePullBackOff", "Back-off pulling image")],
      [],
      40,
      "container generator cannot start: ImagePullBackOff (Back-off pulling image)",
    ],
    [
      "InvalidImageName at once",
      [waiting("InvalidImageName", "bad ref")],
      [],
      2,
      "container generator cannot start: InvalidImageName (bad ref)",
    ],
    [
      "CreateContainerConfigError after the grace",
      [waiting("CreateContainerConfigError", 'secret "s" not found')],
      [],
      40,
      'container generator cannot start: CreateContainerConfigError (secret "s" not found)',
    ],
    ["a container still creating", [waiting("ContainerCreating")], [], 300, undefined],
    ["a running pod", [pod({ phase: "Running" })], [], 300, undefined],
    ["no pod, FailedCreate, before the grace", [], [failedCreate], 20, undefined],
    [
      "no pod, FailedCreate, after the grace",
      [],
      [failedCreate],
      31,
      `the Job cannot create its pod: ${failedCreate.message}`,
    ],
    ["no pod, no event yet", [], [], 31, undefined],
    [
      "a pod being deleted does not count",
      [{ ...unschedulable, metadata: { ...unschedulable.metadata, deletionTimestamp: at(5) } }],
      [failedCreate],
      40,
      `the Job cannot create its pod: ${failedCreate.message}`,
    ],
  ];
  it.each(cases)("%s", (_name, pods, events, seconds, want) => {
    expect(
      stuckProblem({ jobCreated: at(0), pods, events, nowMs: t0 + seconds * 1000, graceMs: grace }),
    ).toBe(want);
  });

  it("quotes the latest FailedCreate event", () => {
    const older = { ...failedCreate, message: "old words", lastTimestamp: at(1) };
    const problem = stuckProblem({
      jobCreated: at(0),
      pods: [],
      events: [failedCreate, older],
      nowMs: t0 + 60_000,
      graceMs: grace,
    });
    expect(problem).toContain("serviceaccount");
  });

  it("needsEvents only for a Job without a live pod past the grace", () => {
    expect(needsEvents(at(0), [], t0 + 31_000, grace)).toBe(true);
    expect(needsEvents(at(0), [], t0 + 10_000, grace)).toBe(false);
    expect(needsEvents(at(0), [unschedulable], t0 + 60_000, grace)).toBe(false);
  });
});

describe("nextLookMs", () => {
  it("is when the first waiting thing passes the grace, so it is reported on time", () => {
    expect(nextLookMs(at(0), [unschedulable], t0 + 10_000, grace)).toBe(20_100);
    expect(nextLookMs(at(0), [waiting("ImagePullBackOff")], t0 + 25_000, grace)).toBe(6_100);
    expect(nextLookMs(at(0), [], t0 + 29_000, grace)).toBe(1_100);
  });
  it("is undefined when nothing waits, or the grace has passed", () => {
    expect(nextLookMs(at(0), [pod({ phase: "Running" })], t0 + 10_000, grace)).toBeUndefined();
    expect(nextLookMs(at(0), [waiting("ContainerCreating")], t0 + 10_000, grace)).toBeUndefined();
    expect(nextLookMs(at(0), [unschedulable], t0 + 40_000, grace)).toBeUndefined();
  });
});
