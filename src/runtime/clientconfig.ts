/**
 * Where the client's configuration comes from: @kubernetes/client-node's KubeConfig, chosen as
 * kubectl chooses it, with errors a user can act on. The first source that applies wins:
 *
 *   1. an explicit file (--kubeconfig, or a client's kubeconfig option); it must exist;
 *   2. KUBECONFIG, a list of files separated by ':'; missing files are skipped and the others merged,
 *      the first file to name a cluster, user or context (or to set current-context) winning;
 *   3. ~/.kube/config;
 *   4. in-cluster (KubeConfig.loadFromCluster): KUBERNETES_SERVICE_HOST/PORT and the service
 *      account's token (re-read every minute by client-node), CA and namespace.
 *
 * Before client-node reads a file, normalise() makes the file's paths absolute (relative paths are
 * relative to the kubeconfig, as in client-go), gives a server without a scheme https://, and turns
 * a user's tokenFile (client-go's key; client-node knows only `token-file`, which it reads once at
 * load time) into client-node's tokenFile auth provider, which re-reads the file every minute. Everything else (TLS, exec plugins, OIDC refresh, proxies) is
 * client-node's; transport.ts applies it to each request.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";

/** KubeconfigError says what is wrong with the configuration and what to do about it, in one line. */
export class KubeconfigError extends Error {
  override name = "KubeconfigError";
}

/** ContextNotFoundError: the context asked for (or the current-context) is not in the kubeconfig. */
export class ContextNotFoundError extends KubeconfigError {
  override name = "ContextNotFoundError";
  readonly context: string;
  constructor(context: string, source: string, requested: boolean) {
    super(
      requested
        ? `context "${context}" is not in the kubeconfig ${source} (kubectl config get-contexts lists them)`
        : `the current-context "${context}" of ${source} is not one of its contexts: choose one with ` +
            "`kubectl config use-context NAME` (kubectl config get-contexts lists them)",
    );
    this.context = context;
  }
}

/** SERVICE_ACCOUNT_DIR is where Kubernetes mounts a pod's service account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** LoadOptions choose the configuration. */
export interface LoadOptions {
  /** An explicit kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster). */
  file?: string;
  /** A context of the kubeconfig instead of its current-context. */
  context?: string;
  /** The environment (default process.env): KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT. */
  env?: NodeJS.ProcessEnv;
  /**
   * A folder the service account path is under (KubeConfig.loadFromCluster's pathPrefix), so tests
   * can give a pod's files without writing to /var/run. client-node reads
   * KUBERNETES_SERVICE_HOST/PORT from process.env itself.
   */
  inClusterRoot?: string;
}

type Raw = Record<string, unknown>;
type Entry = { name?: unknown; [k: string]: unknown };

/** absolute resolves a path of a kubeconfig entry against the kubeconfig's folder. */
const absolute = (dir: string, p: unknown) =>
  typeof p === "string" && p && !isAbsolute(p) ? resolve(dir, p) : p;

/** normalise makes one parsed kubeconfig file's paths absolute and its token-files re-read (see top). */
function normalise(raw: Raw, file: string): Raw {
  const dir = dirname(resolve(file));
  const list = (k: string): Entry[] => (Array.isArray(raw[k]) ? (raw[k] as Entry[]) : []);
  const clusters = list("clusters").map((c) => {
    const cluster = { ...(c.cluster as Raw) };
    cluster["certificate-authority"] = absolute(dir, cluster["certificate-authority"]);
    // A server without a scheme is https, as in client-go.
    if (typeof cluster.server === "string" && cluster.server && !cluster.server.includes("://"))
      cluster.server = `https://${cluster.server}`;
    return { ...c, cluster };
  });
  const users = list("users").map((u) => {
    const user = { ...(u.user as Raw) };
    for (const k of ["client-certificate", "client-key"]) user[k] = absolute(dir, user[k]);
    const exec = user.exec as Raw | undefined;
    // client-go runs a command with a path separator relative to the kubeconfig's folder.
    if (exec && typeof exec.command === "string" && exec.command.includes("/"))
      user.exec = { ...exec, command: absolute(dir, exec.command) };
    // client-go's key is tokenFile; client-node reads token-file, once, at load time.
    const tokenFile = user.tokenFile ?? user["token-file"];
    if (typeof tokenFile === "string" && tokenFile && !user.exec && !user["auth-provider"]) {
      delete user.tokenFile;
      delete user["token-file"];
      delete user.token;
      user["auth-provider"] = { name: "tokenFile", config: { tokenFile: absolute(dir, tokenFile) } };
    }
    return { ...u, user };
  });
  return { ...raw, clusters, users };
}

