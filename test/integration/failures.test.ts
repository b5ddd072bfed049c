/**
 * Failures that show: a generator Job that cannot run fails its generation in the words of whoever
 * stopped it, in status and as a Warning event, within --pending-timeout (3 s here) rather than at
 * timeoutSeconds, and counts against retries; a refusal as too large fails the request at once.
 * Real parts only: the API server's ResourceQuota, ValidatingAdmissionPolicy, ServiceAccount
 * admission and ConfigMap size limit, the Job controller's FailedCreate, and the test kubelet
 * reporting Unschedulable (as kube-scheduler would) and CreateContainerConfigError.
 */
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { HPORequest } from "../../src/api/index.ts";
import { paths } from "../../src/runtime/client.ts";
import { repoRoot } from "../support/controlplane.ts";
import { api, applyRequest, eventsOf, waitFor, waitForPhase } from "../support/hpo.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";

let ns = "";
let quotaNs = "";
let op: OperatorProcess;
let kubelet: Kubelet;

beforeAll(async () => {
  ns = newNamespace("fail");
  quotaNs = newNamespace("fail-quota");
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [ns, quotaNs],
    reportUnschedulable: true,
    images: {
      "hpo-operator:test": { entrypoint: [process.execPath, join(repoRoot, "src/cli/main.ts")] },
      "steering:test": { entrypoint: [process.execPath, join(repoRoot, "test/fixtures/steering.mjs")] },
    },
  });
  op = await startOperatorProcess({
    kubeconfig: inject("kubeconfig"),
    args: [
      `--namespaces=${ns},${quotaNs}`,
      "--operator-image=hpo-operator:test",
      "--generation-retry-base=200ms",
      "--pending-timeout=3s",
      // The admin allows the service account, so that the API server's refusal is what shows.
      "--generator-service-accounts=missing-sa",
    ],
  });
}, 60_000);
afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  kubectlOk(["delete", "validatingadmissionpolicy,validatingadmissionpolicybinding", "-l", `hpo-test=${ns}`]);
  deleteNamespace(ns);
  deleteNamespace(quotaNs);
});

const space = { x: { type: "float", low: -5, high: 10 } };
const args = ["--max_points=%MAX_POINTS", "--num_points=%NUM_POINTS", "--input=%IN", "--output=%OUT"];

/** failed applies a request whose generation cannot run and waits for phase Failed. */
async function failed(where: string, name: string, generator: Record<string, unknown>): Promise<HPORequest> {
  applyRequest(where, name, {
    method: "container",
    searchSpace: space,
    maxPoints: 4,
    generator: { image: "steering:test", args, retries: 1, timeoutSeconds: 3600, ...generator },
  });
  const started = Date.now();
  const req = await waitForPhase(where, name, "Failed", 60_000);
  const attempts = req.status?.lastGeneration?.attempts ?? 0;
  process.stdout.write(
    `failures: ${name} Failed after ${((Date.now() - started) / 1000).toFixed(1)} s, ${attempts} attempts (--pending-timeout=3s)\n`,
  );
  return req;
}

/** shows checks that the words are in the request's status and in its GenerationFailed events. */
async function shows(where: string, req: HPORequest, words: RegExp, attempts: number): Promise<void> {
  const name = req.metadata?.name ?? "";
  expect(req.status?.lastGeneration).toMatchObject({ state: "Failed", attempts });
  expect(req.status?.lastGeneration?.message).toMatch(words);
  expect(req.status?.conditions?.find((c) => c.type === "Failed")?.message).toMatch(words);
  const warnings = await waitFor("the GenerationFailed events", async () => {
    const evs = (await eventsOf(where, name)).filter((e) => e.reason === "GenerationFailed");
    return evs.length >= attempts ? evs : undefined;
  });
  expect(warnings.every((e) => e.type === "Warning" && words.test(e.message))).toBe(true);
}

const jobsOf = async (where: string, request: string) =>
  (
    await api().get<{ items: unknown[] }>(paths.collection("batch/v1", "jobs", where), {
      query: { labelSelector: `hpo.dev/request=${request}` },
    })
  ).items.length;

