/**
 * Kubernetes client configuration, loaded the way kubectl (client-go's clientcmd) loads it. Two
 * layers:
 *
 *   parseKubeconfig, mergeKubeconfigs, selectContext    pure: text -> Kubeconfig -> chosen entries
 *   loadClientConfig, inClusterConfig                   read files and the environment -> ClientConfig
 *
 * The credentials a ClientConfig names (re-read token files, exec plugins) become the TLS material
 * and headers of each request in credentials.ts.
 *
 * Where the configuration comes from; the first that applies wins (kubectl's order, and that of
 * client-node's loadFromDefault, which this replaces):
 *
 *   1. an explicit file (--kubeconfig, or a client's kubeconfig option); it must exist;
 *   2. KUBECONFIG, a list of files separated by ':'; missing files are skipped and the others merged:
 *      the first file to set a cluster, user or context name, or current-context, wins;
 *   3. ~/.kube/config;
 *   4. in-cluster: KUBERNETES_SERVICE_HOST/PORT, and the service account's token, ca.crt and
 *      namespace; the token is re-read every minute (credentials.ts), because the kubelet rotates it.
 *
 * A kubeconfig that exists but holds nothing counts as absent (client-go too tries in-cluster then).
 * Relative paths in a kubeconfig are relative to its file, as in client-go.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve, sep } from "node:path";

/** KubeconfigError says what is wrong with the configuration and what to do about it. */
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

/** ExecApiVersions are the client.authentication.k8s.io versions of exec plugins that are supported. */
export const ExecApiVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"];

/** KubeconfigCluster is a cluster entry; file paths are absolute and *Data fields decoded PEM. */
export interface KubeconfigCluster {
  server?: string;
  certificateAuthority?: string;
  certificateAuthorityData?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  /** The client.authentication.k8s.io/exec extension, given to exec plugins with provideClusterInfo. */
  execExtension?: unknown;
}

/** ExecConfig is a user's exec credential plugin. */
export interface ExecConfig {
  /** The executable: a name looked up on PATH, or a path (relative ones resolved against the kubeconfig). */
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo: boolean;
  interactiveMode?: string;
}

/** KubeconfigUser is a user (AuthInfo) entry; file paths are absolute and *Data fields decoded PEM. */
export interface KubeconfigUser {
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  clientCertificate?: string;
  clientCertificateData?: string;
  clientKey?: string;
  clientKeyData?: string;
  as?: string;
  asUid?: string;
  asGroups: string[];
  asUserExtra: Record<string, string[]>;
  exec?: ExecConfig;
  authProvider?: { name: string; config: Record<string, string> };
}

/** KubeconfigContext is a context entry. */
export interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** Kubeconfig is one kubeconfig file, or several merged. */
export interface Kubeconfig {
  /** The files it was read from, in order. */
  files: string[];
  currentContext?: string;
  clusters: Map<string, KubeconfigCluster>;
  users: Map<string, KubeconfigUser>;
  contexts: Map<string, KubeconfigContext>;
}

/** ExecCluster is the cluster as an exec plugin with provideClusterInfo reads it in KUBERNETES_EXEC_INFO. */
export interface ExecCluster {
  server: string;
  "tls-server-name"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "certificate-authority-data"?: string;
  "proxy-url"?: string;
  config?: unknown;
}

/** ClientConfig is everything a client needs to reach and authenticate to one API server. */
export interface ClientConfig {
  /** Where the configuration came from, for messages: the kubeconfig files, or in-cluster. */
  source: string;
  /** The chosen context (none in-cluster). */
  context?: string;
  /** The user entry's name, for messages. */
  user?: string;
  /** The context's namespace; in-cluster, POD_NAMESPACE or the service account's. */
  namespace?: string;
  /** The API server's URL. */
  server: string;
  /** PEM of the certificate authorities of the server's certificate (default: the system's). */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  /** The client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** A bearer token: the kubeconfig's, or the first read of tokenFile. */
  token?: string;
  /** A file re-read every minute for a fresh bearer token; it wins over token while readable. */
  tokenFile?: string;
  username?: string;
  password?: string;
  impersonate?: { user: string; uid?: string; groups: string[]; extra: Record<string, string[]> };
  exec?: ExecConfig;
  execCluster?: ExecCluster;
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure)

type Obj = Record<string, unknown>;

/**
 * Fields reads typed fields of one YAML mapping, with errors that say where (credentials.ts reads
 * an exec plugin's ExecCredential with it too).
 */
export class Fields {
  private readonly o: Obj;
  readonly where: string;
  private constructor(o: Obj, where: string) {
    this.o = o;
    this.where = where;
  }

