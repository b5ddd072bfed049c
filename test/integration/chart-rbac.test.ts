/**
 * The Helm chart's RBAC is enough for the operator, and no more than it uses: the chart's
 * ServiceAccount, Roles and bindings are applied for real (namespace scope: a Role in the served
 * namespace, the leader-election Role in the release namespace), the operator runs as that
 * ServiceAccount (a token from `kubectl create token`) with the environment of the chart's
 * Deployment, leader election on, through a recording proxy, and takes requests through a whole
 * lifecycle: a random request to Finished, a container generator (Job, ConfigMap, pods, logs) to
 * Finished, and a generator whose image cannot be pulled (its Job deleted) to Failed. The proxy
 * answers the first status write of each kind with a conflict, so the re-read paths run too.
 *
 * Then: no call was refused (a missing permission fails here even when the operator shrugs it off,
 * as it does for Events), every permission the chart grants was used, and each call stayed in its
 * namespace. The cluster-wide mode (ClusterRole) grants the same rules across namespaces, checked
 * with the API server's own authorizer (SubjectAccessReview via `kubectl auth can-i`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Point } from "../../src/api/index.ts";
import { repoRoot } from "../support/controlplane.ts";
import { applyRequest, eventsOf, points, startTrainer, waitFor, waitForPhase } from "../support/hpo.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { type Kubelet, startKubelet } from "../support/kubelet.ts";
import { type OperatorProcess, startOperatorProcess } from "../support/operator.ts";
import {
  type ApiCall,
  permissionsNeeded,
  type RecordingProxy,
  startRecordingProxy,
} from "../support/recording-proxy.ts";
import { find, type Manifest, type Permission, permissionsOf, renderChart } from "../support/tools.ts";

const IMAGE = "hpo-operator:rbac-test";
const RBAC_KINDS = ["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"];

let releaseNs = "";
let teamNs = "";
let release = "";
let objects: Manifest[] = [];
let proxy: RecordingProxy;
let kubelet: Kubelet;
let op: OperatorProcess | undefined;
let podName = "";
const applied: Manifest[] = [];

/** saKubeconfig writes a kubeconfig for the ServiceAccount (a fresh token) that talks to server. */
function saKubeconfig(ns: string, sa: string, server: string): string {
  const token = kubectlOk(["create", "token", sa, "-n", ns, "--duration=2h"]).trim();
  const file = join(repoRoot, "test-results", `kubeconfig-${ns}-${sa}.json`);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    // The proxy speaks plain HTTP on loopback, so there is no certificate to verify.
    clusters: [{ name: "test", cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name: sa, user: { token } }],
    contexts: [{ name: sa, context: { cluster: "test", user: sa, namespace: ns } }],
    "current-context": sa,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/** deploymentEnv is the operator container's environment as the chart's Deployment sets it. */
function deploymentEnv(deployment: Manifest, pod: string): Record<string, string> {
  const container = deployment.spec.template.spec.containers.find(
    (c: { name: string }) => c.name === "manager",
  );
  const env: Record<string, string> = {};
  for (const e of container.env as {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string } };
  }[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace")
      env[e.name] = deployment.metadata.namespace ?? "";
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = pod;
    else throw new Error(`the test cannot supply ${e.name} (${JSON.stringify(e.valueFrom)})`);
  }
  return env;
}

/** refused lists the calls RBAC refused. */
const refused = (calls: ApiCall[]) =>
  calls.filter((c) => c.status === 403).map((c) => `${c.method} ${c.path}`);

/** used is every permission the calls needed, finalizers included (blockOwnerDeletion on a create). */
function used(calls: ApiCall[]): Permission[] {
  const out = new Set<Permission>();
  for (const c of calls) {
    if (c.status === 403) continue;
    for (const p of permissionsNeeded(c)) out.add(p as Permission);
    // OwnerReferencesPermissionEnforcement: blockOwnerDeletion needs update on the owner's finalizers.
    if (c.blockOwnerDeletion && c.status === 201) out.add("hpo.dev|hporequests/finalizers|update");
  }
  return [...out].sort();
}

async function startOperator(): Promise<OperatorProcess> {
  const deployment = find(objects, "Deployment");
  const sa = find(objects, "ServiceAccount").metadata.name;
  const kubeconfig = saKubeconfig(releaseNs, sa, proxy.url);
  return startOperatorProcess({ kubeconfig, env: deploymentEnv(deployment, podName) });
}

