/**
 * The Helm chart with a real helm (built from Go modules by hack/helm): `helm lint`, `helm template`
 * with the default and with non-default values (each Deployment's environment read back by the
 * operator's own configuration parser), the values schema refusing bad values, and the rendered
 * manifests applied to the local control plane with a server-side dry run in a namespace that
 * enforces the Restricted Pod Security Standard. chart-rbac.test.ts runs the operator under the
 * chart's RBAC.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import type { HPORequest } from "../../src/api/index.ts";
import { jobFor } from "../../src/jobs/manifests.ts";
import { placeholdersFor } from "../../src/jobs/protocol.ts";
import { flags, parseConfig } from "../../src/operator/config.ts";
import { repoRoot } from "../support/controlplane.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";
import {
  CHART,
  find,
  helm,
  type Manifest,
  operatorPart,
  parseManifests,
  permissionsOf,
  renderChart,
} from "../support/tools.ts";

let dir = "";
let releaseNs = "";
const watched: string[] = [];

/** values are non-default settings of every kind. */
const values = () => ({
  replicaCount: 2,
  image: { repository: "registry.example/hpo/hpo-operator", digest: `sha256:${"a".repeat(64)}` },
  stageImage: { repository: "registry.example/hpo/hpo-operator-stage", tag: "v9" },
  nevergradImage: { repository: "registry.example/hpo/nevergrad", tag: "2" },
  imagePullSecrets: [{ name: "regcred" }],
  watchNamespaces: watched,
  leaderElection: { id: "my-lease", leaseDuration: "20s" },
  operator: { logLevel: "debug", concurrency: 8, jobTTL: "2h" },
  broker: {
    brokers: ["mq-0.mq:61613", "mq-1.mq:61613"],
    destination: "/queue/hpo",
    tls: true,
    existingSecret: "mq-credentials",
    usernameKey: "user",
    passwordKey: "pass",
    caSecret: { name: "mq-ca", key: "ca.pem" },
    vo: "rubin",
  },
  generatorPolicy: {
    allowRoot: true,
    serviceAccounts: ["steer"],
    secrets: ["db", "registry-token"],
    defaultResources: { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "3Gi", cpu: "2" } },
    emptyDirSizeLimit: "5Gi",
    outputLimit: "64Mi",
    networkPolicy: { egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] },
  },
  extraEnv: [{ name: "NODE_OPTIONS", value: "--max-old-space-size=384" }],
  extraArgs: ["--resync-period=5m"],
  resources: { requests: { cpu: "200m", memory: "256Mi" }, limits: { memory: "1Gi" } },
  metrics: { serviceMonitor: { enabled: true, labels: { release: "prom" } } },
  networkPolicy: {
    enabled: true,
    metricsFrom: [{ namespaceSelector: { matchLabels: { monitoring: "prometheus" } } }],
  },
  podAnnotations: { "example.com/a": "b" },
  nodeSelector: { "kubernetes.io/os": "linux" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "hpo", effect: "NoSchedule" }],
});

function valuesFile(name: string, v: object): string {
  const f = join(dir, name);
  writeFileSync(f, stringify(v));
  return f;
}

/** container is the operator container of a rendered Deployment. */
const container = (d: Manifest) => d.spec.template.spec.containers[0];

/** envOf resolves the container's environment as the kubelet would (fieldRefs from the pod). */
function envOf(d: Manifest): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container(d).env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace")
      env[e.name] = d.metadata.namespace ?? "";
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = "pod-0";
  }
  return env;
}

/** dryRun applies objects with a server-side dry run; it returns kubectl's output. */
function dryRun(objects: Manifest[]): { stdout: string; stderr: string } {
  // JSON, not YAML: kubectl reads YAML 1.1, where a re-serialised "yes" or "on" would turn boolean.
  const stream = objects.map((o) => `---\n${JSON.stringify(o)}\n`).join("");
  const r = kubectl(["apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-"], stream);
  if (r.code !== 0) throw new Error(`dry run failed: ${r.stderr}`);
  return r;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "hpo-chart-"));
  // The release namespace enforces the Restricted standard: a dry run warns of any violation.
  releaseNs = newNamespace("chart");
  kubectlOk(["label", "namespace", releaseNs, "pod-security.kubernetes.io/enforce=restricted"]);
  kubectlOk(["label", "namespace", releaseNs, "pod-security.kubernetes.io/warn=restricted"]);
  watched.push(newNamespace("chart-a"), newNamespace("chart-b"));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const ns of [releaseNs, ...watched]) if (ns) deleteNamespace(ns);
});

