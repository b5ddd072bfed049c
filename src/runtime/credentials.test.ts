/**
 * Credentials: the headers and TLS options of each request, the re-read token file, and exec
 * credential plugins run as real processes (each from a kubeconfig loaded by kubeconfig.ts); and
 * parseExecCredential's checks.
 */
import { chmodSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  b64,
  inCluster,
  kubeconfig,
  load,
  serviceAccount,
  simple,
  tempDir,
  write,
} from "../../test/support/kubeconfig-files.ts";
import { Credentials, parseExecCredential } from "./credentials.ts";

describe("Credentials: headers and TLS options", () => {
  it("turns a token, a tokenFile, basic auth, an oidc id-token and impersonation into headers", async () => {
    const dir = tempDir();
    const file = join(dir, "k");
    const headers = async (user: Record<string, unknown>) => {
      write(file, simple("https://c", user));
      return (await new Credentials(load(dir, { file })).get()).headers;
    };
    expect(await headers({ token: "abc" })).toEqual({ Authorization: "Bearer abc" });
    write(join(dir, "tok"), "from-file\n");
    expect(await headers({ tokenFile: "tok" })).toEqual({ Authorization: "Bearer from-file" });
    expect(await headers({ username: "ann", password: "s3cret" })).toEqual({
      Authorization: `Basic ${b64("ann:s3cret")}`,
    });
    expect(await headers({ "auth-provider": { name: "oidc", config: { "id-token": "jwt" } } })).toEqual({
      Authorization: "Bearer jwt",
    });
    expect(
      await headers({
        token: "t",
        as: "bob",
        "as-uid": "42",
        "as-groups": ["g1", "g2"],
        "as-user-extra": { scope: ["s"] },
      }),
    ).toEqual({
      Authorization: "Bearer t",
      "Impersonate-User": "bob",
      "Impersonate-Uid": "42",
      "Impersonate-Group": ["g1", "g2"],
      "Impersonate-Extra-scope": ["s"],
    });
  });

  it("gives TLS options: the CA, the client pair, the server name, and no verification when insecure", async () => {
    const dir = tempDir();
    const file = write(
      join(dir, "k"),
      kubeconfig({
        clusters: {
          c: {
            server: "https://c",
            "certificate-authority-data": b64("CA"),
            "tls-server-name": "api.internal",
          },
          i: { server: "http://127.0.0.1:8080", "insecure-skip-tls-verify": true },
        },
        users: { u: { "client-certificate-data": b64("C"), "client-key-data": b64("K") } },
        contexts: { secure: { cluster: "c", user: "u" }, insecure: { cluster: "i", user: "u" } },
        current: "secure",
      }),
    );
    expect(await new Credentials(load(dir, { file })).get()).toEqual({
      ca: "CA",
      cert: "C",
      key: "K",
      rejectUnauthorized: undefined,
      servername: "api.internal",
      headers: {},
    });
    expect(await new Credentials(load(dir, { file, context: "insecure" })).get()).toMatchObject({
      ca: undefined,
      rejectUnauthorized: false,
    });
  });
});

describe("Credentials: the in-cluster token", () => {
  it("re-reads the rotating token every minute and keeps the last one while the file is unreadable", async () => {
    const dir = tempDir();
    const sa = serviceAccount(dir);
    let now = 1_000_000;
    const creds = new Credentials(load(dir, {}, inCluster), { now: () => now });
    const bearer = async () => (await creds.get()).headers.Authorization;
    expect(await bearer()).toBe("Bearer sa-token-1");
    write(join(sa, "token"), "sa-token-2");
    now += 59_000;
    expect(await bearer()).toBe("Bearer sa-token-1");
    now += 1_000;
    expect(await bearer()).toBe("Bearer sa-token-2");
    rmSync(join(sa, "token"));
    now += 60_000;
    expect(await bearer()).toBe("Bearer sa-token-2");
    // A 401 makes the next request re-read at once.
    write(join(sa, "token"), "sa-token-3");
    creds.invalidate();
    expect(await bearer()).toBe("Bearer sa-token-3");
  });
});

