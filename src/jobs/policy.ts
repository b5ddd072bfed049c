/**
 * The generator pod policy: what a tenant's spec.generator may make the operator run, as one pure
 * function of the generator spec and the cluster admin's policy (the operator's --generator-* flags,
 * docs/install.md#security). The user's securityContext is merged over the restricted defaults,
 * never replacing them; privileges, root, other service accounts and Secret references are refused
 * unless the admin allowed them; resources and the emptyDir size get the admin's defaults.
 */
import type { HPORequest } from "../api/index.ts";

/** GeneratorSpec is spec.generator of a request. */
export type GeneratorSpec = NonNullable<HPORequest["spec"]["generator"]>;

/** Resources are a container's requests and limits. */
export interface Resources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** PodPolicy is what the cluster admin allows generator pods. */
export interface PodPolicy {
  /** allowPrivileged allows privileged containers, privilege escalation, added capabilities and unconfined profiles. */
  allowPrivileged: boolean;
  /** allowRoot allows runAsUser 0 and runAsNonRoot false. */
  allowRoot: boolean;
  /** serviceAccounts a generator may run as besides "default"; "*" allows any. */
  serviceAccounts: readonly string[];
  /** secrets a generator's env may read (by name, in the request's namespace); "*" allows any. */
  secrets: readonly string[];
  /** defaultResources are the generator's resources when spec.generator.resources sets none. */
  defaultResources: Resources;
  /** emptyDirSizeLimit bounds the work and /tmp volumes of a generator pod (a quantity, such as 1Gi). */
  emptyDirSizeLimit: string;
}

/** defaultPodPolicy is the policy of an operator started without --generator-* flags. */
export const defaultPodPolicy: PodPolicy = {
  allowPrivileged: false,
  allowRoot: false,
  serviceAccounts: [],
  secrets: [],
  defaultResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
  emptyDirSizeLimit: "1Gi",
};

/** restricted is the securityContext of the Restricted Pod Security Standard. */
export const restricted = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

/** Admission is the generator container's settings under the policy, or why the spec is refused. */
export type Admission =
  | {
      ok: true;
      securityContext: Record<string, unknown>;
      resources: Resources;
      serviceAccountName?: string;
      emptyDirSizeLimit: string;
    }
  | { ok: false; reasons: string[] };

type SecurityContext = Record<string, unknown> & {
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string; localhostProfile?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
  windowsOptions?: { hostProcess?: boolean };
};

const SC = "spec.generator.securityContext";
const PRIVILEGED =
  "the cluster admin allows it with the operator flag --generator-allow-privileged; Helm: generatorPolicy.allowPrivileged";
const ROOT = "the cluster admin allows it with --generator-allow-root; Helm: generatorPolicy.allowRoot";
/** The capability and SELinux types the Restricted standard allows. */
const SAFE_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);
const SAFE_SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

/** privilegeProblems lists what in a securityContext needs --generator-allow-privileged. */
function privilegeProblems(sc: SecurityContext): string[] {
  const out: string[] = [];
  if (sc.privileged === true) out.push(`${SC}.privileged: privileged containers are refused`);
  if (sc.allowPrivilegeEscalation === true)
    out.push(`${SC}.allowPrivilegeEscalation: privilege escalation is refused`);
  const added = (sc.capabilities?.add ?? []).filter((c) => !SAFE_CAPABILITIES.has(String(c)));
  if (added.length > 0) out.push(`${SC}.capabilities.add: capabilities ${added.join(", ")} are refused`);
  if (sc.procMount !== undefined && sc.procMount !== "Default")
    out.push(`${SC}.procMount: ${String(sc.procMount)} is refused`);
  for (const key of ["seccompProfile", "appArmorProfile"] as const) {
    if (sc[key]?.type === "Unconfined") out.push(`${SC}.${key}.type: Unconfined is refused`);
  }
  const se = sc.seLinuxOptions;
  if (se && (se.user || se.role || !SAFE_SELINUX_TYPES.has(se.type ?? "")))
    out.push(`${SC}.seLinuxOptions: only the container types are allowed, without user or role`);
  if (sc.windowsOptions?.hostProcess === true)
    out.push(`${SC}.windowsOptions.hostProcess: host processes are refused`);
  return out.map((p) => `${p} (${PRIVILEGED})`);
}

