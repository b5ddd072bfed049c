/**
 * Kubeconfig files for the unit tests of src/runtime/clientconfig.ts and transport.ts: temporary
 * folders (removed after each test), kubeconfig YAML, a pod's service account, and loading with an
 * environment of the test's own.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterEach } from "vitest";
import { stringify } from "yaml";
import { type LoadOptions, loadKubeConfig, SERVICE_ACCOUNT_DIR } from "../../src/runtime/clientconfig.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** tempDir makes a temporary folder, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hpo-kubeconfig-"));
  dirs.push(d);
  return d;
}

/** write writes a file (making its folder) and returns its path. */
export function write(path: string, text: string, mode?: number): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text, { mode });
  return path;
}

export const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Entries {
  clusters?: Record<string, Record<string, unknown>>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, Record<string, unknown>>;
  current?: string;
}

/** kubeconfig is the YAML of a kubeconfig with these entries. */
export function kubeconfig(e: Entries): string {
  const list = (m: Record<string, Record<string, unknown>> | undefined, key: string) =>
    Object.entries(m ?? {}).map(([name, v]) => ({ name, [key]: v }));
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: list(e.clusters, "cluster"),
    users: list(e.users, "user"),
    contexts: list(e.contexts, "context"),
    ...(e.current ? { "current-context": e.current } : {}),
  });
}

/** simple is a one-context kubeconfig: cluster c (a server, or its fields), user u with the given fields. */
export function simple(
  cluster: string | Record<string, unknown>,
  user: Record<string, unknown> = { token: "t" },
  namespace?: string,
): string {
  return kubeconfig({
    clusters: { c: typeof cluster === "string" ? { server: cluster } : cluster },
    users: { u: user },
    contexts: { main: { cluster: "c", user: "u", ...(namespace ? { namespace } : {}) } },
    current: "main",
  });
}

/** load loads with an environment of its own: no KUBECONFIG, HOME and the pod's files in dir. */
export function load(dir: string, opts: LoadOptions = {}, env: NodeJS.ProcessEnv = {}): KubeConfig {
  return loadKubeConfig({
    env: { HOME: join(dir, "home"), ...env },
    inClusterRoot: join(dir, "root"),
    ...opts,
  });
}

/** serviceAccount writes a pod's service account files under dir/root (see load). */
export function serviceAccount(dir: string, token = "sa-token-1"): string {
  const sa = join(dir, "root", SERVICE_ACCOUNT_DIR);
  write(join(sa, "token"), `${token}\n`);
  write(join(sa, "ca.crt"), "CA PEM");
  write(join(sa, "namespace"), "team-a");
  return sa;
}

export const inCluster = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