describe("a generator pod that cannot start fails within --pending-timeout, not timeoutSeconds", () => {
  it("unschedulable: the scheduler's words, each attempt's Job deleted", async () => {
    const req = await failed(ns, "nonode", { nodeSelector: { "hpo.dev/pool": "gpu-a100" } });
    await shows(
      ns,
      req,
      /cannot be scheduled \(\d+ s\): 0\/1 nodes are available: 1 node\(s\) didn't match/,
      2,
    );
    await waitFor("the Jobs deleted", async () => (await jobsOf(ns, "nonode")) === 0);
  }, 90_000);

  it("a container that cannot be configured (a missing ConfigMap key): CreateContainerConfigError", async () => {
    const env = [{ name: "MODEL", valueFrom: { configMapKeyRef: { name: "absent", key: "model" } } }];
    const req = await failed(ns, "noconfig", { env });
    await shows(ns, req, /container generator cannot start: CreateContainerConfigError \(.*absent/, 2);
  }, 90_000);

  it("a service account that does not exist: the Job controller's FailedCreate, quoted", async () => {
    const req = await failed(ns, "nosa", { serviceAccountName: "missing-sa" });
    await shows(ns, req, /the Job cannot create its pod: .*serviceaccount "missing-sa" not found/, 2);
  }, 90_000);
});

describe("an object the API server refuses counts against retries, then the request fails", () => {
  it("a Job denied by a ValidatingAdmissionPolicy", async () => {
    const policy = `deny-gen-${ns}`;
    const manifests = [
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: policy, labels: { "hpo-test": ns } },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] },
            ],
          },
          validations: [
            {
              expression: "object.metadata.labels['hpo.dev/request'] != 'denied'",
              message: "generator Jobs of request 'denied' are not allowed by the cluster policy",
            },
          ],
        },
      },
      {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: policy, labels: { "hpo-test": ns } },
        spec: {
          policyName: policy,
          validationActions: ["Deny"],
          matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
        },
      },
    ];
    kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }));
    // The policy is enforced once the API server has loaded it: probe with a server-side dry run.
    await waitFor("the policy in force", async () => {
      const probe = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "probe", labels: { "hpo.dev/request": "denied" } },
      };
      const spec = {
        template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "x" }] } },
      };
      return api()
        .create(paths.collection("batch/v1", "jobs", ns), { ...probe, spec }, { query: { dryRun: "All" } })
        .then(
          () => undefined,
          () => true,
        );
    });
    const req = await failed(ns, "denied", {});
    await shows(
      ns,
      req,
      /the API server refused the generator's Job denied-gen-1(-r1)? \(HTTP 422\): .*not allowed by the cluster policy/,
      2,
    );
    // The refused attempt's input ConfigMap is not left behind.
    expect(
      kubectlOk(["get", "configmaps", "-n", ns, "-l", "hpo.dev/request=denied", "-o", "name"]).trim(),
    ).toBe("");
  }, 90_000);

  it("a ConfigMap over a ResourceQuota (403), and pods over it (FailedCreate)", async () => {
    kubectlOk(["create", "quota", "no-configmaps", "-n", quotaNs, "--hard=count/configmaps=1"]);
    await waitFor("the quota counted", async () => {
      const q = await api().get<{ status?: { used?: Record<string, string> } }>(
        paths.object("v1", "resourcequotas", quotaNs, "no-configmaps"),
      );
      return q.status?.used?.["count/configmaps"] !== undefined;
    });
    const req = await failed(quotaNs, "quota", {});
    await shows(
      quotaNs,
      req,
      /the API server refused the generator's ConfigMap quota-gen-1(-r1)? \(HTTP 403\): .*exceeded quota: no-configmaps/,
      2,
    );
    kubectlOk(["delete", "quota", "no-configmaps", "-n", quotaNs]);
    kubectlOk(["create", "quota", "no-pods", "-n", quotaNs, "--hard=pods=0"]);
    await waitFor("the pod quota counted", async () => {
      const q = await api().get<{ status?: { hard?: Record<string, string> } }>(
        paths.object("v1", "resourcequotas", quotaNs, "no-pods"),
      );
      return q.status?.hard?.pods === "0";
    });
    const pods = await failed(quotaNs, "quota-pods", {});
    await shows(quotaNs, pods, /the Job cannot create its pod: .*exceeded quota: no-pods/, 2);
  }, 120_000);
});

describe("a status the API server refuses", () => {
  it("is told as a Warning event, not retried in silence (a null among the choices, found by the fuzz test)", async () => {
    // The API server accepts the request, then refuses every status write: its rule
    // spec.searchSpace == oldSelf cannot evaluate a null choice.
    await api().create(paths.collection("hpo.dev/v1alpha1", "hporequests", ns), {
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: { name: "nullchoice", namespace: ns },
      spec: { method: "random", searchSpace: { c: { type: "categorical", choices: ["a", null] } } },
    });
    const event = await waitFor("the StatusRefused event", async () =>
      (await eventsOf(ns, "nullchoice")).find((e) => e.reason === "StatusRefused"),
    );
    expect(event.type).toBe("Warning");
    expect(event.message).toMatch(
      /^the API server refuses this request's status \(HTTP 422\): .*spec\.searchSpace.*; the operator's verdict was: invalid spec: spec\.searchSpace.*; fix the spec, or delete the request and create it again$/,
    );
  }, 60_000);
});

describe("a write refused as too large", () => {
  it("fails the request at once, without retries, and says what to change", async () => {
    // 64 categorical parameters of 1,000 random choices: a request the API server stores (1.4 MB),
    // whose generation input (idds_input.json carries the space) gzip-compressed passes 1 MiB.
    const symbols =
      "!#$%()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"; // no < > &: the API server stores them escaped (6 bytes)
    const word = () => Array.from({ length: 19 }, () => symbols[randomInt(symbols.length)]).join("");
    const searchSpace = Object.fromEntries(
      Array.from({ length: 64 }, (_, i) => [
        `p${i}`,
        { type: "categorical", choices: Array.from({ length: 1000 }, word) },
      ]),
    );
    await api().create(paths.collection("hpo.dev/v1alpha1", "hporequests", ns), {
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: { name: "huge", namespace: ns },
      spec: { method: "container", searchSpace, generator: { image: "steering:test", args, retries: 3 } },
    });
    const req = await waitForPhase(ns, "huge", "Failed", 60_000);
    const words =
      /the API server refused the generator's ConfigMap huge-gen-1 as too large \(HTTP 422\): .*Too long.*use a smaller search space/;
    await shows(ns, req, words, 1);
    expect(req.status?.lastGeneration?.retryable).toBe(false);
    expect(req.status?.message).toContain("generation 1 failed and cannot be retried");
    expect(await jobsOf(ns, "huge")).toBe(0);
  }, 90_000);
});