/** rootProblems lists what in a securityContext needs --generator-allow-root. */
function rootProblems(sc: SecurityContext): string[] {
  const out: string[] = [];
  if (sc.runAsUser === 0) out.push(`${SC}.runAsUser: 0 (root) is refused`);
  if (sc.runAsNonRoot === false) out.push(`${SC}.runAsNonRoot: false is refused`);
  return out.map((p) => `${p} (${ROOT})`);
}

/**
 * mergeSecurityContext lays the user's securityContext over the restricted defaults and a read-only
 * root filesystem: the user's fields win one by one, the dropped capabilities only grow. What the
 * user asked for (and the admin allowed) wins over a default it contradicts: root over runAsNonRoot,
 * privileged over allowPrivilegeEscalation.
 */
export function mergeSecurityContext(user: SecurityContext = {}): Record<string, unknown> {
  const drop = [...new Set(["ALL", ...(user.capabilities?.drop ?? [])])];
  const merged: Record<string, unknown> = {
    ...restricted,
    readOnlyRootFilesystem: true,
    ...user,
    capabilities: { ...user.capabilities, drop },
    seccompProfile: user.seccompProfile ?? restricted.seccompProfile,
  };
  // Root asked for (and allowed): the default runAsNonRoot would make the kubelet refuse the pod.
  if (user.runAsUser === 0 && user.runAsNonRoot === undefined) merged.runAsNonRoot = false;
  // The API server refuses privileged together with allowPrivilegeEscalation: false.
  if (user.privileged === true && user.allowPrivilegeEscalation === undefined)
    merged.allowPrivilegeEscalation = true;
  return merged;
}

const allows = (list: readonly string[], name: string) => list.includes("*") || list.includes(name);

/** secretProblems lists the Secrets the generator's env reads that the admin did not allow. */
function secretProblems(g: GeneratorSpec, policy: PodPolicy): string[] {
  const out: string[] = [];
  for (const [i, v] of (g.env ?? []).entries()) {
    const ref = (v as { valueFrom?: { secretKeyRef?: { name?: string } } }).valueFrom?.secretKeyRef;
    if (!ref) continue;
    const name = ref.name ?? "";
    if (allows(policy.secrets, name)) continue;
    out.push(
      `spec.generator.env[${i}] (${v.name}): reading Secret ${JSON.stringify(name)} is refused (the cluster admin allows Secrets by name with --generator-secrets; Helm: generatorPolicy.secrets)`,
    );
  }
  return out;
}

function serviceAccountProblems(g: GeneratorSpec, policy: PodPolicy): string[] {
  const sa = g.serviceAccountName;
  if (!sa || sa === "default" || allows(policy.serviceAccounts, sa)) return [];
  return [
    `spec.generator.serviceAccountName: running as ServiceAccount ${JSON.stringify(sa)} is refused (the cluster admin allows service accounts by name with --generator-service-accounts; Helm: generatorPolicy.serviceAccounts)`,
  ];
}

const isEmpty = (r: Resources | undefined) =>
  !r || (Object.keys(r.requests ?? {}).length === 0 && Object.keys(r.limits ?? {}).length === 0);

/** admitGenerator applies the admin's policy to a generator spec: its container's settings, or the reasons it is refused. */
export function admitGenerator(g: GeneratorSpec, policy: PodPolicy): Admission {
  const sc = (g.securityContext ?? {}) as SecurityContext;
  const reasons = [
    ...(policy.allowPrivileged ? [] : privilegeProblems(sc)),
    ...(policy.allowRoot ? [] : rootProblems(sc)),
    ...serviceAccountProblems(g, policy),
    ...secretProblems(g, policy),
  ];
  if (reasons.length > 0) return { ok: false, reasons };
  const admitted: Admission = {
    ok: true,
    securityContext: mergeSecurityContext(sc),
    resources: isEmpty(g.resources) ? policy.defaultResources : (g.resources as Resources),
    emptyDirSizeLimit: policy.emptyDirSizeLimit,
  };
  if (g.serviceAccountName) admitted.serviceAccountName = g.serviceAccountName;
  return admitted;
}

/** refusalMessage is the status message of a refused generator spec. */
export function refusalMessage(reasons: readonly string[]): string {
  return `the generator pod policy refuses this request: ${reasons.join("; ")}`;
}
