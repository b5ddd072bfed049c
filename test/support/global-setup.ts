/**
 * Vitest global setup of the integration project: one real control plane per test run, or the
 * cluster of KUBECONFIG when USE_EXISTING_CLUSTER=1. Provides the kubeconfig path and the kubectl
 * binary to the tests (see test/support/env.ts).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  buildControlPlane,
  type ControlPlane,
  installCrds,
  repoRoot,
  startControlPlane,
} from "./controlplane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    serverVersion: string;
  }
}

function existingCluster(): { kubeconfig: string } | undefined {
  if (process.env.USE_EXISTING_CLUSTER !== "1") return undefined;
  const kubeconfig = process.env.KUBECONFIG ?? join(homedir(), ".kube", "config");
  if (!existsSync(kubeconfig)) {
    throw new Error(`USE_EXISTING_CLUSTER=1 but the kubeconfig ${kubeconfig} does not exist; set KUBECONFIG`);
  }
  return { kubeconfig };
}

/** setup starts the control plane, installs the CRDs and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binDir = buildControlPlane();
  const kubectl = join(binDir, "kubectl");
  let cp: ControlPlane | undefined;
  let kubeconfig: string;
  const existing = existingCluster();
  if (existing) {
    kubeconfig = existing.kubeconfig;
  } else {
    cp = await startControlPlane({ keepDir: process.env.HPO_KEEP_CONTROLPLANE === "1" });
    kubeconfig = cp.kubeconfig;
  }
  try {
    return await prepare(project, kubectl, kubeconfig, existing !== undefined, cp);
  } catch (e) {
    await cp?.stop();
    throw e;
  }
}

async function prepare(
  project: TestProject,
  kubectl: string,
  kubeconfig: string,
  existing: boolean,
  cp: ControlPlane | undefined,
): Promise<() => Promise<void>> {
  const run = (...args: string[]) =>
    execFileSync(kubectl, ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8", cwd: repoRoot });
  const version = JSON.parse(run("version", "-o", "json")) as {
    serverVersion: { gitVersion: string };
    clientVersion: { gitVersion: string };
  };
  process.stderr.write(
    `integration tests run against kube-apiserver ${version.serverVersion.gitVersion} ` +
      `(${existing ? `existing cluster of ${kubeconfig}` : cp?.server}), kubectl ${version.clientVersion.gitVersion}\n`,
  );
  installCrds(kubectl, kubeconfig);

  project.provide("kubeconfig", kubeconfig);
  project.provide("kubectl", kubectl);
  project.provide("serverVersion", version.serverVersion.gitVersion);
  return async () => {
    await cp?.stop();
  };
}