/**
 * plugin writes an exec credential plugin: a shell script that counts its runs in a file, saves the
 * KUBERNETES_EXEC_INFO it was given, and prints an ExecCredential built from its run number.
 */
function plugin(dir: string, status: string, opts: { exit?: number; apiVersion?: string } = {}): string {
  const apiVersion = opts.apiVersion ?? "client.authentication.k8s.io/v1";
  return write(
    join(dir, "bin/cred-plugin"),
    [
      "#!/bin/sh",
      'n=$(cat "$COUNT_FILE" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$COUNT_FILE"',
      'printf "%s" "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"',
      'echo "plugin says hello on stderr, args: $*" >&2',
      `[ ${opts.exit ?? 0} -eq 0 ] || exit ${opts.exit ?? 0}`,
      `printf '{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":${status}}\\n'`,
    ].join("\n"),
    0o755,
  );
}

/** execUser writes a kubeconfig whose user runs command (relative to the kubeconfig's folder). */
function execKubeconfig(dir: string, exec: Record<string, unknown>): string {
  return write(
    join(dir, "kubeconfig"),
    kubeconfig({
      clusters: {
        c: {
          server: "https://c:6443",
          "certificate-authority-data": b64("CA"),
          extensions: [{ name: "client.authentication.k8s.io/exec", extension: { audience: "hpo" } }],
        },
      },
      users: {
        u: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            args: ["--flag", "x"],
            env: [
              { name: "COUNT_FILE", value: join(dir, "count") },
              { name: "INFO_FILE", value: join(dir, "info") },
            ],
            interactiveMode: "Never",
            ...exec,
          },
        },
      },
      contexts: { main: { cluster: "c", user: "u" } },
      current: "main",
    }),
  );
}

