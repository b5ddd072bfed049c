/**
 * The generator pod policy on the real control plane, with Pod Security Admission enforcing the
 * `restricted` standard on the tenant's namespace: default generator pods are admitted and run
 * (the test kubelet runs them as processes); a request asking for privileges, root, a foreign
 * service account or a Secret is refused with a clear message, unless the operator runs with the
 * flag that allows it (a second operator, on a second namespace); an output over
 * --generator-output-limit fails its generation, naming the limit, whether stage-out refuses it or
 * (a stage image that ignores the limit, on a third namespace) the operator's bounded read does.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { paths } from "../../src/runtime/client.ts";
import { ForbiddenError } from "../../src/runtime/errors.ts";
import { repoRoot } from "../support/controlplane.ts";
import {
  api,
  applyRequest,
  eventsOf,
  startTrainer,
  waitFor,
  waitForPhase,
  waitForPoints,
} from "../support/hpo.ts";
import { steeringImages } from "../support/images.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let restricted = "";
let allowed = "";
let unbounded = "";
let kubelet: Kubelet;
let op: OperatorProcess;
let allowing: OperatorProcess;
let reading: OperatorProcess;

const common = ["--operator-image=hpo-operator:test", "--generation-retry-base=200ms"];

beforeAll(async () => {
  restricted = newNamespace("psa");
  kubectlOk(["label", "namespace", restricted, "pod-security.kubernetes.io/enforce=restricted"]);
  allowed = newNamespace("allowed");
  unbounded = newNamespace("unbounded");
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [restricted, allowed, unbounded],
    images: {
      ...steeringImages(),
      "unbounded-stage:test": {
        entrypoint: [process.execPath, join(repoRoot, "test/fixtures/unbounded-stage.mjs")],
      },
    },
  });
  const kubeconfig = inject("kubeconfig");
  [op, allowing, reading] = await Promise.all([
    startOperatorProcess({
      kubeconfig,
      args: [`--namespaces=${restricted}`, "--generator-output-limit=1Mi", ...common],
    }),
    startOperatorProcess({
      kubeconfig,
      args: [
        `--namespaces=${allowed}`,
        "--generator-allow-privileged",
        "--generator-allow-root",
        "--generator-service-accounts=steer",
        "--generator-secrets=db",
        ...common,
      ],
    }),
    startOperatorProcess({
      kubeconfig,
      args: [
        `--namespaces=${unbounded}`,
        "--generator-output-limit=1Mi",
        "--operator-image=unbounded-stage:test",
        "--generation-retry-base=200ms",
      ],
    }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([op?.kill("SIGTERM"), allowing?.kill("SIGTERM"), reading?.kill("SIGTERM")]);
  await kubelet?.stop();
  for (const ns of [restricted, allowed, unbounded]) deleteNamespace(ns);
});

const space = { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } };
const args = ["--max_points=%MAX_POINTS", "--num_points=%NUM_POINTS", "--input=%IN", "--output=%OUT"];
const request = (ns: string, name: string, generator: Record<string, unknown>) =>
  applyRequest(ns, name, {
    method: "container",
    searchSpace: space,
    maxPoints: 2,
    pointsPerGeneration: 2,
    generator: { image: "steering:test", args, retries: 0, ...generator },
  });

interface JobList {
  items: {
    spec: { template: { spec: Record<string, unknown> & { initContainers: Record<string, unknown>[] } } };
  }[];
}
const jobsOf = async (ns: string, name: string) =>
  (
    await api().get<JobList>(paths.collection("batch/v1", "jobs", ns), {
      query: { labelSelector: `hpo.dev/request=${name}` },
    })
  ).items;

const asks: [string, Record<string, unknown>, RegExp][] = [
  [
    "privileged",
    { securityContext: { privileged: true } },
    /spec\.generator\.securityContext\.privileged: privileged containers are refused \(the cluster admin allows it with the operator flag --generator-allow-privileged/,
  ],
  [
    "root",
    { securityContext: { runAsUser: 0 } },
    /spec\.generator\.securityContext\.runAsUser: 0 \(root\) is refused \(the cluster admin allows it with --generator-allow-root/,
  ],
  [
    "sa",
    { serviceAccountName: "steer" },
    /spec\.generator\.serviceAccountName: running as ServiceAccount "steer" is refused \(.*--generator-service-accounts/,
  ],
  [
    "secret",
    { env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "db", key: "token" } } }] },
    /spec\.generator\.env\[0\] \(TOKEN\): reading Secret "db" is refused \(.*--generator-secrets/,
  ],
];

describe("Pod Security Admission restricted on the tenant's namespace", () => {
  it("is enforced by the API server: a privileged pod is refused", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "privileged" },
      spec: { containers: [{ name: "c", image: "steering:test", securityContext: { privileged: true } }] },
    };
    const err = await api()
      .create(paths.collection("v1", "pods", restricted), pod)
      .catch((e) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as Error).message).toContain('violates PodSecurity "restricted:latest"');
  });

  it("admits the default generator pod, which runs to Finished", async () => {
    applyRequest(restricted, "plain", {
      method: "container",
      searchSpace: space,
      maxPoints: 4,
      pointsPerGeneration: 2,
      generator: { image: "steering:test", args },
    });
    const fleet = startTrainer(restricted, "plain", (p: Point) => Number(p.params.x));
    const done = await waitForPhase(restricted, "plain", "Finished", 90_000);
    await fleet.stop();
    expect(done.status?.generations).toBe(2);
    const [job] = await jobsOf(restricted, "plain");
    const pod = job?.spec.template.spec;
    const generator = pod?.initContainers.find((c) => c.name === "generator");
    expect(generator).toMatchObject({
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    });
    expect(pod?.volumes).toContainEqual({ name: "work", emptyDir: { sizeLimit: "1Gi" } });
  }, 120_000);

  it.each(asks)(
    "refuses a request asking for %s, saying what the admin must allow",
    async (name, gen, message) => {
      request(restricted, name, gen);
      const req = await waitForPhase(restricted, name, "Failed", 30_000);
      expect(req.status?.message).toMatch(message);
      expect(req.status?.message).toMatch(/^the generator pod policy refuses this request: /);
      expect(req.status?.conditions?.find((c) => c.type === "SpecValid")).toMatchObject({
        status: "False",
        reason: "PolicyRefused",
      });
      // Events are sent after the status write.
      const warning = await waitFor("the PolicyRefused event", async () =>
        (await eventsOf(restricted, name)).find((e) => e.reason === "PolicyRefused"),
      );
      expect(warning.type).toBe("Warning");
      expect(warning.message).toMatch(message);
      expect(await jobsOf(restricted, name)).toEqual([]);
    },
    60_000,
  );

  it("fails a generation whose output is over --generator-output-limit, naming the limit", async () => {
    request(restricted, "big", { env: [{ name: "HPO_TEST_MODE", value: "big" }] });
    const req = await waitForPhase(restricted, "big", "Failed", 90_000);
    expect(req.status?.lastGeneration?.message).toMatch(
      /the generator's output is \d+ bytes, over the limit of 1 MiB \(the operator's --generator-output-limit\)$/,
    );
  }, 120_000);
});

/** What each allowed ask must look like in the Job's pod, and what it needs in the namespace first. */
const allowedAsks: Record<
  string,
  { setup?: string[]; pod: Record<string, unknown>; generator: Record<string, unknown> }
