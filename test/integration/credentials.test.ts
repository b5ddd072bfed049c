/**
 * Every kind of credential, TLS and proxies, from client-node's KubeConfig through our transport,
 * against the real API server: a token, a client certificate, an exec plugin (a real script)
 * giving a client certificate or a token and run again after the server refuses its token, a
 * tokenFile relative to the kubeconfig that is re-read when it rotates, an in-cluster service
 * account (its files under a temporary root), impersonation, proxy-url and HTTPS_PROXY through a
 * local CONNECT proxy, and a server whose certificate is not trusted. The API server's
 * SelfSubjectReview says who each request was.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { stringify } from "yaml";
import { KubeClient, type KubeClientOptions, loadKubeConfig } from "../../src/runtime/client.ts";
import { loadKubeConfig as loadWith, SERVICE_ACCOUNT_DIR } from "../../src/runtime/clientconfig.ts";
import { ApiError, UntrustedServerError } from "../../src/runtime/errors.ts";
import { type ConnectProxy, startConnectProxy } from "../support/connect-proxy.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";

let admin: KubeConfig;
let server = "";
let caData = "";
let certData = "";
let keyData = "";
let dir = "";
let ns = "";
let readerToken = "";
let writerToken = "";
let proxy: ConnectProxy;

beforeAll(async () => {
  admin = loadKubeConfig(inject("kubeconfig"));
  server = admin.getCurrentCluster()?.server ?? "";
  caData = admin.getCurrentCluster()?.caData ?? "";
  certData = admin.getCurrentUser()?.certData ?? "";
  keyData = admin.getCurrentUser()?.keyData ?? "";
  dir = mkdtempSync(join(tmpdir(), "hpo-credentials-it-"));
  ns = newNamespace("credentials");
  for (const sa of ["reader", "writer"]) kubectlOk(["create", "serviceaccount", sa, "-n", ns]);
  readerToken = kubectlOk(["create", "token", "reader", "-n", ns, "--duration=1h"]).trim();
  writerToken = kubectlOk(["create", "token", "writer", "-n", ns, "--duration=1h"]).trim();
  writeFileSync(join(dir, "ca.crt"), Buffer.from(caData, "base64"));
  // The plugin counts its runs and prints cred-<run>.json when there is one, else cred.json.
  writeFileSync(
    join(dir, "login.sh"),
    [
      "#!/bin/sh",
      'd=$(dirname "$0"); n=$(($(cat "$d/runs" 2>/dev/null || echo 0) + 1)); echo "$n" > "$d/runs"',
      'if [ -f "$d/cred-$n.json" ]; then cat "$d/cred-$n.json"; else cat "$d/cred.json"; fi',
    ].join("\n"),
    { mode: 0o755 },
  );
  proxy = await startConnectProxy();
});

afterAll(async () => {
  await proxy?.close();
  if (ns) deleteNamespace(ns);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

/** kubeconfigWith writes a kubeconfig for the test server with this user (and cluster fields). */
function kubeconfigWith(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "test", cluster: { server, "certificate-authority": "ca.crt", ...cluster } }],
      users: [{ name: "someone", user }],
      contexts: [{ name: "test", context: { cluster: "test", user: "someone", namespace: ns } }],
      "current-context": "test",
    }),
  );
  return file;
}

/** credential writes what the plugin prints (on run n, or by default). */
function credential(status: Record<string, unknown>, run?: number): void {
  const text = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status,
  });
  writeFileSync(join(dir, run ? `cred-${run}.json` : "cred.json"), text);
}

const runs = () => Number(readFileSync(join(dir, "runs"), "utf8"));
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const pem = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

/** whoami asks the API server who the client is. */
async function whoami(client: KubeClient): Promise<{ username: string; groups?: string[] }> {
  const review = await client.create<{ status: { userInfo: { username: string; groups?: string[] } } }>(
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  );
  return review.status.userInfo;
}