beforeAll(async () => {
  releaseNs = newNamespace("hpo-rel");
  teamNs = newNamespace("hpo-team");
  release = `rbac-${releaseNs.slice(-6)}`;
  podName = `${release}-hpo-operator-7d9f-x2x4z`;
  objects = renderChart(release, releaseNs, {
    watchNamespaces: `{${teamNs}}`,
    "image.repository": IMAGE.split(":")[0] as string,
    "image.tag": IMAGE.split(":")[1] as string,
    "operator.pendingTimeout": "2s",
    "operator.generationRetryBase": "200ms",
    "operator.logLevel": "debug",
    "api.enabled": "false", // the operator's RBAC alone (chart-api.test.ts runs the API server's)
  });
  for (const o of objects.filter((x) => RBAC_KINDS.includes(x.kind))) {
    kubectlOk(["apply", "-f", "-"], JSON.stringify(o));
    applied.push(o);
  }
  proxy = await startRecordingProxy(inject("kubeconfig"), [
    { method: "PATCH", path: /\/hporequests\/[^/]+\/status$/ },
    { method: "PATCH", path: /\/hyperparametersets\/[^/]+\/status$/ },
  ]);
  kubelet = await startKubelet({
    kubeconfig: inject("kubeconfig"),
    namespaces: [teamNs],
    images: { [IMAGE]: { entrypoint: [process.execPath, join(repoRoot, "src/cli/main.ts")] } },
  });
  op = await startOperator();
}, 120_000);

afterAll(async () => {
  await op?.kill("SIGTERM");
  await kubelet?.stop();
  await proxy?.close();
  for (const o of applied.filter((x) => !x.metadata.namespace && x.kind !== "ServiceAccount"))
    kubectl(["delete", o.kind, o.metadata.name, "--ignore-not-found", "--wait=false"]);
  deleteNamespace(teamNs);
  deleteNamespace(releaseNs);
});

const space = { x: { type: "float", low: -5, high: 10 }, y: { type: "float", low: 0, high: 15 } };
const loss = (p: Point) => Math.abs((p.params.x as number) - 1) + Math.abs((p.params.y as number) - 2);

/** runToFinished applies a request and reports every loss (a simulated training fleet) until it ends. */
async function runToFinished(name: string, spec: Record<string, unknown>, timeoutMs = 60_000) {
  applyRequest(teamNs, name, { searchSpace: space, ...spec });
  const fleet = startTrainer(teamNs, name, loss);
  try {
    return await waitForPhase(teamNs, name, "Finished", timeoutMs);
  } finally {
    await fleet.stop();
  }
}

describe("the chart's RBAC (namespace scope, leader election on)", () => {
  it("renders only namespaced RBAC for a namespace-scoped release", () => {
    const kinds = objects
      .filter((o) => RBAC_KINDS.includes(o.kind))
      .map((o) => `${o.kind}/${o.metadata.namespace ?? ""}`);
    expect(kinds.sort()).toEqual(
      [
        `ClusterRole/`, // the two aggregated user roles, no permission of the operator's own
        `ClusterRole/`,
        `Role/${releaseNs}`,
        `Role/${teamNs}`,
        `RoleBinding/${releaseNs}`,
        `RoleBinding/${teamNs}`,
        `ServiceAccount/${releaseNs}`,
      ].sort(),
    );
    const userRoles = objects.filter((o) => o.kind === "ClusterRole");
    for (const r of userRoles) expect(r.metadata.labels?.["app.kubernetes.io/instance"]).toBe(release);
    expect(objects.some((o) => o.kind === "ClusterRoleBinding")).toBe(false);
  });

  it("the operator, as the chart's ServiceAccount, becomes leader on a Lease in the release namespace", async () => {
    const lease = await waitFor("the Lease", async () => {
      const r = kubectl(["get", "lease", "-n", releaseNs, `${release}-hpo-operator`, "-o", "json"]);
      return r.code === 0 ? (JSON.parse(r.stdout) as { spec: { holderIdentity?: string } }) : undefined;
    });
    expect(lease.spec.holderIdentity).toBe(podName);
  });

  it("a random request runs to Finished", async () => {
    await runToFinished("rnd", { method: "random", maxPoints: 6, pointsPerGeneration: 3 });
    expect((await points(teamNs, "rnd")).length).toBe(6);
    const reasons = (await eventsOf(teamNs, "rnd")).map((e) => e.reason);
    expect(reasons).toContain("Finished");
  }, 90_000);

  it("a container generator (the operator's image) runs to Finished", async () => {
    const spec = {
      method: "container",
      maxPoints: 4,
      pointsPerGeneration: 2,
      generator: {
        image: IMAGE,
        args: [
          "generate",
          "--method=random",
          "--max_points=%MAX_POINTS",
          "--num_points=%NUM_POINTS",
          "--input=%IN",
          "--output=%OUT",
        ],
      },
    };
    await runToFinished("steer", spec, 120_000);
    expect((await points(teamNs, "steer")).length).toBe(4);
  }, 150_000);

  it("a generator image that cannot be pulled fails the request (its Job is deleted)", async () => {
    applyRequest(teamNs, "pull", {
      method: "container",
      searchSpace: space,
      generator: { image: "registry.example/missing:1", retries: 0 },
    });
    const req = await waitForPhase(teamNs, "pull", "Failed", 90_000);
    expect(req.status?.lastGeneration?.message).toMatch(/cannot start/);
  }, 120_000);

  it("a generator whose pods a ResourceQuota refuses fails the request, quoting the Job's FailedCreate", async () => {
    kubectlOk(["create", "quota", "no-pods", "-n", teamNs, "--hard=pods=0"]);
    try {
      await waitFor(
        "the quota in force",
        async () =>
          kubectlOk(["get", "quota", "no-pods", "-n", teamNs, "-o", "jsonpath={.status.hard.pods}"]) === "0",
      );
      applyRequest(teamNs, "nopods", {
        method: "container",
        searchSpace: space,
        generator: { image: IMAGE, retries: 0 },
      });
      const req = await waitForPhase(teamNs, "nopods", "Failed", 90_000);
      expect(req.status?.lastGeneration?.message).toMatch(
        /the Job cannot create its pod: .*exceeded quota: no-pods/,
      );
    } finally {
      kubectlOk(["delete", "quota", "no-pods", "-n", teamNs]);
    }
  }, 120_000);

  it("no call was refused, every granted permission was used, each in its namespace", async () => {
    await op?.kill("SIGTERM"); // releases the Lease: one more update
    op = undefined;
    const calls = proxy.calls;
    expect(refused(calls)).toEqual([]);
    // The injected conflicts happened, so the re-read paths ran.
    expect(calls.filter((c) => c.injected).map((c) => `${c.verb} ${c.resource}`)).toEqual(
      expect.arrayContaining(["patch hporequests/status", "patch hyperparametersets/status"]),
    );

    const workloadRole = find(
      objects.filter((o) => o.metadata.namespace === teamNs),
      "Role",
    );
    const leaseRole = find(
      objects.filter((o) => o.metadata.namespace === releaseNs),
      "Role",
    );
    const granted = [...permissionsOf(workloadRole.rules), ...permissionsOf(leaseRole.rules)].sort();
    expect(used(calls)).toEqual(granted);

    const leases = calls.filter((c) => c.resource === "leases");
    const others = calls.filter((c) => c.resource !== "leases");
    expect(new Set(leases.map((c) => c.namespace))).toEqual(new Set([releaseNs]));
    expect(new Set(others.map((c) => c.namespace))).toEqual(new Set([teamNs]));
  }, 60_000);

  it("a Role missing one permission is caught even when the lifecycle survives it (events)", async () => {
    const role = find(
      objects.filter((o) => o.metadata.namespace === teamNs),
      "Role",
    );
    const without = {
      ...role,
      rules: role.rules.filter((r: { resources: string[] }) => !r.resources.includes("events")),
    };
    kubectlOk(["apply", "-f", "-"], JSON.stringify(without));
    try {
      const before = proxy.calls.length;
      op = await startOperator();
      await runToFinished("noevents", { method: "random", maxPoints: 2, pointsPerGeneration: 2 });
      await op.kill("SIGTERM");
      op = undefined;
      const denied = refused(proxy.calls.slice(before));
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.every((d) => d.startsWith(`POST /api/v1/namespaces/${teamNs}/events`))).toBe(true);
    } finally {
      kubectlOk(["apply", "-f", "-"], JSON.stringify(role));
    }
  }, 90_000);
});

