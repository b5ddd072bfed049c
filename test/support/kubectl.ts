/**
 * The real kubectl, as a user runs it, for integration tests: against the control plane of the
 * global setup (test/support/global-setup.ts).
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { repoRoot } from "./controlplane.ts";

/** KubectlResult is what one kubectl run printed and how it ended. */
export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl runs kubectl with the test kubeconfig; it never throws on a non-zero exit. */
export function kubectl(args: string[], input?: string): KubectlResult {
  const r = spawnSync(inject("kubectl"), ["--kubeconfig", inject("kubeconfig"), ...args], {
    input,
    encoding: "utf8",
    cwd: repoRoot,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** kubectlOk runs kubectl and returns its stdout, throwing with stderr when it fails. */
export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** newNamespace creates a namespace with a unique name for one test file and returns its name. */
export function newNamespace(prefix: string): string {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  kubectlOk(["create", "namespace", name]);
  return name;
}

/** deleteNamespace removes a namespace without waiting for its finalizers. */
export function deleteNamespace(name: string): void {
  kubectl(["delete", "namespace", name, "--wait=false"]);
}