  static of(v: unknown, where: string): Fields {
    if (v === null || v === undefined) return new Fields({}, where);
    if (typeof v !== "object" || Array.isArray(v)) throw new KubeconfigError(`${where}: want a mapping`);
    return new Fields(v as Obj, where);
  }

  private at(k: string): string {
    return `${this.where}.${k}`;
  }

  keys(): string[] {
    return Object.keys(this.o);
  }

  raw(k: string): unknown {
    return this.o[k];
  }

  str(k: string): string | undefined {
    const v = this.o[k];
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new KubeconfigError(`${this.at(k)}: want a string, got ${typeof v}`);
    return v;
  }

  bool(k: string): boolean {
    const v = this.o[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== "boolean") throw new KubeconfigError(`${this.at(k)}: want true or false`);
    return v;
  }

  list(k: string): unknown[] {
    const v = this.o[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new KubeconfigError(`${this.at(k)}: want a list`);
    return v;
  }

  strs(k: string): string[] {
    return this.list(k).map((v, i) => {
      if (typeof v !== "string") throw new KubeconfigError(`${this.at(k)}[${i}]: want a string`);
      return v;
    });
  }

  obj(k: string): Fields | undefined {
    const v = this.o[k];
    return v === undefined || v === null ? undefined : Fields.of(v, this.at(k));
  }

  /** named reads a list of {name, <key>: {...}} entries, refusing duplicate names. */
  named(k: string, inner: string): [string, Fields][] {
    const seen = new Set<string>();
    return this.list(k).map((item, i) => {
      const entry = Fields.of(item, `${this.at(k)}[${i}]`);
      const name = entry.str("name");
      if (!name) throw new KubeconfigError(`${entry.where}: has no name`);
      if (seen.has(name)) throw new KubeconfigError(`${this.where}: two ${k} are named "${name}"`);
      seen.add(name);
      return [name, Fields.of(entry.raw(inner), `${this.at(k)}["${name}"].${inner}`)];
    });
  }
}

const pem = (base64: string | undefined) =>
  base64 === undefined ? undefined : Buffer.from(base64, "base64").toString("utf8");

let yamlParse: ((text: string) => unknown) | undefined;
/** parseYaml loads the yaml package on first use: in a cluster, no kubeconfig is ever parsed. */
function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse;
  return yamlParse(text);
}

/** emptyKubeconfig is a kubeconfig with nothing in it. */
export function emptyKubeconfig(files: string[] = []): Kubeconfig {
  return { files, clusters: new Map(), users: new Map(), contexts: new Map() };
}

