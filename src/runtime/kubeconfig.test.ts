import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  type ClientConfig,
  ContextNotFoundError,
  Credentials,
  inClusterPossible,
  type LoadOptions,
  loadClientConfig,
  parseExecCredential,
  parseKubeconfig,
} from "./kubeconfig.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hpo-kubeconfig-"));
  dirs.push(d);
  return d;
}

/** write writes a file (making its folder) and returns its path. */
function write(path: string, text: string, mode?: number): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text, { mode });
  return path;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Entries {
  clusters?: Record<string, Record<string, unknown>>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, Record<string, unknown>>;
  current?: string;
}

/** kubeconfig is the YAML of a kubeconfig with these entries. */
function kubeconfig(e: Entries): string {
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
function simple(
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

/** load loads with an environment of its own: no KUBECONFIG, HOME and service account in dir. */
function load(dir: string, opts: LoadOptions = {}, env: NodeJS.ProcessEnv = {}): ClientConfig {
  return loadClientConfig({
    env: { HOME: join(dir, "home"), ...env },
    serviceAccountDir: join(dir, "sa"),
    ...opts,
  });
}

/** serviceAccount writes a pod's service account files into dir/sa. */
function serviceAccount(dir: string, token = "sa-token-1"): string {
  const sa = join(dir, "sa");
  write(join(sa, "token"), `${token}\n`);
  write(join(sa, "ca.crt"), "CA PEM");
  write(join(sa, "namespace"), "team-a");
  return sa;
}

const inCluster = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };

describe("parseKubeconfig", () => {
  it("decodes *-data fields and resolves relative paths against the file's folder", () => {
    const kc = parseKubeconfig(
      kubeconfig({
        clusters: {
          a: { server: "https://a:6443", "certificate-authority": "pki/ca.crt", "tls-server-name": "api" },
          b: {
            server: "https://b",
            "certificate-authority-data": b64("CA B"),
            "insecure-skip-tls-verify": false,
          },
        },
        users: {
          files: { "client-certificate": "u.crt", "client-key": "/abs/u.key", tokenFile: "../tok" },
          data: { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
          plugin: { exec: { command: "./bin/login", apiVersion: "client.authentication.k8s.io/v1" } },
          onPath: { exec: { command: "kubelogin", args: ["get-token"], apiVersion: "x" } },
        },
        contexts: { one: { cluster: "a", user: "files", namespace: "ns" } },
        current: "one",
      }),
      "/etc/kube/config",
    );
    expect(kc.files).toEqual(["/etc/kube/config"]);
    expect(kc.currentContext).toBe("one");
    expect(kc.clusters.get("a")).toMatchObject({
      server: "https://a:6443",
      certificateAuthority: "/etc/kube/pki/ca.crt",
      tlsServerName: "api",
      insecureSkipTlsVerify: false,
    });
    expect(kc.clusters.get("b")?.certificateAuthorityData).toBe("CA B");
    expect(kc.users.get("files")).toMatchObject({
      clientCertificate: "/etc/kube/u.crt",
      clientKey: "/abs/u.key",
      tokenFile: "/etc/tok",
    });
    expect(kc.users.get("data")).toMatchObject({ clientCertificateData: "CERT", clientKeyData: "KEY" });
    // A command with a '/' is a path (relative to the kubeconfig); a bare name is looked up on PATH.
    expect(kc.users.get("plugin")?.exec?.command).toBe("/etc/kube/bin/login");
    expect(kc.users.get("onPath")?.exec).toMatchObject({ command: "kubelogin", args: ["get-token"] });
    expect(kc.contexts.get("one")).toEqual({ cluster: "a", user: "files", namespace: "ns" });
  });

  it("reads JSON, and an empty file as an empty kubeconfig", () => {
    const kc = parseKubeconfig(
      JSON.stringify({ clusters: [{ name: "c", cluster: { server: "http://x" } }] }),
      "k",
    );
    expect(kc.clusters.get("c")?.server).toBe("http://x");
    expect(parseKubeconfig("", "/k").contexts.size).toBe(0);
  });

  it("says what is wrong and where", () => {
    expect(() => parseKubeconfig("clusters: [", "/k")).toThrow(/^kubeconfig \/k is not valid YAML/);
    expect(() => parseKubeconfig("clusters: {a: 1}", "/k")).toThrow("kubeconfig /k.clusters: want a list");
    expect(() => parseKubeconfig(simple("https://x", { token: 42 }), "/k")).toThrow(
      'kubeconfig /k.users["u"].user.token: want a string, got number',
    );
    expect(() =>
      parseKubeconfig(kubeconfig({ clusters: { a: { server: "x" } } }).replace("name: a", "name: ''"), "/k"),
    ).toThrow("kubeconfig /k.clusters[0]: has no name");
    const twice = `${kubeconfig({ users: { u: { token: "1" } } })}`.replace(
      "users:\n",
      "users:\n  - name: u\n    user: {token: '2'}\n",
    );
    expect(() => parseKubeconfig(twice, "/k")).toThrow('kubeconfig /k: two users are named "u"');
  });
});

describe("loadClientConfig: where the configuration comes from", () => {
  it("merges a KUBECONFIG list by client-go's rule: the first to set a name or current-context wins", () => {
    const dir = tempDir();
    const first = write(
      join(dir, "first"),
      kubeconfig({
        clusters: { shared: { server: "https://first" } },
        users: { u: { token: "first-token" } },
        contexts: { a: { cluster: "shared", user: "u", namespace: "from-first" } },
        current: "a",
      }),
    );
    const second = write(
      join(dir, "second"),
      kubeconfig({
        clusters: { shared: { server: "https://second" }, other: { server: "https://other" } },
        users: { u: { token: "second-token" }, v: { username: "v", password: "p" } },
        contexts: { a: { cluster: "other", user: "v" }, b: { cluster: "other", user: "v", namespace: "nb" } },
        current: "b",
      }),
    );
    const env = { KUBECONFIG: [join(dir, "missing"), first, "", second, first].join(":") };
    const a = load(dir, {}, env);
    expect(a).toMatchObject({
      context: "a",
      server: "https://first",
      token: "first-token",
      namespace: "from-first",
      source: `${first}:${second}`,
    });
    // Entries only the second file has are there; its current-context is not used.
    const b = load(dir, { context: "b" }, env);
    expect(b).toMatchObject({ context: "b", server: "https://other", username: "v", namespace: "nb" });
    // Without a current-context in the first file, the second's applies.
    write(first, kubeconfig({ clusters: { shared: { server: "https://first" } } }));
    expect(load(dir, {}, env).context).toBe("b");
  });

  it("takes an explicit file over KUBECONFIG, KUBECONFIG over ~/.kube/config, that over in-cluster", () => {
    const dir = tempDir();
    serviceAccount(dir);
    const home = write(join(dir, "home/.kube/config"), simple("https://home"));
    const env = write(join(dir, "env"), simple("https://env"));
    const flag = write(join(dir, "flag"), simple("https://flag"));
    expect(load(dir, { file: flag }, { ...inCluster, KUBECONFIG: env }).server).toBe("https://flag");
    expect(load(dir, {}, { ...inCluster, KUBECONFIG: env }).server).toBe("https://env");
    expect(load(dir, {}, inCluster).server).toBe("https://home");
    // KUBECONFIG replaces ~/.kube/config: when its files are all missing, in-cluster comes next.
    expect(load(dir, {}, { ...inCluster, KUBECONFIG: join(dir, "none") }).source).toMatch(/^in-cluster/);
    // So does an empty ~/.kube/config.
    write(home, "");
    expect(load(dir, {}, inCluster).server).toBe("https://10.0.0.1:443");
  });

  it("says when there is no configuration, or the explicit file is missing", () => {
    const dir = tempDir();
    expect(() => load(dir)).toThrow(
      new RegExp(
        `^no Kubernetes configuration found: ${join(dir, "home/.kube/config")} does not exist or holds ` +
          "nothing and KUBECONFIG is not set, and this is not a pod with a service account .*pass --kubeconfig",
      ),
    );
    expect(() => load(dir, {}, { KUBECONFIG: "/nonexistent/a:/nonexistent/b" })).toThrow(
      "KUBECONFIG names no file that exists or holds anything (/nonexistent/a:/nonexistent/b)",
    );
    // The token file alone is not enough: the service's address must be in the environment too.
    serviceAccount(dir);
    expect(() => load(dir)).toThrow(/^no Kubernetes configuration found/);
    expect(() => load(dir, { file: join(dir, "nope") }, inCluster)).toThrow(
      `cannot read the kubeconfig ${join(dir, "nope")}: ENOENT`,
    );
  });

  it("chooses the current-context or the one asked for, and says what to fix when it cannot", () => {
    const dir = tempDir();
    const file = write(
      join(dir, "k"),
      kubeconfig({
        clusters: { c: { server: "https://c" }, noserver: {} },
        users: { u: { token: "t" } },
        contexts: {
          main: { cluster: "c", user: "u", namespace: "ns1" },
          other: { cluster: "c", user: "u" },
          anonymous: { cluster: "c" },
          lostCluster: { cluster: "gone", user: "u" },
          lostUser: { cluster: "c", user: "gone" },
          noCluster: { user: "u" },
          empty: { cluster: "noserver", user: "u" },
        },
        current: "main",
      }),
    );
    expect(load(dir, { file })).toMatchObject({ context: "main", namespace: "ns1", user: "u" });
    expect(load(dir, { file, context: "other" })).toMatchObject({ context: "other", namespace: undefined });
    expect(load(dir, { file, context: "anonymous" }).token).toBeUndefined();
    const missing = (() => {
      try {
        return load(dir, { file, context: "nowhere" });
      } catch (e) {
        return e;
      }
    })();
    expect(missing).toBeInstanceOf(ContextNotFoundError);
    expect((missing as Error).message).toBe(
      `context "nowhere" is not in the kubeconfig ${file} (kubectl config get-contexts lists them)`,
    );
    expect(() => load(dir, { file, context: "lostCluster" })).toThrow(
      `cluster "gone" of context "lostCluster" is not in the kubeconfig ${file} (kubectl config get-clusters lists them)`,
    );
    expect(() => load(dir, { file, context: "lostUser" })).toThrow(
      `user "gone" of context "lostUser" is not in the kubeconfig ${file} (kubectl config get-users lists them)`,
    );
    expect(() => load(dir, { file, context: "noCluster" })).toThrow(
      `context "noCluster" of ${file} names no cluster`,
    );
    expect(() => load(dir, { file, context: "empty" })).toThrow(
      `cluster "noserver" of ${file} has no server`,
    );
    write(file, kubeconfig({ contexts: { a: { cluster: "c" } }, current: "b" }));
    expect(() => load(dir, { file })).toThrow(
      `the current-context "b" of ${file} is not one of its contexts: choose one with \`kubectl config use-context NAME\``,
    );
    write(file, kubeconfig({ contexts: { a: { cluster: "c" } } }));
    expect(() => load(dir, { file })).toThrow(`the kubeconfig ${file} has no current-context`);
  });
});

describe("loadClientConfig: cluster and user", () => {
  it("reads certificate files relative to the kubeconfig, or the *-data fields", () => {
    const dir = tempDir();
    write(join(dir, "kube/pki/ca.crt"), "CA FILE");
    write(join(dir, "kube/pki/u.crt"), "CERT FILE");
    write(join(dir, "kube/pki/u.key"), "KEY FILE");
    const files = write(
      join(dir, "kube/config"),
      simple(
        { server: "https://c", "certificate-authority": "pki/ca.crt", "tls-server-name": "k8s" },
        { "client-certificate": "pki/u.crt", "client-key": "pki/u.key" },
      ),
    );
    expect(load(dir, { file: files })).toMatchObject({
      ca: "CA FILE",
      cert: "CERT FILE",
      key: "KEY FILE",
      tlsServerName: "k8s",
      insecureSkipTlsVerify: false,
    });
    const data = write(
      join(dir, "data"),
      simple(
        { server: "c.example:6443", "certificate-authority-data": b64("CA DATA") },
        { "client-certificate-data": b64("CERT DATA"), "client-key-data": b64("KEY DATA") },
      ),
    );
    // A server without a scheme is https, as in client-go.
    expect(load(dir, { file: data })).toMatchObject({
      server: "https://c.example:6443",
      ca: "CA DATA",
      cert: "CERT DATA",
      key: "KEY DATA",
    });
  });

  it("names the file it cannot read, and refuses what client-go refuses", () => {
    const dir = tempDir();
    const file = join(dir, "k");
    write(file, simple("https://c", { "client-certificate": "nope.crt", "client-key-data": b64("K") }));
    expect(() => load(dir, { file })).toThrow(
      `cannot read the client-certificate of user "u" of ${file}: ${join(dir, "nope.crt")}: ENOENT`,
    );
    const refused: [Record<string, unknown>, string][] = [
      [{ token: "t", username: "a", password: "b" }, "a token and a username/password are both set"],
      [{ "client-certificate-data": b64("C") }, "a client certificate needs its key"],
      [
        { "client-key": "k", "client-key-data": b64("K"), "client-certificate-data": b64("C") },
        "client-key and client-key-data are both set",
      ],
      [{ "as-groups": ["g"] }, 'as-uid, as-groups or as-user-extra need "as"'],
      [{ exec: { command: "x", apiVersion: "client.authentication.k8s.io/v1alpha1" } }, "is not supported"],
      [{ exec: { apiVersion: "client.authentication.k8s.io/v1" } }, "exec has no command"],
      [
        { exec: { command: "x", apiVersion: "client.authentication.k8s.io/v1", interactiveMode: "Always" } },
        "wants a terminal (interactiveMode: Always)",
      ],
      [
        { "auth-provider": { name: "gcp" } },
        'the auth-provider "gcp" is not supported (kubectl dropped its built-in providers): use an exec credential plugin',
      ],
      [
        { "auth-provider": { name: "oidc", config: { "refresh-token": "r" } } },
        "the oidc auth-provider has no id-token",
      ],
    ];
    for (const [user, msg] of refused) {
      write(file, simple("https://c", user));
      expect(() => load(dir, { file }), JSON.stringify(user)).toThrow(msg);
    }
    write(
      file,
      simple({
        server: "https://c",
        "certificate-authority-data": b64("CA"),
        "insecure-skip-tls-verify": true,
      }),
    );
    expect(() => load(dir, { file })).toThrow(
      "a certificate authority and insecure-skip-tls-verify are both set",
    );
    write(file, simple("ftp://c"));
    expect(() => load(dir, { file })).toThrow('server "ftp://c" is neither https nor http');
  });

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
    write(file, simple("https://c", { tokenFile: "empty" }));
    write(join(dir, "empty"), "\n");
    expect(() => load(dir, { file })).toThrow(
      `user "u" of ${file}: the tokenFile ${join(dir, "empty")} is empty`,
    );
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

describe("in-cluster", () => {
  it("reads the service account and the service's address; POD_NAMESPACE wins over the namespace file", () => {
    const dir = tempDir();
    const sa = serviceAccount(dir);
    expect(inClusterPossible(inCluster, sa)).toBe(true);
    expect(inClusterPossible({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, sa)).toBe(false);
    expect(load(dir, {}, inCluster)).toEqual({
      source: `in-cluster (service account ${sa})`,
      namespace: "team-a",
      server: "https://10.0.0.1:443",
      ca: "CA PEM",
      insecureSkipTlsVerify: false,
      token: "sa-token-1",
      tokenFile: join(sa, "token"),
    });
    const v6 = load(
      dir,
      {},
      { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443", POD_NAMESPACE: "ops" },
    );
    expect(v6).toMatchObject({ server: "https://[fd00::1]:6443", namespace: "ops" });
    expect(() => load(dir, { context: "x" }, inCluster)).toThrow(
      'context "x" was asked for, but there is no kubeconfig',
    );
  });

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
