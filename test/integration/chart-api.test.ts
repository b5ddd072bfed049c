/**
 * The iDDS API server as the Helm chart and config/ deploy it: its own Deployment (replicas, the
 * operator's image, `api`, HTTPS probes), a Service that selects only its pods, a serving
 * certificate for the Service's names, RBAC from config/rbac/api_role.yaml (cluster-wide, or Roles
 * per served namespace); its environment read back by its own flag parser. Then the server runs as
 * the chart's ServiceAccount, under the chart's RBAC, through a recording proxy, and the real
 * idds-client reads, reports and adds a request: nothing is refused, every rule is used.
 */
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse } from "yaml";
import { apiFlags, parseApiConfig } from "../../src/idds-api/config.ts";
import { identityOf } from "../../src/messaging/messages.ts";
import { repoRoot } from "../support/controlplane.ts";
import { applyRequest, getRequest, waitFor, waitForPoints } from "../support/hpo.ts";
import { httpsCall, iddsClient, startApiProcess } from "../support/idds-api.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";
import { startOperatorProcess } from "../support/operator.ts";
import { permissionsNeeded, startRecordingProxy } from "../support/recording-proxy.ts";
import {
  find,
  isApiServerObject,
  type Manifest,
  parseManifests,
  permissionsOf,
  renderChart,
} from "../support/tools.ts";

let releaseNs = "";
let teamNs = "";
const cleanup: (() => Promise<unknown> | unknown)[] = [];

beforeAll(() => {
  releaseNs = newNamespace("api-rel");
  teamNs = newNamespace("api-team");
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  deleteNamespace(teamNs);
  deleteNamespace(releaseNs);
});

const source = () => parse(readFileSync(join(repoRoot, "config/rbac/api_role.yaml"), "utf8")).rules;
const apiPart = (objects: Manifest[]) => objects.filter(isApiServerObject);
const containerOf = (d: Manifest) => d.spec.template.spec.containers[0];

/** envOf is a container's environment (plain values only: the API server takes no fieldRefs). */
function envOf(d: Manifest): Record<string, string> {
  return Object.fromEntries(
    containerOf(d).env.map((e: { name: string; value: string }) => [e.name, e.value]),
  );
}

describe("the chart's API server (default values)", () => {
  let all: Manifest[] = [];
  let api: Manifest[] = [];
  beforeAll(() => {
    all = renderChart("hpo-operator", releaseNs);
    api = apiPart(all);
  });

  it("runs `api` from the operator's image, scaled out, HTTPS probes, restricted", () => {
    const d = find(api, "Deployment");
    const op = find(all, "Deployment", "hpo-operator");
    const c = containerOf(d);
    expect(d.spec.replicas).toBe(2);
    expect(c.image).toBe(containerOf(op).image);
    expect(c.args).toEqual(["api"]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "https", scheme: "HTTPS" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "https", scheme: "HTTPS" });
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
  });

  it("sets only variables the server knows, read as meant: /idds on :8443 with the mounted certificate", () => {
    const d = find(api, "Deployment");
    const env = envOf(d);
    const known = new Set(apiFlags.map((f) => f.env));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const cfg = parseApiConfig([], env);
    expect(cfg).toMatchObject({
      prefix: "/idds",
      bindAddress: ":8443",
      namespaces: [],
      authCacheTtlMs: 10_000,
      dashboardMaxPoints: 200_000,
    });
    const mount = containerOf(d).volumeMounts.find((m: { name: string }) => m.name === "tls");
    expect(cfg.tlsCertFile).toBe(`${mount.mountPath}/tls.crt`);
    expect(cfg.tlsKeyFile).toBe(`${mount.mountPath}/tls.key`);
    const secret = find(api, "Secret");
    expect(
      d.spec.template.spec.volumes.find((v: { name: string }) => v.name === "tls").secret.secretName,
    ).toBe(secret.metadata.name);
    expect(secret.type).toBe("kubernetes.io/tls");
    const cert = new X509Certificate(Buffer.from(secret.data["tls.crt"], "base64"));
    expect(cert.subjectAltName).toContain(`DNS:hpo-operator-api.${releaseNs}.svc`);
  });

  it("its Service selects its pods only, and the operator's selector never matches them", () => {
    const d = find(api, "Deployment");
    const svc = find(api, "Service");
    const op = find(all, "Deployment", "hpo-operator");
    const labels = d.spec.template.metadata.labels;
    expect(labels).toMatchObject(svc.spec.selector);
    expect(svc.spec.ports).toEqual([{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }]);
    const matches = (sel: Record<string, string>, l: Record<string, string>) =>
      Object.entries(sel).every(([k, v]) => l[k] === v);
    expect(matches(op.spec.selector.matchLabels, labels)).toBe(false);
    expect(matches(d.spec.selector.matchLabels, op.spec.template.metadata.labels)).toBe(false);
  });

  it("takes its RBAC rules from config/rbac/api_role.yaml", () => {
    expect(permissionsOf(find(api, "ClusterRole").rules)).toEqual(permissionsOf(source()));
    expect(find(api, "ClusterRoleBinding").subjects).toEqual([
      { kind: "ServiceAccount", name: find(api, "ServiceAccount").metadata.name, namespace: releaseNs },
    ]);
  });

  it("namespace scope: the reviews cluster-wide, the other rules in a Role per served namespace", () => {
    const objects = apiPart(renderChart("scoped", releaseNs, { watchNamespaces: `{${teamNs}}` }));
    const isReview = (r: { apiGroups: string[] }) =>
      r.apiGroups.includes("authentication.k8s.io") || r.apiGroups.includes("authorization.k8s.io");
    const reviews = source().filter(isReview);
    const hpo = source().filter((r: { apiGroups: string[] }) => !isReview(r));
    expect(permissionsOf(find(objects, "ClusterRole").rules)).toEqual(permissionsOf(reviews));
    const role = find(objects, "Role");
    expect(role.metadata.namespace).toBe(teamNs);
    expect(permissionsOf(role.rules)).toEqual(permissionsOf(hpo));
    expect(parseApiConfig([], envOf(find(objects, "Deployment"))).namespaces).toEqual([teamNs]);
  });

  it("uses an existing TLS Secret instead of a self-signed one; api.enabled=false renders none of it", () => {
    const objects = apiPart(renderChart("own", releaseNs, { "api.tls.existingSecret": "my-cert" }));
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    const vol = find(objects, "Deployment").spec.template.spec.volumes.find(
      (v: { name: string }) => v.name === "tls",
    );
    expect(vol.secret.secretName).toBe("my-cert");
    expect(apiPart(renderChart("off", releaseNs, { "api.enabled": "false" }))).toEqual([]);
  });
});