/**
 * parseKubeconfig reads the text of the kubeconfig file `file` (YAML or JSON). Relative file paths
 * in it (certificate-authority, client-certificate, client-key, tokenFile, and an exec command that
 * contains a '/') are resolved against the file's folder, as client-go does.
 */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  const path = resolve(file);
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${(e as Error).message}`);
  }
  const top = Fields.of(doc, `kubeconfig ${file}`);
  const dir = dirname(path);
  const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(dir, p));
  const kc = emptyKubeconfig([path]);
  kc.currentContext = top.str("current-context");
  for (const [name, c] of top.named("clusters", "cluster")) {
    const ext = c
      .list("extensions")
      .map((x, i) => Fields.of(x, `${c.where}.extensions[${i}]`))
      .find((x) => x.str("name") === "client.authentication.k8s.io/exec");
    kc.clusters.set(name, {
      server: c.str("server"),
      certificateAuthority: abs(c.str("certificate-authority")),
      certificateAuthorityData: pem(c.str("certificate-authority-data")),
      insecureSkipTlsVerify: c.bool("insecure-skip-tls-verify"),
      tlsServerName: c.str("tls-server-name"),
      proxyUrl: c.str("proxy-url"),
      execExtension: ext?.raw("extension"),
    });
  }
  for (const [name, u] of top.named("users", "user")) {
    const exec = u.obj("exec");
    const provider = u.obj("auth-provider");
    const extra = u.obj("as-user-extra");
    kc.users.set(name, {
      token: u.str("token"),
      tokenFile: abs(u.str("tokenFile")),
      username: u.str("username"),
      password: u.str("password"),
      clientCertificate: abs(u.str("client-certificate")),
      clientCertificateData: pem(u.str("client-certificate-data")),
      clientKey: abs(u.str("client-key")),
      clientKeyData: pem(u.str("client-key-data")),
      as: u.str("as"),
      asUid: u.str("as-uid"),
      asGroups: u.strs("as-groups"),
      asUserExtra: Object.fromEntries((extra?.keys() ?? []).map((k) => [k, extra?.strs(k) ?? []])),
      exec: exec && execConfig(exec, dir),
      authProvider: provider && {
        name: provider.str("name") ?? "",
        config: stringMap(provider.obj("config")),
      },
    });
  }
  for (const [name, c] of top.named("contexts", "context")) {
    kc.contexts.set(name, { cluster: c.str("cluster"), user: c.str("user"), namespace: c.str("namespace") });
  }
  return kc;
}

function stringMap(f: Fields | undefined): Record<string, string> {
  if (!f) return {};
  const out: Record<string, string> = {};
  for (const k of f.keys()) {
    const v = f.str(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function execConfig(f: Fields, dir: string): ExecConfig {
  const command = f.str("command") ?? "";
  return {
    command: command.includes(sep) ? resolve(dir, command) : command,
    args: f.strs("args"),
    env: f.list("env").map((x, i) => {
      const e = Fields.of(x, `${f.where}.env[${i}]`);
      return { name: e.str("name") ?? "", value: e.str("value") ?? "" };
    }),
    apiVersion: f.str("apiVersion") ?? "",
    installHint: f.str("installHint"),
    provideClusterInfo: f.bool("provideClusterInfo"),
    interactiveMode: f.str("interactiveMode"),
  };
}

/**
 * mergeKubeconfigs merges kubeconfigs by client-go's rule: the first to set a cluster, user or
 * context name wins that name whole, and the first current-context wins.
 */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const out = emptyKubeconfig(configs.flatMap((c) => c.files));
  for (const c of configs) {
    out.currentContext ??= c.currentContext;
    for (const [k, v] of c.clusters) if (!out.clusters.has(k)) out.clusters.set(k, v);
    for (const [k, v] of c.users) if (!out.users.has(k)) out.users.set(k, v);
    for (const [k, v] of c.contexts) if (!out.contexts.has(k)) out.contexts.set(k, v);
  }
  return out;
}

/** isEmptyKubeconfig is true of a kubeconfig without any entry or current-context. */
export function isEmptyKubeconfig(kc: Kubeconfig): boolean {
  return !kc.currentContext && kc.clusters.size === 0 && kc.users.size === 0 && kc.contexts.size === 0;
}

/** describeSource names the files of a kubeconfig for messages. */
export function describeSource(kc: Kubeconfig): string {
  return kc.files.length === 0 ? "(no file)" : kc.files.join(delimiter);
}

/** Selected is a context with its cluster and user entries. */
export interface Selected {
  context: string;
  namespace?: string;
  clusterName: string;
  cluster: KubeconfigCluster;
  userName?: string;
  user?: KubeconfigUser;
}

/** selectContext picks the context (the override, else current-context) and its cluster and user. */
export function selectContext(kc: Kubeconfig, override?: string): Selected {
  const source = describeSource(kc);
  const name = override || kc.currentContext;
  if (!name) {
    throw new KubeconfigError(
      `the kubeconfig ${source} has no current-context: choose a context with --context or ` +
        "`kubectl config use-context NAME` (kubectl config get-contexts lists them)",
    );
  }
  const ctx = kc.contexts.get(name);
  if (!ctx) throw new ContextNotFoundError(name, source, Boolean(override));
  if (!ctx.cluster) throw new KubeconfigError(`context "${name}" of ${source} names no cluster`);
  const cluster = kc.clusters.get(ctx.cluster);
  if (!cluster) {
    throw new KubeconfigError(
      `cluster "${ctx.cluster}" of context "${name}" is not in the kubeconfig ${source} ` +
        "(kubectl config get-clusters lists them)",
    );
  }
  if (!cluster.server) throw new KubeconfigError(`cluster "${ctx.cluster}" of ${source} has no server`);
  let user: KubeconfigUser | undefined;
  if (ctx.user) {
    user = kc.users.get(ctx.user);
    if (!user) {
      throw new KubeconfigError(
        `user "${ctx.user}" of context "${name}" is not in the kubeconfig ${source} ` +
          "(kubectl config get-users lists them)",
      );
    }
  }
  return {
    context: name,
    namespace: ctx.namespace,
    clusterName: ctx.cluster,
    cluster,
    userName: ctx.user,
    user,
  };
}

/** serverUrl checks a server address; one without a scheme is https, as in client-go. */
export function serverUrl(server: string, where: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `https://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new KubeconfigError(`${where}: server "${server}" is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeconfigError(`${where}: server "${server}" is neither https nor http`);
  }
  return withScheme;
}

// ---------------------------------------------------------------------------------------------
// Loading (files and environment)

