/**
 * Loading the configuration: parsing, KUBECONFIG's merge, the choice of context, the checks of
 * cluster and user entries, and in-cluster. The credentials it names are tested in
 * credentials.test.ts.
 */
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
import { ContextNotFoundError, inClusterPossible, parseKubeconfig } from "./kubeconfig.ts";

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
    write(file, simple("https://c", { tokenFile: "empty" }));
    write(join(dir, "empty"), "\n");
    expect(() => load(dir, { file })).toThrow(
      `user "u" of ${file}: the tokenFile ${join(dir, "empty")} is empty`,
    );
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
});
