/**
 * config/ (the kubebuilder layout): `kubectl kustomize config/default` renders, its objects apply to
 * the control plane with a server-side dry run (in its namespace, which enforces the Restricted Pod
 * Security Standard), the operator reads its Deployment's environment as meant, its RBAC is the
 * chart's, and the optional prometheus and network-policy parts point at the right pods.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { flags, parseConfig } from "../../src/operator/config.ts";
import { repoRoot } from "../support/controlplane.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import {
  find,
  type Manifest,
  operatorPart,
  parseManifests,
  permissionsOf,
  renderChart,
} from "../support/tools.ts";

/** kustomize renders a kustomization folder with kubectl's built-in kustomize. */
function kustomize(dir: string): Manifest[] {
  return parseManifests(kubectlOk(["kustomize", dir]));
}

/** all is config/default; objects its operator part (the API server's is checked on its own). */
let all: Manifest[] = [];
let objects: Manifest[] = [];
let tmp = "";
const NS = "hpo-system";

beforeAll(() => {
  all = kustomize(join(repoRoot, "config/default"));
  objects = operatorPart(all);
  tmp = mkdtempSync(join(tmpdir(), "hpo-kustomize-"));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  kubectl(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]);
});

describe("config/default", () => {
  it("renders the CRDs of crds/, the RBAC, the operator and its metrics Service in hpo-system", () => {
    const names = all.map(
      (o) => `${o.kind} ${o.metadata.name}${o.metadata.namespace ? ` -n ${o.metadata.namespace}` : ""}`,
    );
    expect(names.sort()).toEqual(
      [
        `Namespace ${NS}`,
        "CustomResourceDefinition hporequests.hpo.dev",
        "CustomResourceDefinition hyperparametersets.hpo.dev",
        `ServiceAccount hpo-operator-controller-manager -n ${NS}`,
        "ClusterRole hpo-operator-manager-role",
        "ClusterRoleBinding hpo-operator-manager-rolebinding",
        `Role hpo-operator-leader-election-role -n ${NS}`,
        `RoleBinding hpo-operator-leader-election-rolebinding -n ${NS}`,
        "ClusterRole hpo-operator-hporequest-editor-role",
        "ClusterRole hpo-operator-hporequest-viewer-role",
        `Service hpo-operator-controller-manager-metrics-service -n ${NS}`,
        `Deployment hpo-operator-controller-manager -n ${NS}`,
        `ServiceAccount hpo-operator-api-server -n ${NS}`,
        "ClusterRole hpo-operator-api-role",
        "ClusterRoleBinding hpo-operator-api-rolebinding",
        `Service hpo-operator-api -n ${NS}`,
        `Deployment hpo-operator-api-server -n ${NS}`,
      ].sort(),
    );
    for (const crd of objects.filter((o) => o.kind === "CustomResourceDefinition")) {
      const file = join(repoRoot, "crds", `${crd.spec.group}_${crd.spec.names.plural}.yaml`);
      expect(crd).toEqual(parse(readFileSync(file, "utf8")));
    }
    expect(find(objects, "Namespace").metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });

  it("has the same RBAC rules as the Helm chart", () => {
    const chart = renderChart("hpo-operator", NS);
    const pairs: [string, string][] = [
      ["hpo-operator-manager-role", "hpo-operator"],
      ["hpo-operator-hporequest-editor-role", "hpo-operator-editor"],
      ["hpo-operator-hporequest-viewer-role", "hpo-operator-viewer"],
    ];
    for (const [ours, theirs] of pairs)
      expect(permissionsOf(find(objects, "ClusterRole", ours).rules)).toEqual(
        permissionsOf(find(chart, "ClusterRole", theirs).rules),
      );
    expect(permissionsOf(find(objects, "Role").rules)).toEqual(permissionsOf(find(chart, "Role").rules));
    expect(find(objects, "ClusterRoleBinding").subjects).toEqual([
      { kind: "ServiceAccount", name: "hpo-operator-controller-manager", namespace: NS },
    ]);
  });

  it("runs the operator with leader election in its namespace, and the stage image is its own image", () => {
    const d = find(objects, "Deployment");
    const c = d.spec.template.spec.containers[0];
    expect(c.image).toBe("ghcr.io/hpo-operator/hpo-operator:v0.1.0");
    expect(c.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    const env: Record<string, string> = {};
    for (const e of c.env)
      env[e.name] = e.value ?? (e.valueFrom.fieldRef.fieldPath === "metadata.namespace" ? NS : "pod-0");
    const known = new Set(flags.map((f) => f.env));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const cfg = parseConfig(c.args.slice(1), env);
    expect(cfg).toMatchObject({
      leaderElect: true,
      leaderElectionNamespace: NS,
      operatorImage: c.image,
      metricsAddress: ":8080",
      probeAddress: ":8081",
    });
    // The generator pod policy is spelled out with its defaults, for the admin to change.
    expect(cfg.generators).toEqual(parseConfig([], {}).generators);
    expect(Object.keys(env).filter((k) => k.startsWith("HPO_GENERATOR_"))).toHaveLength(8);
    const svc = find(objects, "Service");
    expect(d.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    expect(c.ports.map((p: { name: string }) => p.name)).toContain(svc.spec.ports[0].targetPort);
  });

  it("another image set in config/manager reaches the stage containers too", () => {
    const copy = join(tmp, "config");
    cpSync(join(repoRoot, "config"), copy, { recursive: true });
    const k = join(copy, "manager/kustomization.yaml");
    const doc = parse(readFileSync(k, "utf8"));
    doc.images = [{ name: "controller", newName: "registry.example/hpo", newTag: "v9.9.9" }];
    writeFileSync(k, stringify(doc));
    const rendered = kustomize(join(copy, "default"));
    const c = find(operatorPart(rendered), "Deployment").spec.template.spec.containers[0];
    expect(c.image).toBe("registry.example/hpo:v9.9.9");
    const api = find(rendered, "Deployment", "hpo-operator-api-server").spec.template.spec.containers[0];
    expect(api.image).toBe(c.image);
    expect(c.env.find((e: { name: string }) => e.name === "HPO_OPERATOR_IMAGE").value).toBe(c.image);
  });

  it("applies to the control plane (server-side dry run) with no Pod Security warning", () => {
    // Namespaced objects need their namespace to exist for the dry run: create it for real.
    kubectlOk(["apply", "--server-side", "-f", "-"], JSON.stringify(find(objects, "Namespace")));
    const rest = all.filter((o) => o.kind !== "Namespace");
    const stream = rest.map((o) => `---\n${JSON.stringify(o)}\n`).join("");
    const r = kubectl(["apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-"], stream);
    expect(r.stderr).not.toMatch(/violate PodSecurity|error/i);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter((l) => l.includes("(server dry run)"))).toHaveLength(rest.length);
  });
});

describe("config/prometheus, config/network-policy and config/generator-policy", () => {
  it("the ServiceMonitor scrapes the metrics Service's port", () => {
    const sm = find(kustomize(join(repoRoot, "config/prometheus")), "ServiceMonitor");
    const svc = parse(readFileSync(join(repoRoot, "config/default/metrics_service.yaml"), "utf8"));
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: svc.spec.ports[0].name, path: "/metrics" });
  });

  it("the NetworkPolicy selects the operator's pods and lets in only the metrics port", () => {
    const np = find(kustomize(join(repoRoot, "config/network-policy")), "NetworkPolicy");
    const d = find(objects, "Deployment");
    expect(d.spec.template.metadata.labels).toMatchObject(np.spec.podSelector.matchLabels);
    expect(np.spec.ingress.flatMap((i: { ports: { port: number }[] }) => i.ports.map((p) => p.port))).toEqual(
      [8080],
    );
  });

  it("config/generator-policy shuts the operator's generator pods off, in the namespace it is applied to", () => {
    const np = find(kustomize(join(repoRoot, "config/generator-policy")), "NetworkPolicy");
    const chart = find(renderChart("hpo-operator", NS, { watchNamespaces: "{team-a}" }), "NetworkPolicy");
    expect(np.metadata.namespace).toBeUndefined();
    expect(np.spec).toEqual(chart.spec);
  });

  it("config/samples renders the sample requests", () => {
    const samples = kustomize(join(repoRoot, "config/samples"));
    expect(samples.length).toBeGreaterThan(0);
    expect(new Set(samples.map((s) => s.kind))).toEqual(new Set(["HPORequest"]));
  });
});