/** merge joins kubeconfig files as kubectl does: the first to name an entry or set current-context wins. */
function merge(files: Raw[]): Raw {
  const out: Raw = { clusters: [], users: [], contexts: [] };
  for (const raw of files) {
    if (!out["current-context"] && raw["current-context"]) out["current-context"] = raw["current-context"];
    for (const k of ["clusters", "users", "contexts"]) {
      const have = out[k] as Entry[];
      for (const e of Array.isArray(raw[k]) ? (raw[k] as Entry[]) : [])
        if (!have.some((h) => h.name === e.name)) have.push(e);
    }
  }
  return out;
}

const isEmpty = (raw: Raw) =>
  !raw["current-context"] && ["clusters", "users", "contexts"].every((k) => (raw[k] as Entry[]).length === 0);

/** readKubeconfig reads and parses one file; a missing file is undefined unless it must exist. */
function readKubeconfig(file: string, mustExist: boolean): Raw | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !mustExist) return undefined;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : (code ?? String(e));
    throw new KubeconfigError(`cannot read the kubeconfig ${file}: ${why}`, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new KubeconfigError(
      `the kubeconfig ${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`,
      {
        cause: e,
      },
    );
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new KubeconfigError(
      `the kubeconfig ${file} is not a kubeconfig (want a mapping with clusters, users, contexts)`,
    );
  return normalise(raw as Raw, file);
}

/** inClusterPossible is client-go's test: the service's address in the environment and a token file. */
function inClusterPossible(env: NodeJS.ProcessEnv, root: string): boolean {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    return statSync(`${root}${SERVICE_ACCOUNT_DIR}/token`).isFile();
  } catch {
    return false;
  }
}

/** loadKubeConfig loads the configuration as kubectl does (see the top of this file for the order). */
export function loadKubeConfig(opts: LoadOptions = {}): KubeConfig {
  const env = opts.env ?? process.env;
  const explicit = Boolean(opts.file);
  let files: string[];
  if (opts.file) files = [opts.file];
  else if (env.KUBECONFIG) files = [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))];
  else files = [join(env.HOME || homedir(), ".kube", "config")];
  const found: Raw[] = [];
  for (const f of files) {
    const one = readKubeconfig(f, explicit);
    if (one) found.push(one);
  }
  const raw = merge(found);
  const source = files.join(delimiter);
  const kc = new KubeConfig();
  if (explicit || !isEmpty(raw)) {
    try {
      kc.loadFromString(JSON.stringify(raw));
    } catch (e) {
      throw new KubeconfigError(`the kubeconfig ${source} is invalid: ${(e as Error).message}`, { cause: e });
    }
    return checked(kc, source, opts.context);
  }
  const root = opts.inClusterRoot ?? "";
  if (inClusterPossible(env, root)) {
    if (opts.context) {
      throw new KubeconfigError(
        `context "${opts.context}" was asked for, but there is no kubeconfig (${source}), only the in-cluster service account`,
      );
    }
    kc.loadFromCluster(root);
    return checked(kc, `in-cluster (service account ${root}${SERVICE_ACCOUNT_DIR})`);
  }
  const where = env.KUBECONFIG
    ? `KUBECONFIG names no file that exists or holds anything (${source})`
    : `${source} does not exist or holds nothing and KUBECONFIG is not set`;
  throw new KubeconfigError(
    `no Kubernetes configuration found: ${where}, and this is not a pod with a service account ` +
      `(KUBERNETES_SERVICE_HOST/PORT and ${SERVICE_ACCOUNT_DIR}/token); pass --kubeconfig or set KUBECONFIG`,
  );
}

/** checked selects the context and refuses a configuration that cannot reach a server, naming the fix. */
function checked(kc: KubeConfig, source: string, context?: string): KubeConfig {
  if (context) {
    if (!kc.getContextObject(context)) throw new ContextNotFoundError(context, source, true);
    kc.setCurrentContext(context);
  }
  const name = kc.getCurrentContext();
  if (!name) {
    throw new KubeconfigError(
      `the kubeconfig ${source} sets no current-context: choose one with --context or \`kubectl config use-context NAME\``,
    );
  }
  const ctx = kc.getContextObject(name);
  if (!ctx) throw new ContextNotFoundError(name, source, false);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster)
    throw new KubeconfigError(
      `context "${name}" of ${source} names the cluster "${ctx.cluster}", which is not in it`,
    );
  if (!kc.getUser(ctx.user))
    throw new KubeconfigError(
      `context "${name}" of ${source} names the user "${ctx.user}", which is not in it`,
    );
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(
      `cluster "${cluster.name}" of ${source}: server "${cluster.server}" is not a URL`,
    );
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && cluster.skipTLSVerify)) {
    throw new KubeconfigError(
      `cluster "${cluster.name}" of ${source}: server ${cluster.server} is not https (plain http needs insecure-skip-tls-verify: true)`,
    );
  }
  if (cluster.proxyUrl && !/^https?:/.test(cluster.proxyUrl)) {
    throw new KubeconfigError(
      `cluster "${cluster.name}" of ${source}: proxy-url ${cluster.proxyUrl} is not supported; use an http:// or https:// proxy`,
    );
  }
  return kc;
}