describe("helm lint", () => {
  it("passes with the default values, strict", () => {
    const r = helm(["lint", "--strict", CHART]);
    expect(r.stdout + r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.code).toBe(0);
  });

  it("passes with non-default values, strict", () => {
    const r = helm(["lint", "--strict", CHART, "-f", valuesFile("lint.yaml", values())]);
    expect(r.stdout + r.stderr).toContain("0 chart(s) failed");
    expect(r.code).toBe(0);
  });
});

describe("helm template, default values", () => {
  /** all is the whole release; objects the operator's part (chart-api.test.ts checks the API server's). */
  let all: Manifest[] = [];
  let objects: Manifest[] = [];
  beforeAll(() => {
    all = renderChart("hpo-operator", releaseNs);
    objects = operatorPart(all);
  });

  it("renders the CRDs of crds/, unchanged", () => {
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    const sources = readdirSync(join(repoRoot, "crds"))
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => parse(readFileSync(join(repoRoot, "crds", f), "utf8")));
    expect(crds).toEqual(sources);
  });

  it("renders exactly the expected objects", () => {
    const names = all
      .filter((o) => o.kind !== "CustomResourceDefinition")
      .map((o) => `${o.kind} ${o.metadata.name}${o.metadata.namespace ? ` -n ${o.metadata.namespace}` : ""}`);
    expect(names.sort()).toEqual(
      [
        `ServiceAccount hpo-operator -n ${releaseNs}`,
        "ClusterRole hpo-operator",
        "ClusterRoleBinding hpo-operator",
        "ClusterRole hpo-operator-editor",
        "ClusterRole hpo-operator-viewer",
        `Role hpo-operator-leader-election -n ${releaseNs}`,
        `RoleBinding hpo-operator-leader-election -n ${releaseNs}`,
        `Service hpo-operator-metrics -n ${releaseNs}`,
        `Deployment hpo-operator -n ${releaseNs}`,
        `ServiceAccount hpo-operator-api -n ${releaseNs}`,
        "ClusterRole hpo-operator-api",
        "ClusterRoleBinding hpo-operator-api",
        `Secret hpo-operator-api-tls -n ${releaseNs}`,
        `Service hpo-operator-api -n ${releaseNs}`,
        `Deployment hpo-operator-api -n ${releaseNs}`,
      ].sort(),
    );
  });

  it("takes its RBAC rules from config/rbac (the single source)", () => {
    const source = (f: string) => parse(readFileSync(join(repoRoot, "config/rbac", f), "utf8")).rules;
    expect(find(objects, "ClusterRole", "hpo-operator").rules).toEqual(source("role.yaml"));
    expect(find(objects, "Role").rules).toEqual(source("leader_election_role.yaml"));
    expect(find(objects, "ClusterRole", "hpo-operator-editor").rules).toEqual(
      source("hporequest_editor_role.yaml"),
    );
    expect(find(objects, "ClusterRole", "hpo-operator-viewer").rules).toEqual(
      source("hporequest_viewer_role.yaml"),
    );
    expect(find(objects, "ClusterRole", "hpo-operator-editor").metadata.labels).toMatchObject({
      "rbac.authorization.k8s.io/aggregate-to-edit": "true",
      "rbac.authorization.k8s.io/aggregate-to-admin": "true",
    });
    // Nothing of the operator's touches Secrets or anything cluster-scoped.
    const perms = permissionsOf(find(objects, "ClusterRole", "hpo-operator").rules);
    expect(perms.filter((p) => p.includes("secrets") || p.includes("namespaces"))).toEqual([]);
  });

  it("runs one restricted, read-only, probed operator with leader election", () => {
    const d = find(objects, "Deployment");
    const c = container(d);
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toBeUndefined(); // rolling updates: leader election keeps it to one leader
    expect(c.image).toBe("ghcr.io/hpo-operator/hpo-operator:v0.1.0");
    expect(c.args).toEqual(["run"]);
    expect(d.spec.template.spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "health" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
    expect(c.ports).toEqual([
      { name: "http-metrics", containerPort: 8080, protocol: "TCP" },
      { name: "health", containerPort: 8081, protocol: "TCP" },
    ]);
    expect(c.resources).toEqual({ requests: { cpu: "100m", memory: "192Mi" }, limits: { memory: "512Mi" } });
    expect(d.spec.template.spec.serviceAccountName).toBe(find(objects, "ServiceAccount").metadata.name);
  });

  it("sets only variables the operator knows, and the operator reads them as meant", () => {
    const env = envOf(find(objects, "Deployment"));
    const known = new Set(flags.map((f) => f.env));
    expect(Object.keys(env).filter((k) => !known.has(k))).toEqual([]);
    const cfg = parseConfig([], env);
    expect(cfg).toMatchObject({
      namespaces: [],
      leaderElect: true,
      leaderElectionNamespace: releaseNs,
      leaderElectionId: "hpo-operator",
      identity: "pod-0",
      metricsAddress: ":8080",
      probeAddress: ":8081",
      operatorImage: "ghcr.io/hpo-operator/hpo-operator:v0.1.0",
      nevergradImage: "ghcr.io/hpo-operator/nevergrad-generator:v0.1.0",
      concurrency: 4,
      setBytes: 8192,
    });
    expect(cfg.broker.brokers).toEqual([]);
    // The generator pod policy of an operator started without flags: nothing more is allowed.
    expect(cfg.generators).toEqual(parseConfig([], {}).generators);
  });

  it("the metrics Service selects the operator's pods and port", () => {
    const svc = find(objects, "Service");
    const d = find(objects, "Deployment");
    expect(d.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    expect(d.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(svc.spec.ports).toEqual([
      { name: "http-metrics", port: 8080, targetPort: "http-metrics", protocol: "TCP" },
    ]);
  });

  it("applies to the control plane (server-side dry run) with no Pod Security warning", () => {
    const r = dryRun(all);
    for (const o of all) expect(r.stdout).toContain(`${o.metadata.name} serverside-applied (server dry run)`);
    expect(r.stderr).not.toMatch(/violate PodSecurity/);
  });
});

describe("helm template, non-default values", () => {
  let all: Manifest[] = [];
  let objects: Manifest[] = [];
  beforeAll(() => {
    all = parseManifests(
      (() => {
        const r = helm([
          "template",
          "rel",
          CHART,
          "-n",
          releaseNs,
          "-f",
          valuesFile("custom.yaml", values()),
        ]);
        if (r.code !== 0) throw new Error(r.stderr);
        return r.stdout;
      })(),
    );
    objects = operatorPart(all);
  });

  it("namespace scope: a Role per served namespace and no cluster-wide permission", () => {
    const roles = objects.filter((o) => o.kind === "Role" && o.metadata.name === "rel-hpo-operator");
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual([...watched].sort());
    for (const r of roles)
      expect(r.rules).toEqual(parse(readFileSync(join(repoRoot, "config/rbac/role.yaml"), "utf8")).rules);
    const bindings = objects.filter(
      (o) => o.kind === "RoleBinding" && o.metadata.name === "rel-hpo-operator",
    );
    expect(bindings.map((r) => r.metadata.namespace).sort()).toEqual([...watched].sort());
    for (const b of bindings)
      expect(b.subjects).toEqual([
        { kind: "ServiceAccount", name: "rel-hpo-operator", namespace: releaseNs },
      ]);
    expect(objects.some((o) => o.kind === "ClusterRoleBinding")).toBe(false);
    expect(objects.filter((o) => o.kind === "ClusterRole").map((o) => o.metadata.name)).toEqual([
      "rel-hpo-operator-editor",
      "rel-hpo-operator-viewer",
    ]);
  });

  it("the operator reads every setting as meant", () => {
    const d = find(objects, "Deployment");
    const c = container(d);
    expect(d.spec.replicas).toBe(2);
    expect(c.image).toBe(`registry.example/hpo/hpo-operator@sha256:${"a".repeat(64)}`);
    expect(c.args).toEqual(["run", "--resync-period=5m"]);
    const env = envOf(d);
    const cfg = parseConfig(c.args.slice(1), env);
    expect(cfg).toMatchObject({
      namespaces: watched,
      leaderElect: true,
      leaderElectionId: "my-lease",
      leaseDurationMs: 20_000,
      operatorImage: "registry.example/hpo/hpo-operator-stage:v9",
      nevergradImage: "registry.example/hpo/nevergrad:2",
      logLevel: "debug",
      concurrency: 8,
      jobTtlMs: 7_200_000,
      resyncMs: 300_000,
    });
    expect(cfg.broker).toMatchObject({
      brokers: [
        { host: "mq-0.mq", port: 61613 },
        { host: "mq-1.mq", port: 61613 },
      ],
      destination: "/queue/hpo",
      tls: true,
      usernameFile: "/etc/hpo-operator/broker/user",
      passwordFile: "/etc/hpo-operator/broker/pass",
      vo: "rubin",
    });
    expect(cfg.generators).toEqual({
      policy: {
        allowPrivileged: false,
        allowRoot: true,
        serviceAccounts: ["steer"],
        secrets: ["db", "registry-token"],
        defaultResources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "3Gi" } },
        emptyDirSizeLimit: "5Gi",
      },
      outputLimitBytes: 64 * 1024 * 1024,
    });
    expect(env.NODE_EXTRA_CA_CERTS).toBe("/etc/hpo-operator/broker-ca/ca.pem");
    expect(env.NODE_OPTIONS).toBe("--max-old-space-size=384");
  });

  it("mounts the broker Secret (read-only, group-readable) and the CA where the variables point", () => {
    const d = find(objects, "Deployment");
    const mounts = container(d).volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[];
    const volumes = d.spec.template.spec.volumes as { name: string; secret?: object }[];
    expect(mounts).toContainEqual({
      name: "broker-credentials",
      mountPath: "/etc/hpo-operator/broker",
      readOnly: true,
    });
    expect(mounts).toContainEqual({
      name: "broker-ca",
      mountPath: "/etc/hpo-operator/broker-ca",
      readOnly: true,
    });
    expect(volumes).toContainEqual({
      name: "broker-credentials",
      secret: { secretName: "mq-credentials", defaultMode: 0o440 },
    });
    expect(volumes).toContainEqual({
      name: "broker-ca",
      secret: { secretName: "mq-ca", items: [{ key: "ca.pem", path: "ca.pem" }] },
    });
    expect(d.spec.template.spec.securityContext.fsGroup).toBe(65532);
    expect(d.spec.template.spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
    expect(d.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(d.spec.template.metadata.annotations).toMatchObject({ "example.com/a": "b" });
  });

  it("the ServiceMonitor and the NetworkPolicy point at the operator's pods and metrics port", () => {
    const d = find(objects, "Deployment");
    const podLabels = d.spec.template.metadata.labels;
    const svc = find(objects, "Service");
    const sm = find(objects, "ServiceMonitor");
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: "http-metrics", path: "/metrics" });
    expect(sm.metadata.labels).toMatchObject({ release: "prom" });
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [releaseNs] });
    const np = find(objects, "NetworkPolicy", "rel-hpo-operator");
    expect(podLabels).toMatchObject(np.spec.podSelector.matchLabels);
    expect(np.spec.policyTypes).toEqual(["Ingress"]);
    expect(np.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { monitoring: "prometheus" } } }],
        ports: [{ port: "http-metrics", protocol: "TCP" }],
      },
    ]);
  });

  it("a NetworkPolicy in each served namespace shuts generator pods off but for the egress allowed", () => {
    const policies = objects.filter(
      (o) => o.kind === "NetworkPolicy" && o.metadata.name === "rel-hpo-operator-generators",
    );
    expect(policies.map((p) => p.metadata.namespace).sort()).toEqual([...watched].sort());
    // It selects the pods of the operator's generator Jobs, and not the operator itself.
    const req = {
      metadata: { name: "r", namespace: "n", uid: "u" },
      spec: { method: "container", generator: { image: "g" } },
    };
    const job = jobFor(req as HPORequest, "r-gen-1", 1, placeholdersFor(req as HPORequest, 1), {
      operatorImage: "i",
      ttlSecondsAfterFinished: 1,
      gzipAboveBytes: 1,
    });
    const generatorPod: Record<string, string> = job.spec.template.metadata.labels;
    const operatorPod: Record<string, string> = find(objects, "Deployment").spec.template.metadata.labels;
    for (const np of policies) {
      const selects = (labels: Record<string, string>) =>
        Object.entries(np.spec.podSelector.matchLabels).every(([k, v]) => labels[k] === v) &&
        np.spec.podSelector.matchExpressions.every((e: { key: string }) => e.key in labels);
      expect(selects(generatorPod)).toBe(true);
      expect(selects(operatorPod)).toBe(false);
      expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(np.spec.ingress).toEqual([]);
      expect(np.spec.egress).toEqual([{ ports: [{ port: 53, protocol: "UDP" }] }]);
    }
  });

  it("applies to the control plane (server-side dry run; the ServiceMonitor needs the Prometheus Operator)", () => {
    const rest = all.filter((o) => o.kind !== "ServiceMonitor");
    expect(all.length - rest.length).toBe(1);
    const r = dryRun(rest);
    expect(r.stdout.split("\n").filter((l) => l.includes("(server dry run)"))).toHaveLength(rest.length);
    expect(r.stderr).not.toMatch(/violate PodSecurity/);
  });
});