describe("config/api (kustomize)", () => {
  it("has the chart's RBAC, and the server reads its environment as meant", () => {
    const objects = apiPart(parseManifests(kubectlOk(["kustomize", join(repoRoot, "config/default")])));
    const chart = apiPart(renderChart("hpo-operator", releaseNs));
    expect(permissionsOf(find(objects, "ClusterRole").rules)).toEqual(
      permissionsOf(find(chart, "ClusterRole").rules),
    );
    const d = find(objects, "Deployment");
    expect(d.spec.template.spec.serviceAccountName).toBe(find(objects, "ServiceAccount").metadata.name);
    expect(parseApiConfig([], envOf(d))).toMatchObject({ prefix: "/idds", bindAddress: ":8443" });
    expect(d.spec.template.metadata.labels).toMatchObject(find(objects, "Service").spec.selector);
  });
});

describe("the API server under the chart's RBAC", () => {
  it("serves idds-client as the chart's ServiceAccount: nothing refused, nothing beyond the rules", async () => {
    const release = `a${teamNs.slice(-6)}`;
    const objects = apiPart(renderChart(release, releaseNs, { watchNamespaces: `{${teamNs}}` }));
    for (const o of objects.filter(
      (x) => x.kind !== "Deployment" && x.kind !== "Service" && x.kind !== "Secret",
    )) {
      kubectlOk(["apply", "-f", "-"], JSON.stringify(o));
      if (!o.metadata.namespace)
        cleanup.push(() => kubectl(["delete", o.kind, o.metadata.name, "--ignore-not-found"]));
    }
    const proxy = await startRecordingProxy(inject("kubeconfig"), []);
    cleanup.push(() => proxy.close());
    const sa = find(objects, "ServiceAccount").metadata.name;
    const token = kubectlOk(["create", "token", sa, "-n", releaseNs, "--duration=1h"]).trim();
    const kubeconfig = join(repoRoot, "test-results", `kubeconfig-api-${release}.json`);
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(join(repoRoot, "test-results"), { recursive: true });
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "p", cluster: { server: proxy.url, "insecure-skip-tls-verify": true } }],
        users: [{ name: sa, user: { token } }],
        contexts: [{ name: sa, context: { cluster: "p", user: sa } }],
        "current-context": sa,
      }),
      { mode: 0o600 },
    );
    const op = await startOperatorProcess({
      kubeconfig: inject("kubeconfig"),
      args: [`--namespaces=${teamNs}`],
    });
    cleanup.push(() => op.kill("SIGTERM"));
    const server = await startApiProcess({ kubeconfig, env: envOf(find(objects, "Deployment")) });
    cleanup.push(() => server.kill());
    // A training job's own rights: read and report in its namespace.
    kubectlOk(["create", "serviceaccount", "-n", teamNs, "job"]);
    kubectlOk([
      "create",
      "role",
      "-n",
      teamNs,
      "job",
      "--verb=get,patch,create",
      "--resource=hyperparametersets.hpo.dev,hporequests.hpo.dev",
    ]);
    kubectlOk(["create", "rolebinding", "-n", teamNs, "job", "--role=job", `--serviceaccount=${teamNs}:job`]);
    applyRequest(teamNs, "r", {
      method: "random",
      searchSpace: { x: { type: "float", low: 0, high: 1 } },
      maxPoints: 2,
      pointsPerGeneration: 2,
    });
    await waitForPoints(teamNs, "r", 2);
    const requestId = identityOf((await getRequest(teamNs, "r")) as never).requestId;
    const jobToken = kubectlOk(["create", "token", "-n", teamNs, "job"]).trim();
    const [got, put, one, added] = await iddsClient(server.host, { token: jobToken }, [
      ["get_hyperparameters", { workload_id: null, request_id: requestId }],
      ["update_hyperparameter", { workload_id: null, request_id: requestId, id: 1, loss: 0.5 }],
      ["get_hyperparameters", { workload_id: null, request_id: requestId, id: 1 }],
      [
        "add_request",
        {
          request_type: "HyperParameterOpt",
          request_metadata: {
            workload_id: "4242",
            method: "random",
            opt_space: { x: [0, 1] },
            max_points: 2,
          },
        },
      ],
    ]);
    expect(got).toEqual({
      result: [expect.objectContaining({ id: "1" }), expect.objectContaining({ id: "2" })],
    });
    expect(put).toEqual({ result: { status: 0, message: "update successfully" } });
    expect(one).toEqual({ result: [expect.objectContaining({ id: "1", loss: 0.5 })] });
    expect(added).toEqual({ result: expect.any(Number) });
    expect(await getRequest(teamNs, "hpo-4242")).toBeDefined();
    // The dashboard, for a reader of the namespace: the list, a request's page and its watches.
    kubectlOk(["create", "serviceaccount", "-n", teamNs, "reader"]);
    kubectlOk([
      "create",
      "role",
      "-n",
      teamNs,
      "reader",
      "--verb=get,list,watch",
      "--resource=hporequests.hpo.dev,hyperparametersets.hpo.dev,events",
    ]);
    kubectlOk([
      "create",
      "rolebinding",
      "-n",
      teamNs,
      "reader",
      "--role=reader",
      `--serviceaccount=${teamNs}:reader`,
    ]);
    const reader = {
      Authorization: `Bearer ${kubectlOk(["create", "token", "-n", teamNs, "reader"]).trim()}`,
    };
    const listed = await httpsCall(server, "GET", "/dashboard/api/requests", reader);
    expect(
      JSON.parse(listed.body)
        .rows.map((r: { name: string }) => r.name)
        .sort(),
    ).toEqual(["hpo-4242", "r"]);
    const page = await httpsCall(server, "GET", `/dashboard/api/requests/${teamNs}/r`, reader);
    expect(JSON.parse(page.body).hidden).toEqual([]);
    await waitFor("the dashboard's watches", async () =>
      ["hyperparametersets", "events"].every((resource) =>
        proxy.calls.some((c) => c.resource === resource && c.verb === "watch"),
      )
        ? true
        : undefined,
    );
    const calls = proxy.calls;
    expect(calls.filter((c) => c.status === 403).map((c) => `${c.method} ${c.path}`)).toEqual([]);
    const granted = new Set(permissionsOf(source()));
    const used = [...new Set(calls.flatMap(permissionsNeeded))];
    expect(used.filter((p) => !granted.has(p as never))).toEqual([]);
    // Every rule was needed but the dashboard's reads of generator Jobs and pods, which only
    // container requests have.
    expect([...granted].filter((p) => !used.includes(p)).sort()).toEqual([
      "batch|jobs|list",
      "batch|jobs|watch",
      "|pods|list",
      "|pods|watch",
    ]);
  }, 120_000);
});