/** readText reads a file named by the configuration, with an error that says which and why. */
function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new KubeconfigError(`cannot read ${what} ${path}: ${err.code ?? err.message}`, { cause: e });
  }
}

/** clientConfig checks the chosen entries as client-go does and reads the files they name. */
export function clientConfig(sel: Selected, source: string): ClientConfig {
  const { cluster: c, user: u } = sel;
  const cw = `cluster "${sel.clusterName}" of ${source}`;
  const uw = `user "${sel.userName}" of ${source}`;
  const server = serverUrl(c.server ?? "", cw);
  if (c.certificateAuthority && c.certificateAuthorityData) {
    throw new KubeconfigError(`${cw}: certificate-authority and certificate-authority-data are both set`);
  }
  const ca =
    c.certificateAuthorityData ??
    (c.certificateAuthority && readText(c.certificateAuthority, `the certificate-authority of ${cw}:`));
  if (ca && c.insecureSkipTlsVerify) {
    throw new KubeconfigError(
      `${cw}: a certificate authority and insecure-skip-tls-verify are both set; remove one`,
    );
  }
  const cfg: ClientConfig = {
    source,
    context: sel.context,
    user: sel.userName,
    namespace: sel.namespace,
    server,
    ca: ca || undefined,
    insecureSkipTlsVerify: c.insecureSkipTlsVerify,
    tlsServerName: c.tlsServerName,
  };
  if (!u) return cfg;

  if (u.clientCertificate && u.clientCertificateData) {
    throw new KubeconfigError(`${uw}: client-certificate and client-certificate-data are both set`);
  }
  if (u.clientKey && u.clientKeyData) {
    throw new KubeconfigError(`${uw}: client-key and client-key-data are both set`);
  }
  const cert =
    u.clientCertificateData ??
    (u.clientCertificate && readText(u.clientCertificate, `the client-certificate of ${uw}:`));
  const key = u.clientKeyData ?? (u.clientKey && readText(u.clientKey, `the client-key of ${uw}:`));
  if (Boolean(cert) !== Boolean(key)) {
    throw new KubeconfigError(`${uw}: a client certificate needs its key and a key its certificate`);
  }
  cfg.cert = cert || undefined;
  cfg.key = key || undefined;

  if ((u.token || u.tokenFile) && (u.username || u.password)) {
    throw new KubeconfigError(`${uw}: a token and a username/password are both set; only one is allowed`);
  }
  cfg.token = u.token;
  cfg.tokenFile = u.tokenFile;
  if (u.tokenFile && !u.token) {
    cfg.token = readText(u.tokenFile, `the tokenFile of ${uw}:`).trim();
    if (!cfg.token) throw new KubeconfigError(`${uw}: the tokenFile ${u.tokenFile} is empty`);
  }
  cfg.username = u.username;
  cfg.password = u.password;

  if (u.as) cfg.impersonate = { user: u.as, uid: u.asUid, groups: u.asGroups, extra: u.asUserExtra };
  else if (u.asUid || u.asGroups.length > 0 || Object.keys(u.asUserExtra).length > 0) {
    throw new KubeconfigError(
      `${uw}: as-uid, as-groups or as-user-extra need "as" (the user to impersonate)`,
    );
  }

  if (u.authProvider && u.exec) {
    throw new KubeconfigError(`${uw}: auth-provider and exec are both set; only one is allowed`);
  }
  if (u.authProvider) {
    const { name, config } = u.authProvider;
    const idToken = config["id-token"];
    if (name !== "oidc") {
      throw new KubeconfigError(
        `${uw}: the auth-provider "${name}" is not supported (kubectl dropped its built-in providers): ` +
          "use an exec credential plugin instead, such as gke-gcloud-auth-plugin, kubelogin or the cloud's CLI",
      );
    }
    if (!idToken) {
      throw new KubeconfigError(
        `${uw}: the oidc auth-provider has no id-token; only a static id-token is supported: ` +
          "use an exec credential plugin (kubelogin, for example) to log in and refresh tokens",
      );
    }
    cfg.token ??= idToken;
  }

  if (u.exec) {
    const e = u.exec;
    if (!e.command) throw new KubeconfigError(`${uw}: exec has no command`);
    if (!ExecApiVersions.includes(e.apiVersion)) {
      throw new KubeconfigError(
        `${uw}: exec apiVersion "${e.apiVersion}" is not supported; use one of ${ExecApiVersions.join(", ")}`,
      );
    }
    const nameless = e.env.find((v) => !v.name);
    if (nameless) throw new KubeconfigError(`${uw}: an exec env entry has no name`);
    if (e.interactiveMode === "Always") {
      throw new KubeconfigError(
        `${uw}: the exec plugin ${e.command} wants a terminal (interactiveMode: Always), ` +
          "which this program never gives it; run it so that it needs no input",
      );
    }
    cfg.exec = e;
    if (e.provideClusterInfo) {
      cfg.execCluster = {
        server,
        ...(c.tlsServerName ? { "tls-server-name": c.tlsServerName } : {}),
        ...(c.insecureSkipTlsVerify ? { "insecure-skip-tls-verify": true } : {}),
        ...(ca ? { "certificate-authority-data": Buffer.from(ca).toString("base64") } : {}),
        ...(c.proxyUrl ? { "proxy-url": c.proxyUrl } : {}),
        ...(c.execExtension !== undefined ? { config: c.execExtension } : {}),
      };
    }
  }
  return cfg;
}