> = {
  privileged: { pod: {}, generator: { securityContext: expect.objectContaining({ privileged: true }) } },
  root: {
    pod: {},
    generator: { securityContext: expect.objectContaining({ runAsUser: 0, runAsNonRoot: false }) },
  },
  sa: {
    setup: ["create", "serviceaccount", "steer"],
    pod: { serviceAccountName: "steer", automountServiceAccountToken: true },
    generator: {},
  },
  secret: {
    setup: ["create", "secret", "generic", "db", "--from-literal=token=t"],
    pod: {},
    generator: { env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "db", key: "token" } } }] },
  },
};

describe("an operator whose admin allows more", () => {
  it.each(asks)(
    "runs a request asking for %s",
    async (name, gen) => {
      const want = allowedAsks[name] as (typeof allowedAsks)[string];
      if (want.setup) kubectlOk([...want.setup, "-n", allowed]);
      request(allowed, name, gen);
      await waitForPoints(allowed, name, 2, 60_000);
      const [job] = await jobsOf(allowed, name);
      const pod = job?.spec.template.spec;
      expect(pod).toMatchObject(want.pod);
      expect(pod?.initContainers.find((c) => c.name === "generator")).toMatchObject(want.generator);
    },
    90_000,
  );
});

describe("the operator's own bounded read, behind a stage-out that ignores the limit", () => {
  it.each([
    // 10 MB of random points: gzip leaves megabytes of log, more than the log limit lets in.
    [
      "big",
      /stage-out's log is over \d+ bytes: the generator's output is larger than the limit of 1 MiB \(the operator's --generator-output-limit\)$/,
    ],
    // 2 MB that gzip shrinks to kilobytes: the frame's header gives it away, nothing is decompressed.
    [
      "padded",
      /the generator's output is 20\d{5} bytes, over the limit of 1 MiB \(the operator's --generator-output-limit\)$/,
    ],
  ])(
    "an output too large (%s) fails its generation, naming the limit",
    async (mode, message) => {
      request(unbounded, mode, { env: [{ name: "HPO_TEST_MODE", value: mode }] });
      const req = await waitForPhase(unbounded, mode, "Failed", 90_000);
      expect(req.status?.lastGeneration?.message).toMatch(message);
      // The operator lived through it.
      expect(reading.child.exitCode).toBeNull();
    },
    120_000,
  );
});
