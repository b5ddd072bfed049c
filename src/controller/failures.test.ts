import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  ApiError,
  ConflictError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  TooLargeError,
  UnavailableError,
} from "../runtime/errors.ts";
import { now, observe, reasons, request, settings, statusOf } from "./core.testkit.ts";
import { decide } from "./core.ts";
import { cannotRetry, failedRecord, refusalOf, retryCondition, statusRefusal } from "./failures.ts";

const quota =
  'jobs.batch "r-gen-1" is forbidden: exceeded quota: q, requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0';
const tooLong = {
  message: 'ConfigMap "r-gen-1" is invalid: []: Too long: must have at most 1048576 bytes',
  details: { causes: [{ reason: "FieldValueTooLong", field: "[]" }] },
};

describe("refusalOf", () => {
  const cases: [string, unknown, { terminal: boolean; words: string } | undefined][] = [
    [
      "a quota (403)",
      new ForbiddenError(403, `POST x: ${quota}`, { message: quota }),
      { terminal: false, words: quota },
    ],
    [
      "an admission policy (422)",
      new InvalidError(422, "POST x: denied", {
        message: "ValidatingAdmissionPolicy 'p' denied request: no",
      }),
      { terminal: false, words: "ValidatingAdmissionPolicy 'p' denied request: no" },
    ],
    [
      "a webhook answering 400",
      new ApiError(400, "POST x: bad", { message: "admission webhook denied" }),
      { terminal: false, words: "admission webhook denied" },
    ],
    [
      "a ConfigMap over 1 MiB (422 Too long)",
      new InvalidError(422, "x", tooLong),
      { terminal: true, words: "Too long" },
    ],
    [
      "a body over the request limit (413)",
      new TooLargeError(413, "Request entity too large: limit is 3145728"),
      { terminal: true, words: "limit is 3145728" },
    ],
    ["the server is down (503)", new UnavailableError(503, "down"), undefined],
    ["a conflict", new ConflictError(409, "conflict"), undefined],
    ["exists already", new AlreadyExistsError(409, "exists"), undefined],
    ["the namespace is gone", new NotFoundError(404, "gone"), undefined],
    ["a network error", new Error("ECONNRESET"), undefined],
  ];
  it.each(cases)("%s", (_name, err, want) => {
    const got = refusalOf(err, "the generator's Job r-gen-1");
    if (!want) return expect(got).toBeUndefined();
    expect(got?.terminal).toBe(want.terminal);
    expect(got?.message).toContain("the API server refused the generator's Job r-gen-1");
    expect(got?.message).toContain(want.words);
    if (want.terminal) expect(got?.message).toContain("too large");
  });
});

describe("failedRecord and cannotRetry", () => {
  const running = { number: 2, requested: 5, firstId: 7, state: "Running" as const, attempts: 1 };
  it("marks a terminal failure retryable: false, and drops the mark on an ordinary one", () => {
    const terminal = failedRecord(running, "too large", true);
    expect(terminal).toMatchObject({ state: "Failed", retryable: false, added: 0, message: "too large" });
    expect(cannotRetry(terminal)).toBe(true);
    const ordinary = failedRecord({ ...terminal, state: "Running" }, "exit 3", false);
    expect(ordinary).not.toHaveProperty("retryable");
    expect(cannotRetry(ordinary)).toBe(false);
  });

  it("retryCondition shows a failed attempt while retries are left, not after", () => {
    const failed = failedRecord(running, "quota exceeded", false);
    expect(retryCondition(failed, 2)).toEqual({
      type: "Generating",
      status: "False",
      reason: "AttemptFailed",
      message: "generation 2 failed (attempt 1 of 3), retried with backoff: quota exceeded",
    });
    expect(retryCondition({ ...failed, attempts: 3 }, 2)).toBeUndefined();
    expect(retryCondition(failedRecord(running, "too large", true), 2)).toBeUndefined();
    expect(retryCondition(running, 2)).toBeUndefined();
  });
});

describe("decide with a refused generation", () => {
  const base = request({ method: "container", generator: { image: "g:1" } }, { pointsPerSet: 4 });
  const lg = {
    number: 1,
    requested: 6,
    firstId: 1,
    state: "Running" as const,
    attempts: 1,
    startedAt: now.toISOString(),
  };
  const running = request(base.spec, { pointsPerSet: 4, lastGeneration: lg });
  const failed = (terminal: boolean) =>
    decide(
      observe(running, [], {
        recordsIntent: true,
        outcome: {
          number: 1,
          attempt: 1,
          firstId: 1,
          result: { kind: "failed", message: "refused", terminal },
        },
      }),
      settings,
    );

  it("a terminal failure fails the request at once, without a retry", () => {
    const d = failed(true);
    expect(d.phase).toBe("Failed");
    expect(statusOf(d)?.lastGeneration).toMatchObject({ state: "Failed", attempts: 1, retryable: false });
    expect(statusOf(d)?.message).toContain("generation 1 failed and cannot be retried: refused");
    expect(reasons(d)).toEqual(["Warning/GenerationFailed", "Warning/Failed"]);
    const next = request(base.spec, statusOf(d));
    const later = decide(
      observe(next, [], { recordsIntent: true, now: new Date(now.getTime() + 3_600_000) }),
      settings,
    );
    expect(later.actions.filter((a) => a.kind === "generate")).toEqual([]);
  });

  it("an ordinary failure shows in the Generating condition while its retry waits", () => {
    const d = failed(false);
    expect(d.phase).toBe("Pending");
    const generating = statusOf(d)?.conditions?.find((c) => c.type === "Generating");
    expect(generating).toMatchObject({ status: "False", reason: "AttemptFailed" });
    expect(generating?.message).toContain("attempt 1 of 3");
    expect(generating?.message).toContain("refused");
  });
});

describe("statusRefusal", () => {
  const words =
    'HPORequest.hpo.dev "r" is invalid: spec.searchSpace: Invalid value: "object": invalid data, got null for schema with nullable=false';
  it("tells a refused status write in the API server's words, with the operator's verdict", () => {
    const e = new InvalidError(422, `PATCH x: ${words}`, { message: words });
    expect(
      statusRefusal(e, { message: "invalid spec: spec.searchSpace: parameter c: null is not a choice" }),
    ).toBe(
      `the API server refuses this request's status (HTTP 422): ${words}; the operator's verdict was: invalid spec: spec.searchSpace: parameter c: null is not a choice; fix the spec, or delete the request and create it again`,
    );
    expect(statusRefusal(new TooLargeError(413, "too large"), {})).toContain(
      "(HTTP 413): too large; fix the spec",
    );
  });
  it("leaves what a retry may fix to the work queue", () => {
    expect(statusRefusal(new ConflictError(409, "conflict"), {})).toBeUndefined();
    expect(statusRefusal(new UnavailableError(503, "down"), {})).toBeUndefined();
    expect(statusRefusal(new Error("ECONNRESET"), {})).toBeUndefined();
  });
});