/** inClusterPossible is client-go's test: the service's address in the environment and a token file. */
export function inClusterPossible(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT_DIR): boolean {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    return statSync(join(dir, "token")).isFile();
  } catch {
    return false;
  }
}

/**
 * inClusterConfig is the configuration of a pod: the API server of KUBERNETES_SERVICE_HOST/PORT,
 * the service account's token (re-read every minute), its CA, and POD_NAMESPACE or its namespace.
 */
export function inClusterConfig(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): ClientConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError(
      "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set",
    );
  }
  const tokenFile = join(dir, "token");
  const token = readText(tokenFile, "the service account token").trim();
  if (!token) throw new KubeconfigError(`the service account token ${tokenFile} is empty`);
  let ca: string | undefined;
  try {
    ca = readFileSync(join(dir, "ca.crt"), "utf8");
  } catch {
    ca = undefined; // client-go goes on without it too: the system's CAs are then used
  }
  let namespace = env.POD_NAMESPACE || undefined;
  if (!namespace) {
    try {
      namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || undefined;
    } catch {
      namespace = undefined;
    }
  }
  return {
    source: `in-cluster (service account ${dir})`,
    namespace,
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca,
    insecureSkipTlsVerify: false,
    token,
    tokenFile,
  };
}

/** LoadOptions choose the configuration; env, home and serviceAccountDir are for tests. */
export interface LoadOptions {
  /** An explicit kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster). */
  file?: string;
  /** A context of the kubeconfig instead of its current-context. */
  context?: string;
  /** The environment (default process.env): KUBECONFIG, HOME, KUBERNETES_SERVICE_*, POD_NAMESPACE. */
  env?: NodeJS.ProcessEnv;
  /** The home folder (default HOME, else the user's). */
  home?: string;
  /** The service account folder (default SERVICE_ACCOUNT_DIR). */
  serviceAccountDir?: string;
}

/** loadClientConfig loads the configuration as kubectl does (see the top of this file for the order). */
export function loadClientConfig(opts: LoadOptions = {}): ClientConfig {
  const env = opts.env ?? process.env;
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const explicit = Boolean(opts.file);
  let files: string[];
  if (opts.file) files = [opts.file];
  else if (env.KUBECONFIG) files = [...new Set(env.KUBECONFIG.split(delimiter).filter(Boolean))];
  else files = [join(opts.home ?? (env.HOME || homedir()), ".kube", "config")];

  const loaded: Kubeconfig[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !explicit) continue; // client-go skips missing files
      throw new KubeconfigError(`cannot read the kubeconfig ${file}: ${code ?? (e as Error).message}`, {
        cause: e,
      });
    }
    loaded.push(parseKubeconfig(text, file));
  }
  const kc = mergeKubeconfigs(loaded);
  if (explicit || !isEmptyKubeconfig(kc))
    return clientConfig(selectContext(kc, opts.context), describeSource(kc));

  if (inClusterPossible(env, saDir)) {
    if (opts.context) {
      throw new KubeconfigError(
        `context "${opts.context}" was asked for, but there is no kubeconfig (${files.join(delimiter)}), ` +
          "only the in-cluster service account",
      );
    }
    return inClusterConfig(env, saDir);
  }
  const where = env.KUBECONFIG
    ? `KUBECONFIG names no file that exists or holds anything (${files.join(delimiter)})`
    : `${files[0]} does not exist or holds nothing and KUBECONFIG is not set`;
  throw new KubeconfigError(
    `no Kubernetes configuration found: ${where}, and this is not a pod with a service account ` +
      `(KUBERNETES_SERVICE_HOST/PORT and ${join(saDir, "token")}); pass --kubeconfig or set KUBECONFIG`,
  );
}