describe("the chart's RBAC (cluster scope)", () => {
  it("grants the same permissions in every namespace, and nothing cluster-scoped", () => {
    const rel = `${release}-all`;
    const all = renderChart(rel, releaseNs, { "api.enabled": "false" });
    const clusterRole = find(all, "ClusterRole", `${rel}-hpo-operator`);
    const binding = find(all, "ClusterRoleBinding");
    expect(binding.roleRef.name).toBe(clusterRole.metadata.name);
    const workloadRole = find(
      objects.filter((o) => o.metadata.namespace === teamNs),
      "Role",
    );
    expect(permissionsOf(clusterRole.rules)).toEqual(permissionsOf(workloadRole.rules));
    for (const o of all.filter((x) =>
      ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"].includes(x.kind),
    )) {
      if (o.metadata.name !== clusterRole.metadata.name && o.kind === "ClusterRole") continue;
      kubectlOk(["apply", "-f", "-"], JSON.stringify(o));
      applied.push(o);
    }
    const as = `--as=system:serviceaccount:${releaseNs}:${find(all, "ServiceAccount").metadata.name}`;
    const can = (verb: string, resource: string, ...where: string[]) =>
      kubectl(["auth", "can-i", verb, resource, as, ...where]).stdout.trim();
    const other = `elsewhere-${releaseNs.slice(-6)}`; // need not exist: authorization is by name
    for (const p of permissionsOf(clusterRole.rules)) {
      const [group, resource, verb] = p.split("|") as [string, string, string];
      const [plural, sub] = resource.split("/");
      const target = `${plural}${group ? `.${group}` : ""}`;
      const subresource = sub ? [`--subresource=${sub}`] : [];
      expect(`${p}: ${can(verb, target, "-n", other, ...subresource)}`).toBe(`${p}: yes`);
      if (verb === "list" || verb === "watch")
        expect(`${p} (all namespaces): ${can(verb, target, "-A")}`).toBe(`${p} (all namespaces): yes`);
    }
    // Nothing beyond the rules: no Secrets, no cluster-scoped objects, no writes to requests.
    expect(can("get", "secrets", "-n", other)).toBe("no");
    expect(can("list", "namespaces")).toBe("no");
    expect(can("update", "hporequests.hpo.dev", "-n", other)).toBe("no");
    expect(can("get", "leases.coordination.k8s.io", "-n", other)).toBe("no");
  }, 60_000);
});
