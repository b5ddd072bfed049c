import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { defaultPodPolicy } from "../jobs/policy.ts";
import { flags, parseConfig, parseDuration } from "./config.ts";
import { requestChanged, setChanged } from "./predicates.ts";

describe("parseConfig", () => {
  it("has sensible defaults", () => {
    const c = parseConfig([], {});
    expect(c).toMatchObject({
      namespaces: [],
      concurrency: 4,
      logLevel: "info",
      metricsAddress: ":8080",
      probeAddress: ":8081",
      leaderElect: false,
      leaderElectionNamespace: "default",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      methodTimeoutMs: 60_000,
      retries: 3,
      setBytes: 8192,
      kubeApiQps: 100,
      kubeApiBurst: 200,
    });
  });
  it("reads the environment, and flags win over it", () => {
    const env = {
      HPO_NAMESPACES: "a, b",
      HPO_CONCURRENCY: "8",
      HPO_LEADER_ELECT: "true",
      POD_NAMESPACE: "ops",
      HPO_KUBE_API_QPS: "-1",
    };
    expect(parseConfig([], env)).toMatchObject({
      namespaces: ["a", "b"],
      concurrency: 8,
      leaderElect: true,
      leaderElectionNamespace: "ops",
      kubeApiQps: -1,
    });
    expect(
      parseConfig(["--concurrency=2", "--namespaces=c", "--kube-api-qps=2.5", "--kube-api-burst=5"], env),
    ).toMatchObject({
      namespaces: ["c"],
      concurrency: 2,
      kubeApiQps: 2.5,
      kubeApiBurst: 5,
    });
  });
  it("leaves KUBECONFIG to the kubeconfig loader, which reads it as a list of files", () => {
    expect(parseConfig([], { KUBECONFIG: "/a:/b" }).kubeconfig).toBeUndefined();
    expect(parseConfig(["--kubeconfig=/k"], { KUBECONFIG: "/a:/b" }).kubeconfig).toBe("/k");
  });
  it.each([
    [["--concurrency=0"], '--concurrency: "0" must be a whole number >= 1'],
    [["--lease-duration=soon"], '--lease-duration: "soon" is not a duration'],
    [["--leader-elect=maybe"], '--leader-elect: "maybe" must be true or false'],
    [["--log-level=loud"], 'unknown log level "loud"'],
    [["--no-such-flag=1"], "unknown flag --no-such-flag"],
    [["--concurrency"], "flag --concurrency needs a value"],
    [
      ["--kube-api-qps=0"],
      '--kube-api-qps: "0" must be a positive number of requests per second, or -1 for no limit',
    ],
    [["--kube-api-qps=fast"], '--kube-api-qps: "fast" must be a positive number'],
    [["--kube-api-burst=0"], '--kube-api-burst: "0" must be a whole number >= 1'],
  ])("refuses %j with a clear message", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(message);
  });
  it("reads the generator pod policy and output limit", () => {
    // The flags' defaults are the policy the Job manifests fall back on.
    expect(parseConfig([], {}).generators).toEqual({
      policy: defaultPodPolicy,
      outputLimitBytes: 16 * 1024 * 1024,
    });
    const c = parseConfig(
      [
        "--generator-allow-root",
        "--generator-service-accounts=steer, gpu",
        "--generator-default-limits=",
        "--generator-output-limit=1Mi",
      ],
      { HPO_GENERATOR_SECRETS: "db", HPO_GENERATOR_ALLOW_PRIVILEGED: "true" },
    );
    expect(c.generators).toMatchObject({
      policy: {
        allowPrivileged: true,
        allowRoot: true,
        serviceAccounts: ["steer", "gpu"],
        secrets: ["db"],
        defaultResources: { requests: { cpu: "100m", memory: "256Mi" } },
      },
      outputLimitBytes: 1024 * 1024,
    });
    expect(c.generators.policy.defaultResources.limits).toBeUndefined();
  });
  it.each([
    [["--generator-default-requests=cpu"], '--generator-default-requests: "cpu" is not name=quantity'],
    [
      ["--generator-default-limits=memory=lots"],
      '--generator-default-limits: "lots" is not a Kubernetes quantity',
    ],
    [
      ["--generator-emptydir-size-limit=big"],
      '--generator-emptydir-size-limit: "big" is not a Kubernetes quantity',
    ],
    [["--generator-output-limit=16MB"], '--generator-output-limit: "16MB" is not a size in bytes'],
    [["--generator-allow-root=maybe"], '--generator-allow-root: "maybe" must be true or false'],
  ])("refuses the policy flags %j with a clear message", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(message);
  });
  it("reads durations", () => {
    expect([
      parseDuration("250ms", "x"),
      parseDuration("15s", "x"),
      parseDuration("5m", "x"),
      parseDuration("2", "x"),
    ]).toEqual([250, 15_000, 300_000, 2000]);
  });
  it("documents every flag and its environment variable in docs/operator.md", () => {
    const doc = readFileSync(new URL("../../docs/operator.md", import.meta.url), "utf8");
    for (const f of flags) {
      expect(doc).toContain(`--${f.name}`);
      expect(doc).toContain(`${f.env}`);
    }
  });
});

describe("predicates", () => {
  const obj = (generation: number, labels: Record<string, string> = {}, deleting = false) => ({
    metadata: { generation, labels, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  });
  it("ignore the operator's own status writes and pass spec, label and deletion changes", () => {
    expect(requestChanged("MODIFIED", obj(1), obj(1))).toBe(false);
    expect(requestChanged("MODIFIED", obj(2), obj(1))).toBe(true);
    expect(requestChanged("MODIFIED", obj(1, { a: "b" }), obj(1))).toBe(true);
    expect(requestChanged("MODIFIED", obj(1, {}, true), obj(1))).toBe(true);
    expect(requestChanged("ADDED", obj(1), undefined)).toBe(true);
    // The operator's own status write: same generation on both sides.
    expect(setChanged("MODIFIED", obj(3), obj(3))).toBe(false);
    expect(setChanged("MODIFIED", obj(4), obj(3))).toBe(true);
    expect(setChanged("DELETED", obj(3), obj(3))).toBe(true);
  });
});
