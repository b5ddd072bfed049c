import { describe, expect, it } from "vitest";
import {
  admitGenerator,
  defaultPodPolicy,
  type GeneratorSpec,
  mergeSecurityContext,
  type PodPolicy,
} from "./policy.ts";

const gen = (extra: Partial<GeneratorSpec> = {}): GeneratorSpec => ({ image: "steer:1", ...extra });
const allowAll: PodPolicy = {
  ...defaultPodPolicy,
  allowPrivileged: true,
  allowRoot: true,
  serviceAccounts: ["*"],
  secrets: ["*"],
};
const secretEnv = (name: string) => ({
  name: "TOKEN",
  valueFrom: { secretKeyRef: { name, key: "token" } },
});

describe("the generator pod policy", () => {
  it.each<[string, GeneratorSpec, RegExp]>([
    [
      "privileged",
      gen({ securityContext: { privileged: true } }),
      /securityContext.privileged: privileged containers are refused \(.*--generator-allow-privileged/,
    ],
    [
      "privilege escalation",
      gen({ securityContext: { allowPrivilegeEscalation: true } }),
      /allowPrivilegeEscalation: privilege escalation is refused/,
    ],
    [
      "an added capability",
      gen({ securityContext: { capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] } } }),
      /capabilities.add: capabilities SYS_ADMIN are refused/,
    ],
    [
      "an unmasked /proc",
      gen({ securityContext: { procMount: "Unmasked" } }),
      /procMount: Unmasked is refused/,
    ],
    [
      "no seccomp profile",
      gen({ securityContext: { seccompProfile: { type: "Unconfined" } } }),
      /seccompProfile.type: Unconfined is refused/,
    ],
    [
      "no AppArmor profile",
      gen({ securityContext: { appArmorProfile: { type: "Unconfined" } } }),
      /appArmorProfile.type: Unconfined is refused/,
    ],
    [
      "an SELinux user",
      gen({ securityContext: { seLinuxOptions: { user: "system_u" } } }),
      /seLinuxOptions: only the container types/,
    ],
    [
      "a Windows host process",
      gen({ securityContext: { windowsOptions: { hostProcess: true } } }),
      /hostProcess: host processes are refused/,
    ],
    [
      "root by user id",
      gen({ securityContext: { runAsUser: 0 } }),
      /runAsUser: 0 \(root\) is refused \(.*--generator-allow-root/,
    ],
    [
      "root by runAsNonRoot",
      gen({ securityContext: { runAsNonRoot: false } }),
      /runAsNonRoot: false is refused/,
    ],
    [
      "a foreign service account",
      gen({ serviceAccountName: "cluster-admin-sa" }),
      /serviceAccountName: running as ServiceAccount "cluster-admin-sa" is refused \(.*--generator-service-accounts/,
    ],
    [
      "a Secret in env",
      gen({ env: [{ name: "A", value: "1" }, secretEnv("db")] }),
      /spec.generator.env\[1\] \(TOKEN\): reading Secret "db" is refused \(.*--generator-secrets/,
    ],
  ])("refuses %s by default, and admits it when the admin allows it", (_what, g, reason) => {
    const refused = admitGenerator(g, defaultPodPolicy);
    expect(refused.ok).toBe(false);
    expect(refused.ok ? [] : refused.reasons).toEqual([expect.stringMatching(reason)]);
    expect(admitGenerator(g, allowAll).ok).toBe(true);
  });

  it("names every problem of a request at once", () => {
    const g = gen({
      securityContext: { privileged: true, runAsUser: 0 },
      env: [secretEnv("a"), secretEnv("b")],
    });
    const a = admitGenerator(g, defaultPodPolicy);
    expect(a.ok ? 0 : a.reasons.length).toBe(4);
  });

  it.each<[string, PodPolicy, GeneratorSpec]>([
    ["the default service account", defaultPodPolicy, gen({ serviceAccountName: "default" })],
    [
      "a listed service account",
      { ...defaultPodPolicy, serviceAccounts: ["steer"] },
      gen({ serviceAccountName: "steer" }),
    ],
    ["a listed Secret", { ...defaultPodPolicy, secrets: ["db"] }, gen({ env: [secretEnv("db")] })],
    [
      "NET_BIND_SERVICE, which Restricted allows",
      defaultPodPolicy,
      gen({ securityContext: { capabilities: { add: ["NET_BIND_SERVICE"] } } }),
    ],
    [
      "a non-root user and a writable root",
      defaultPodPolicy,
      gen({ securityContext: { runAsUser: 1000, readOnlyRootFilesystem: false } }),
    ],
    [
      "a ConfigMap in env",
      defaultPodPolicy,
      gen({ env: [{ name: "C", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }] }),
    ],
  ])("admits %s", (_what, policy, g) => {
    expect(admitGenerator(g, policy).ok).toBe(true);
  });

  it("keeps listing by name: another Secret stays refused", () => {
    const a = admitGenerator(gen({ env: [secretEnv("other")] }), { ...defaultPodPolicy, secrets: ["db"] });
    expect(a.ok).toBe(false);
  });

  it("merges the user's securityContext over the restricted defaults, never replacing them", () => {
    expect(mergeSecurityContext()).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    // Before, a user's {runAsUser: 1000} replaced the whole default: escalation and capabilities came back.
    expect(mergeSecurityContext({ runAsUser: 1000, capabilities: { drop: ["NET_RAW"] } })).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL", "NET_RAW"] },
      runAsNonRoot: true,
      runAsUser: 1000,
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(
      mergeSecurityContext({ seccompProfile: { type: "Localhost", localhostProfile: "p.json" } }),
    ).toMatchObject({
      seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
    });
    // Root, when allowed, drops the default runAsNonRoot (else the kubelet refuses the container).
    expect(mergeSecurityContext({ runAsUser: 0 })).toMatchObject({ runAsUser: 0, runAsNonRoot: false });
    expect(mergeSecurityContext({ privileged: true })).toMatchObject({
      privileged: true,
      allowPrivilegeEscalation: true,
    });
  });

  it("gives the admin's default resources and emptyDir size when the user sets none", () => {
    const a = admitGenerator(gen(), defaultPodPolicy);
    expect(a).toMatchObject({
      ok: true,
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      emptyDirSizeLimit: "1Gi",
    });
    const own = admitGenerator(gen({ resources: { requests: { memory: "4Gi" } } }), defaultPodPolicy);
    expect(own).toMatchObject({ ok: true, resources: { requests: { memory: "4Gi" } } });
    expect(admitGenerator(gen({ resources: {} }), defaultPodPolicy)).toMatchObject({
      resources: defaultPodPolicy.defaultResources,
    });
  });
});
