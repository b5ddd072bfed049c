/**
 * Loading the configuration into client-node's KubeConfig: where it comes from (explicit file,
 * KUBECONFIG merged, ~/.kube/config, in-cluster), the choice of context, paths relative to the
 * kubeconfig, tokenFile users, and one-line errors that say what to fix.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
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
import { ContextNotFoundError, KubeconfigError, SERVICE_ACCOUNT_DIR } from "./clientconfig.ts";

afterEach(() => {
  vi.unstubAllEnvs();
});

const server = (kc: ReturnType<typeof load>) => kc.getCurrentCluster()?.server;

/** thrown returns what fn throws. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("nothing was thrown");
}

describe("loadKubeConfig: where the configuration comes from", () => {
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
    expect(a.getCurrentContext()).toBe("a");
    expect(server(a)).toBe("https://first");
    expect(a.getCurrentUser()?.token).toBe("first-token");
    const b = load(dir, { context: "b" }, env);
    expect(server(b)).toBe("https://other");
    expect(b.getCurrentUser()?.username).toBe("v");
    // Without a current-context in the first file, the second's applies.
    write(first, kubeconfig({ clusters: { shared: { server: "https://first" } } }));
    expect(load(dir, {}, env).getCurrentContext()).toBe("b");
  });

  it("takes an explicit file over KUBECONFIG, KUBECONFIG over ~/.kube/config, that over in-cluster", () => {
    const dir = tempDir();
    serviceAccount(dir);
    vi.stubEnv("KUBERNETES_SERVICE_HOST", inCluster.KUBERNETES_SERVICE_HOST);
    vi.stubEnv("KUBERNETES_SERVICE_PORT", inCluster.KUBERNETES_SERVICE_PORT);
    const home = write(join(dir, "home/.kube/config"), simple("https://home"));
    const env = write(join(dir, "env"), simple("https://env"));
    const flag = write(join(dir, "flag"), simple("https://flag"));
    expect(server(load(dir, { file: flag }, { ...inCluster, KUBECONFIG: env }))).toBe("https://flag");
    expect(server(load(dir, {}, { ...inCluster, KUBECONFIG: env }))).toBe("https://env");
    expect(server(load(dir, {}, inCluster))).toBe("https://home");
    // KUBECONFIG replaces ~/.kube/config: when its files are all missing, in-cluster comes next.
    expect(server(load(dir, {}, { ...inCluster, KUBECONFIG: join(dir, "none") }))).toBe(
      "https://10.0.0.1:443",
    );
    // So does an empty ~/.kube/config.
    write(home, "");
    expect(server(load(dir, {}, inCluster))).toBe("https://10.0.0.1:443");
  });

  it("says in one line when there is no configuration, or the explicit file is missing or broken", () => {
    const dir = tempDir();
    const none = thrown(() => load(dir));
    expect(none).toBeInstanceOf(KubeconfigError);
    expect(none.message).toMatch(
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
    const missing = thrown(() => load(dir, { file: join(dir, "nope") }, inCluster));
    expect(missing).toBeInstanceOf(KubeconfigError);
    expect(missing.message).toBe(`cannot read the kubeconfig ${join(dir, "nope")}: no such file`);
    expect(() => load(dir, { file: dir })).toThrow(`cannot read the kubeconfig ${dir}: it is a folder`);
    const bad = write(join(dir, "bad"), "clusters: [");
    expect(() => load(dir, { file: bad })).toThrow(new RegExp(`^the kubeconfig ${bad} is not valid YAML: `));
    write(bad, "- a\n- b\n");
    expect(() => load(dir, { file: bad })).toThrow(`the kubeconfig ${bad} is not a kubeconfig`);
    write(bad, kubeconfig({ clusters: { c: {} }, current: "x" }));
    expect(() => load(dir, { file: bad })).toThrow(
      `the kubeconfig ${bad} is invalid: clusters[0].cluster.server is missing`,
    );
  });

  it("chooses the current-context or the one asked for, and says what to fix when it cannot", () => {
    const dir = tempDir();
    const file = write(
      join(dir, "k"),
      kubeconfig({
        clusters: {
          c: { server: "https://c" },
          plain: { server: "http://c" },
          bare: { server: "c.example:6443" },
        },
        users: { u: { token: "t" } },
        contexts: {
          main: { cluster: "c", user: "u", namespace: "ns1" },
          other: { cluster: "c", user: "u" },
          lostCluster: { cluster: "gone", user: "u" },
          lostUser: { cluster: "c", user: "gone" },
          plain: { cluster: "plain", user: "u" },
          bare: { cluster: "bare", user: "u" },
        },
        current: "main",
      }),
    );
    expect(load(dir, { file }).getContextObject("main")?.namespace).toBe("ns1");
    expect(load(dir, { file, context: "other" }).getCurrentContext()).toBe("other");
    const missing = thrown(() => load(dir, { file, context: "nowhere" }));
    expect(missing).toBeInstanceOf(ContextNotFoundError);
    expect(missing.message).toBe(
      `context "nowhere" is not in the kubeconfig ${file} (kubectl config get-contexts lists them)`,
    );
    expect(() => load(dir, { file, context: "lostCluster" })).toThrow(
      `context "lostCluster" of ${file} names the cluster "gone", which is not in it`,
    );
    expect(() => load(dir, { file, context: "lostUser" })).toThrow(
      `context "lostUser" of ${file} names the user "gone", which is not in it`,
    );
    expect(() => load(dir, { file, context: "plain" })).toThrow(
      `cluster "plain" of ${file}: server http://c is not https (plain http needs insecure-skip-tls-verify: true)`,
    );
    // A server without a scheme is https, as in client-go.
    expect(server(load(dir, { file, context: "bare" }))).toBe("https://c.example:6443");
    write(
      file,
      kubeconfig({
        clusters: { c: { server: "https://c" } },
        contexts: { a: { cluster: "c" } },
        current: "b",
      }),
    );
    expect(() => load(dir, { file })).toThrow(
      `the current-context "b" of ${file} is not one of its contexts: choose one with \`kubectl config use-context NAME\``,
    );
    write(file, kubeconfig({ clusters: { c: { server: "https://c" } }, contexts: { a: { cluster: "c" } } }));
    expect(() => load(dir, { file })).toThrow(`the kubeconfig ${file} sets no current-context`);
  });
});

describe("loadKubeConfig: paths, token files, proxies", () => {
  it("resolves certificate files, exec commands and token files against the kubeconfig's folder", () => {
    const dir = tempDir();
    const file = write(
      join(dir, "kube/config"),
      kubeconfig({
        clusters: {
          c: { server: "https://c", "certificate-authority": "pki/ca.crt", "proxy-url": "http://proxy:3128" },
        },
        users: {
          files: { "client-certificate": "pki/u.crt", "client-key": "/abs/u.key" },
          plugin: { exec: { command: "./bin/login", apiVersion: "client.authentication.k8s.io/v1" } },
          onPath: { exec: { command: "kubelogin", apiVersion: "client.authentication.k8s.io/v1" } },
          tokens: { tokenFile: "../tok" },
          dashed: { "token-file": "tok2" },
        },
        contexts: { one: { cluster: "c", user: "files" } },
        current: "one",
      }),
    );
    const kc = load(dir, { file });
    expect(kc.getCluster("c")).toMatchObject({
      caFile: join(dir, "kube/pki/ca.crt"),
      proxyUrl: "http://proxy:3128",
    });
    expect(kc.getUser("files")).toMatchObject({
      certFile: join(dir, "kube/pki/u.crt"),
      keyFile: "/abs/u.key",
    });
    // A command with a '/' is a path (relative to the kubeconfig); a bare name is looked up on PATH.
    expect(kc.getUser("plugin")?.exec.command).toBe(join(dir, "kube/bin/login"));
    expect(kc.getUser("onPath")?.exec.command).toBe("kubelogin");
    // Token files become client-node's tokenFile provider, which re-reads them, and need not exist yet.
    expect(kc.getUser("tokens")?.authProvider).toEqual({
      name: "tokenFile",
      config: { tokenFile: join(dir, "tok") },
    });
    expect(kc.getUser("dashed")?.authProvider?.config.tokenFile).toBe(join(dir, "kube/tok2"));
    expect(kc.getUser("tokens")?.token).toBeUndefined();
  });

  it("refuses a socks proxy-url, which the transport cannot use", () => {
    const dir = tempDir();
    const file = write(join(dir, "k"), simple({ server: "https://c", "proxy-url": "socks5://p:1080" }));
    expect(() => load(dir, { file })).toThrow(
      `cluster "c" of ${file}: proxy-url socks5://p:1080 is not supported; use an http:// or https:// proxy`,
    );
  });

  it("keeps *-data fields for client-node to decode", () => {
    const dir = tempDir();
    const file = write(
      join(dir, "k"),
      simple(
        { server: "https://c", "certificate-authority-data": b64("CA DATA") },
        { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") },
      ),
    );
    const kc = load(dir, { file });
    expect(kc.getCurrentCluster()?.caData).toBe(b64("CA DATA"));
    expect(kc.getCurrentUser()).toMatchObject({ certData: b64("CERT"), keyData: b64("KEY") });
  });
});

describe("in-cluster", () => {
  it("reads the service account under a root folder, and the service's address", () => {
    const dir = tempDir();
    const sa = serviceAccount(dir);
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "fd00::1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "6443");
    const kc = load(dir, {}, { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" });
    expect(sa).toBe(join(dir, "root", SERVICE_ACCOUNT_DIR));
    expect(server(kc)).toBe("https://[fd00::1]:6443");
    expect(kc.getCurrentCluster()?.caFile).toBe(join(sa, "ca.crt"));
    expect(kc.getCurrentUser()?.authProvider).toEqual({
      name: "tokenFile",
      config: { tokenFile: join(sa, "token") },
    });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe("team-a");
    expect(() => load(dir, { context: "x" }, inCluster)).toThrow(
      'context "x" was asked for, but there is no kubeconfig',
    );
  });
});