describe("helm template, other switches", () => {
  it("leader election off: one pod, Recreate updates, no Lease permission", () => {
    const objects = operatorPart(renderChart("solo", releaseNs, { "leaderElection.enabled": "false" }));
    const d = find(objects, "Deployment");
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
    expect(envOf(d).HPO_LEADER_ELECT).toBe("false");
    expect(objects.filter((o) => o.kind === "Role")).toEqual([]);
  });

  it("the generator NetworkPolicy goes where generatorPolicy.networkPolicy.namespaces says, or nowhere when off", () => {
    const names = (set: Record<string, string>) =>
      renderChart("np", releaseNs, set)
        .filter((o) => o.kind === "NetworkPolicy")
        .map((o) => o.metadata.namespace);
    expect(names({ "generatorPolicy.networkPolicy.namespaces": "{team-a,team-b}" })).toEqual([
      "team-a",
      "team-b",
    ]);
    expect(names({ watchNamespaces: "{team-c}" })).toEqual(["team-c"]);
    expect(names({ watchNamespaces: "{team-c}", "generatorPolicy.networkPolicy.enabled": "false" })).toEqual(
      [],
    );
  });

  it("metrics off: no Service, no port, the operator serves no /metrics", () => {
    const objects = operatorPart(
      renderChart("quiet", releaseNs, { "metrics.enabled": "false", "rbac.create": "false" }),
    );
    expect(objects.filter((o) => o.kind === "Service" || o.kind.includes("Role"))).toEqual([]);
    const d = find(objects, "Deployment");
    expect(container(d).ports.map((p: { name: string }) => p.name)).toEqual(["health"]);
    expect(parseConfig([], envOf(d)).metricsAddress).toBe("");
  });

  it("refuses two replicas without leader election", () => {
    const r = helm([
      "template",
      "x",
      CHART,
      "--set",
      "replicaCount=2",
      "--set",
      "leaderElection.enabled=false",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("leaderElection.enabled=false needs replicaCount=1");
  });

  it.each([
    ["replicaCount=two", "/replicaCount"],
    ["replicas=2", "additional properties 'replicas' not allowed"],
    ["broker.brokers={mq-without-port}", "/broker/brokers/0"],
    ["operator.logLevel=verbose", "/operator/logLevel"],
    ["leaderElection.leaseDuration=15 seconds", "/leaderElection/leaseDuration"],
    ["watchNamespaces={Team_A}", "/watchNamespaces/0"],
    ["image.digest=latest", "/image/digest"],
    ["generatorPolicy.outputLimit=16MB", "/generatorPolicy/outputLimit"],
    ["generatorPolicy.allowRoot=maybe", "/generatorPolicy/allowRoot"],
  ])("the values schema refuses %s", (set, message) => {
    const r = helm(["template", "x", CHART, "--set", set]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});
