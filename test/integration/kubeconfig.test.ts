/**
 * The kubeconfig loader and its credentials against the real API server: an exec credential
 * plugin (a real script) giving a client certificate or a token, re-run after the server refuses
 * its token; a tokenFile and a certificate-authority file relative to the kubeconfig; and
 * impersonation. The API server's SelfSubjectReview says who each request was.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { KubeClient, loadKubeConfig } from "../../src/runtime/client.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import type { ClientConfig } from "../../src/runtime/kubeconfig.ts";
import { deleteNamespace, kubectlOk, newNamespace } from "../support/kubectl.ts";

let admin: ClientConfig;
let dir = "";
let ns = "";
let saToken = "";

beforeAll(() => {
  admin = loadKubeConfig(inject("kubeconfig"));
  dir = mkdtempSync(join(tmpdir(), "hpo-kubeconfig-it-"));
  ns = newNamespace("kubeconfig");
  kubectlOk(["create", "serviceaccount", "reader", "-n", ns]);
  saToken = kubectlOk(["create", "token", "reader", "-n", ns, "--duration=1h"]).trim();
  if (admin.ca) writeFileSync(join(dir, "ca.crt"), admin.ca);
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
});

afterAll(() => {
  if (ns) deleteNamespace(ns);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** kubeconfigWith writes a kubeconfig for the test server with this user, in the plugin's folder. */
function kubeconfigWith(user: Record<string, unknown>): string {
  const file = join(dir, "kubeconfig");
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "test",
          cluster: admin.ca
            ? { server: admin.server, "certificate-authority": "ca.crt" }
            : { server: admin.server, "insecure-skip-tls-verify": admin.insecureSkipTlsVerify },
        },
      ],
      users: [{ name: "someone", user }],
      contexts: [{ name: "test", context: { cluster: "test", user: "someone", namespace: ns } }],
      "current-context": "test",
    }),
  );
  return file;
}

/** credential writes what the plugin prints (on run n, or by default) and resets its run count. */
function credential(status: Record<string, unknown>, run?: number): void {
  const text = JSON.stringify({
    apiVersion: "client.authentication.k8s.io/v1",
    kind: "ExecCredential",
    status,
  });
  writeFileSync(join(dir, run ? `cred-${run}.json` : "cred.json"), text);
}

const runs = () => Number(readFileSync(join(dir, "runs"), "utf8"));

/** whoami asks the API server who the client is. */
async function whoami(client: KubeClient): Promise<{ username: string; groups?: string[] }> {
  const review = await client.create<{ status: { userInfo: { username: string; groups?: string[] } } }>(
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  );
  return review.status.userInfo;
}

const exec = {
  command: "./login.sh",
  apiVersion: "client.authentication.k8s.io/v1",
  interactiveMode: "Never",
};

describe("kubeconfig credentials against the API server", () => {
  it.skipIf(!loadKubeConfig(inject("kubeconfig")).cert)(
    "an exec plugin's client certificate, run once for many calls",
    async () => {
      rmSync(join(dir, "runs"), { force: true });
      credential({ clientCertificateData: admin.cert, clientKeyData: admin.key });
      const client = new KubeClient(loadKubeConfig(kubeconfigWith({ exec })));
      try {
        expect(client.namespace).toBe(ns);
        const me = await whoami(client);
        await client.get(`/api/v1/namespaces/${ns}`);
        expect(await whoami(client)).toEqual(me);
        expect(runs()).toBe(1);
      } finally {
        client.close();
      }
    },
  );

  it("an exec plugin's token, run again after the server refuses it", async () => {
    rmSync(join(dir, "runs"), { force: true });
    credential({ token: "not-a-token" }, 1);
    credential({ token: saToken });
    const client = new KubeClient(loadKubeConfig(kubeconfigWith({ exec })));
    try {
      const refused = await whoami(client).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).statusCode).toBe(401);
      expect((await whoami(client)).username).toBe(`system:serviceaccount:${ns}:reader`);
      expect(runs()).toBe(2);
    } finally {
      client.close();
    }
  });

  it("a tokenFile relative to the kubeconfig", async () => {
    writeFileSync(join(dir, "token"), `${saToken}\n`);
    const client = new KubeClient(loadKubeConfig(kubeconfigWith({ tokenFile: "token" })));
    try {
      expect((await whoami(client)).username).toBe(`system:serviceaccount:${ns}:reader`);
    } finally {
      client.close();
    }
  });

  it.skipIf(!loadKubeConfig(inject("kubeconfig")).cert)("impersonation (as, as-groups)", async () => {
    const client = new KubeClient(
      loadKubeConfig(
        kubeconfigWith({
          "client-certificate-data": Buffer.from(admin.cert ?? "").toString("base64"),
          "client-key-data": Buffer.from(admin.key ?? "").toString("base64"),
          as: "jane",
          "as-groups": ["hpo-users"],
        }),
      ),
    );
    try {
      const me = await whoami(client);
      expect(me.username).toBe("jane");
      expect(me.groups).toContain("hpo-users");
    } finally {
      client.close();
    }
  });
});