describe("exec credential plugins (real processes)", () => {
  it("runs the plugin once, caches its token until expirationTimestamp, then runs it again", async () => {
    const dir = tempDir();
    plugin(dir, '{"token":"tok-\'"$n"\'","expirationTimestamp":"2030-01-01T00:00:00Z"}');
    const file = execKubeconfig(dir, { command: "./bin/cred-plugin", provideClusterInfo: true });
    let now = Date.parse("2029-12-31T23:00:00Z");
    const creds = new Credentials(load(dir, { file }), { now: () => now });
    const bearer = async () => (await creds.get()).headers.Authorization;
    // Concurrent requests share one run.
    expect(await Promise.all([bearer(), bearer(), bearer()])).toEqual(Array(3).fill("Bearer tok-1"));
    expect(creds.runs).toBe(1);
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8"))).toEqual({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: {
        interactive: false,
        cluster: {
          server: "https://c:6443",
          "certificate-authority-data": b64("CA"),
          config: { audience: "hpo" },
        },
      },
    });
    now = Date.parse("2029-12-31T23:59:59Z");
    expect(await bearer()).toBe("Bearer tok-1");
    expect(creds.runs).toBe(1);
    now = Date.parse("2030-01-01T00:00:00Z");
    expect(await bearer()).toBe("Bearer tok-2");
    expect(creds.runs).toBe(2);
    expect(readFileSync(join(dir, "count"), "utf8").trim()).toBe("2");
  });

  it("keeps a credential without expiry until the server refuses it, and takes a client pair", async () => {
    const dir = tempDir();
    plugin(dir, `{"clientCertificateData":"CERT-'"$n"'","clientKeyData":"KEY"}`, {
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });
    const file = execKubeconfig(dir, {
      command: join(dir, "bin/cred-plugin"),
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });
    const creds = new Credentials(load(dir, { file }));
    const first = await creds.get();
    expect(first).toMatchObject({ cert: "CERT-1", key: "KEY", ca: "CA", headers: {} });
    expect(await creds.get()).toBe(first);
    // Without provideClusterInfo the plugin is not told about the cluster.
    expect(JSON.parse(readFileSync(join(dir, "info"), "utf8")).spec).toEqual({ interactive: false });
    creds.invalidate(first);
    const second = await creds.get();
    expect(second.cert).toBe("CERT-2");
    // A late 401 of a request made with the old credential does not run the plugin again.
    creds.invalidate(first);
    expect(await creds.get()).toBe(second);
    expect(creds.runs).toBe(2);
  });

  it("says which plugin failed and why: not installed (with its installHint), exit code, bad output", async () => {
    const dir = tempDir();
    const fail = async (exec: Record<string, unknown>) => {
      const creds = new Credentials(load(dir, { file: execKubeconfig(dir, exec) }));
      return creds.get().then(
        () => "no error",
        (e: Error) => e.message,
      );
    };
    expect(await fail({ command: "hpo-no-such-plugin", installHint: "brew install hpo-login" })).toBe(
      `exec credential plugin "hpo-no-such-plugin" of user "u" (${join(dir, "kubeconfig")}): executable not found\n\nbrew install hpo-login`,
    );
    expect(await fail({ command: "hpo-no-such-plugin" })).toMatch(
      /executable not found\n\n.*client-go-credential-plugins/,
    );
    plugin(dir, "{}", { exit: 3 });
    expect(await fail({ command: "./bin/cred-plugin" })).toMatch(
      /^exec credential plugin ".*\/bin\/cred-plugin" of user "u" .* failed with exit code 3: plugin says hello on stderr, args: --flag x$/,
    );
    plugin(dir, "{}");
    expect(await fail({ command: "./bin/cred-plugin" })).toMatch(
      /: it printed neither a token nor a certificate and key$/,
    );
    plugin(dir, '{"token":"t"}', { apiVersion: "client.authentication.k8s.io/v1beta1" });
    expect(await fail({ command: "./bin/cred-plugin" })).toMatch(
      /: it is configured for client.authentication.k8s.io\/v1 but printed apiVersion "client.authentication.k8s.io\/v1beta1"$/,
    );
    chmodSync(join(dir, "bin/cred-plugin"), 0o644);
    expect(await fail({ command: "./bin/cred-plugin" })).toMatch(/cannot be run \(EACCES\)/);
  });
});

describe("parseExecCredential", () => {
  const v1 = "client.authentication.k8s.io/v1";
  const cred = (status: unknown) => JSON.stringify({ apiVersion: v1, kind: "ExecCredential", status });
  it("reads a token or a client pair and the expiry", () => {
    expect(
      parseExecCredential(cred({ token: "t", expirationTimestamp: "2030-01-01T00:00:00Z" }), v1),
    ).toEqual({
      token: "t",
      cert: undefined,
      key: undefined,
      expires: Date.parse("2030-01-01T00:00:00Z"),
    });
    expect(parseExecCredential(cred({ clientCertificateData: "C", clientKeyData: "K" }), v1)).toMatchObject({
      cert: "C",
      key: "K",
      expires: undefined,
    });
  });
  it("refuses what client-go refuses", () => {
    expect(() => parseExecCredential("login first", v1)).toThrow(/^its output is not JSON/);
    expect(() => parseExecCredential(JSON.stringify({ apiVersion: v1, kind: "Status" }), v1)).toThrow(
      'it printed kind "Status", not ExecCredential',
    );
    expect(() => parseExecCredential(JSON.stringify({ apiVersion: v1, kind: "ExecCredential" }), v1)).toThrow(
      "it printed no status",
    );
    expect(() => parseExecCredential(cred({ clientKeyData: "K" }), v1)).toThrow(
      "a certificate without its key",
    );
    expect(() => parseExecCredential(cred({ token: "t", expirationTimestamp: "soon" }), v1)).toThrow(
      'its expirationTimestamp "soon" is not a time',
    );
  });
});