/** as runs fn with a client of kubeconfig and closes it. */
async function withClient<T>(kc: KubeConfig, fn: (c: KubeClient) => Promise<T>, opts?: KubeClientOptions) {
  const client = new KubeClient(kc, opts);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

const exec = {
  command: "./login.sh",
  apiVersion: "client.authentication.k8s.io/v1",
  interactiveMode: "Never",
};
const reader = () => `system:serviceaccount:${ns}:reader`;

describe("credentials against the API server", () => {
  it("a bearer token", async () => {
    const me = await withClient(loadKubeConfig(kubeconfigWith({ token: readerToken })), whoami);
    expect(me.username).toBe(reader());
  });

  it("a client certificate, from files relative to the kubeconfig", async () => {
    writeFileSync(join(dir, "admin.crt"), pem(certData));
    writeFileSync(join(dir, "admin.key"), pem(keyData));
    const kc = loadKubeConfig(
      kubeconfigWith({ "client-certificate": "admin.crt", "client-key": "admin.key" }),
    );
    expect((await withClient(kc, whoami)).username).toBe("admin");
  });

  it("an exec plugin's client certificate, run once for many calls until it expires", async () => {
    rmSync(join(dir, "runs"), { force: true });
    credential({
      clientCertificateData: pem(certData),
      clientKeyData: pem(keyData),
      expirationTimestamp: inAnHour(),
    });
    await withClient(loadKubeConfig(kubeconfigWith({ exec })), async (client) => {
      expect(client.namespace).toBe(ns);
      const me = await whoami(client);
      expect(me.username).toBe("admin");
      await client.get(`/api/v1/namespaces/${ns}`);
      expect(await whoami(client)).toEqual(me);
      expect(runs()).toBe(1);
    });
  });

  it("an exec plugin's token, run again after the server refuses it", async () => {
    rmSync(join(dir, "runs"), { force: true });
    credential({ token: "not-a-token", expirationTimestamp: inAnHour() }, 1);
    credential({ token: readerToken, expirationTimestamp: inAnHour() });
    await withClient(loadKubeConfig(kubeconfigWith({ exec })), async (client) => {
      const refused = await whoami(client).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).statusCode).toBe(401);
      expect((await whoami(client)).username).toBe(reader());
      expect(runs()).toBe(2);
    });
  });

  it("a tokenFile relative to the kubeconfig, re-read when it rotates", async () => {
    writeFileSync(join(dir, "token"), `${readerToken}\n`);
    await withClient(loadKubeConfig(kubeconfigWith({ tokenFile: "token" })), async (client) => {
      expect((await whoami(client)).username).toBe(reader());
      writeFileSync(join(dir, "token"), `${writerToken}\n`);
      // client-node re-reads the file once a minute (as client-go does): move the clock past it.
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 61_000 });
      expect((await whoami(client)).username).toBe(`system:serviceaccount:${ns}:writer`);
    });
  });

  it("an in-cluster service account (its files under a root folder, the service's address in the environment)", async () => {
    const root = join(dir, "pod");
    const sa = join(root, SERVICE_ACCOUNT_DIR);
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), readerToken);
    writeFileSync(join(sa, "ca.crt"), Buffer.from(caData, "base64"));
    writeFileSync(join(sa, "namespace"), ns);
    const url = new URL(server);
    const env = {
      HOME: join(dir, "no-home"),
      KUBERNETES_SERVICE_HOST: url.hostname,
      KUBERNETES_SERVICE_PORT: url.port,
    };
    // client-node's loadFromCluster reads the service's address from process.env itself.
    vi.stubEnv("KUBERNETES_SERVICE_HOST", env.KUBERNETES_SERVICE_HOST);
    vi.stubEnv("KUBERNETES_SERVICE_PORT", env.KUBERNETES_SERVICE_PORT);
    const kc = loadWith({ env, inClusterRoot: root });
    await withClient(kc, async (client) => {
      expect(client.namespace).toBe(ns);
      expect((await whoami(client)).username).toBe(reader());
    });
  });

  it("impersonation (as)", async () => {
    const kc = loadKubeConfig(
      kubeconfigWith({ "client-certificate-data": certData, "client-key-data": keyData, as: "jane" }),
    );
    expect((await withClient(kc, whoami)).username).toBe("jane");
  });
});

describe("proxies", () => {
  // The server's certificate names "kubernetes"; no DNS resolves it, only the proxy reaches it.
  const byName = () => server.replace("127.0.0.1", "kubernetes");

  it("proxy-url: every request goes through the proxy", async () => {
    proxy.targets.length = 0;
    const kc = loadKubeConfig(
      kubeconfigWith({ token: readerToken }, { server: byName(), "proxy-url": proxy.url }),
    );
    expect((await withClient(kc, whoami)).username).toBe(reader());
    expect(proxy.targets).toContain(`kubernetes:${new URL(server).port}`);
  });

  it("HTTPS_PROXY from the environment, and NO_PROXY", async () => {
    proxy.targets.length = 0;
    const kc = loadKubeConfig(kubeconfigWith({ token: readerToken }, { server: byName() }));
    const env = { HTTPS_PROXY: proxy.url };
    expect((await withClient(kc, whoami, { env })).username).toBe(reader());
    expect(proxy.targets).toContain(`kubernetes:${new URL(server).port}`);
    proxy.targets.length = 0;
    const direct = await withClient(kc, whoami, { env: { ...env, NO_PROXY: "kubernetes" } }).catch(
      (e: unknown) => e,
    );
    expect((direct as Error).message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(proxy.targets).toEqual([]);
  });
});

describe("TLS", () => {
  it("refuses a server whose certificate is not trusted, even with NODE_TLS_REJECT_UNAUTHORIZED=0, and says what to fix", async () => {
    vi.stubEnv("NODE_TLS_REJECT_UNAUTHORIZED", "0");
    const file = join(dir, "untrusted");
    writeFileSync(
      file,
      stringify({
        clusters: [{ name: "test", cluster: { server } }],
        users: [{ name: "someone", user: { token: readerToken } }],
        contexts: [{ name: "test", context: { cluster: "test", user: "someone" } }],
        "current-context": "test",
      }),
    );
    const refused = await withClient(loadKubeConfig(file), whoami).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UntrustedServerError);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `^the API server ${server} is not trusted: .* \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\\); ` +
          'set certificate-authority-data \\(or certificate-authority\\) of cluster "test" in the kubeconfig',
      ),
    );
    // insecure-skip-tls-verify is the one way to turn the check off.
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        `server: ${server}`,
        `server: ${server}\n      insecure-skip-tls-verify: true`,
      ),
    );
    expect((await withClient(loadKubeConfig(file), whoami)).username).toBe(reader());
  });
});
