/**
 * The credentials of a ClientConfig (loaded by kubeconfig.ts) as the TLS options and headers of each
 * request: a bearer token (re-read from its tokenFile every minute), basic auth, a client certificate,
 * impersonation headers, and exec credential plugins, run without a terminal, their ExecCredential
 * checked as client-go checks it and kept until it expires or the server refuses it (401).
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import {
  type ClientConfig,
  type ExecCluster,
  type ExecConfig,
  Fields,
  KubeconfigError,
} from "./kubeconfig.ts";

/** AuthOptions are the TLS options and headers of one request. */
export interface AuthOptions {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  servername?: string;
  headers: Record<string, string | string[]>;
}

/** ExecCredential is what an exec plugin returned. */
export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Milliseconds since the epoch; none means it is kept until the server refuses it (401). */
  expires?: number;
}

/** parseExecCredential reads an exec plugin's output, checked as client-go checks it. */
export function parseExecCredential(stdout: string, apiVersion: string): ExecCredential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (e) {
    throw new Error(
      `its output is not JSON (${(e as Error).message}): ${JSON.stringify(stdout.slice(0, 200))}`,
    );
  }
  const f = Fields.of(doc, "ExecCredential");
  if (f.str("kind") !== "ExecCredential")
    throw new Error(`it printed kind "${f.str("kind")}", not ExecCredential`);
  if (f.str("apiVersion") !== apiVersion) {
    throw new Error(`it is configured for ${apiVersion} but printed apiVersion "${f.str("apiVersion")}"`);
  }
  const status = f.obj("status");
  if (!status) throw new Error("it printed no status");
  const token = status.str("token");
  const cert = status.str("clientCertificateData");
  const key = status.str("clientKeyData");
  if (!token && !cert && !key) throw new Error("it printed neither a token nor a certificate and key");
  if (Boolean(cert) !== Boolean(key))
    throw new Error("it printed a certificate without its key, or a key alone");
  const exp = status.str("expirationTimestamp");
  let expires: number | undefined;
  if (exp) {
    expires = Date.parse(exp);
    if (Number.isNaN(expires)) throw new Error(`its expirationTimestamp "${exp}" is not a time`);
  }
  return { token, cert, key, expires };
}

/** execInfo is the KUBERNETES_EXEC_INFO an exec plugin reads. */
export function execInfo(exec: ExecConfig, cluster: ExecCluster | undefined): string {
  return JSON.stringify({
    apiVersion: exec.apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false, ...(cluster ? { cluster } : {}) },
  });
}

const installHelp =
  "It looks like a client-go credential plugin that is not installed: see " +
  "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins";

/** runExecPlugin runs the plugin without a terminal and returns its standard output. */
function runExecPlugin(exec: ExecConfig, info: string, env: NodeJS.ProcessEnv, who: string): Promise<string> {
  const plugin = `exec credential plugin ${JSON.stringify(exec.command)} of ${who}`;
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args, {
      env: {
        ...env,
        ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])),
        KUBERNETES_EXEC_INFO: info,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") {
        reject(
          new KubeconfigError(
            `${plugin}: executable not found\n\n${exec.installHint?.trim() || installHelp}`,
          ),
        );
      } else if (e.code === "EACCES") {
        reject(new KubeconfigError(`${plugin}: cannot be run (EACCES): is it an executable file?`));
      } else reject(new KubeconfigError(`${plugin}: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      const stderr = Buffer.concat(err).toString("utf8").trim().slice(-2000);
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else {
        // After a spawn error (above) this rejects a settled promise: no effect.
        const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
        reject(new KubeconfigError(`${plugin} failed with ${how}${stderr ? `: ${stderr}` : ""}`));
      }
    });
  });
}

/** CredentialsOptions are for tests. */
export interface CredentialsOptions {
  /** The clock (default Date.now). */
  now?: () => number;
  /** How often tokenFile is re-read (default 60 s, client-go's period). */
  tokenRefreshMs?: number;
  /** The environment exec plugins start from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Credentials produce the TLS options and headers of each request: a token file is re-read every
 * minute (the last good token is kept when a read fails), an exec plugin is run on first use and
 * again once its credential expires or the server refuses it (invalidate). Concurrent requests share
 * one run of the plugin.
 */
export class Credentials {
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private token: string | undefined;
  private tokenReadAt: number;
  private exec: ExecCredential | undefined;
  private execRun: Promise<void> | undefined;
  private current: AuthOptions | undefined;
  /** runs counts the exec plugin's runs. */
  runs = 0;

  private readonly cfg: ClientConfig;

  constructor(cfg: ClientConfig, opts: CredentialsOptions = {}) {
    this.cfg = cfg;
    this.now = opts.now ?? Date.now;
    this.refreshMs = opts.tokenRefreshMs ?? 60_000;
    this.env = opts.env ?? process.env;
    this.token = cfg.token;
    this.tokenReadAt = this.now();
  }

  /** get returns the options of the next request (the same object while nothing changed). */
  async get(): Promise<AuthOptions> {
    const now = this.now();
    if (this.cfg.tokenFile && now - this.tokenReadAt >= this.refreshMs) await this.rereadToken(now);
    if (this.cfg.exec && (!this.exec || (this.exec.expires !== undefined && now >= this.exec.expires))) {
      this.execRun ??= this.runExec().finally(() => {
        this.execRun = undefined;
      });
      await this.execRun;
    }
    this.current ??= this.build();
    return this.current;
  }

  /** invalidate is called when the server refused used (401): the next get re-reads and re-runs. */
  invalidate(used?: AuthOptions): void {
    if (used && used !== this.current) return; // already replaced
    this.tokenReadAt = Number.NEGATIVE_INFINITY;
    this.exec = undefined;
  }

  private async rereadToken(now: number): Promise<void> {
    const file = this.cfg.tokenFile as string;
    this.tokenReadAt = now;
    try {
      const token = (await readFile(file, "utf8")).trim();
      if (token && token !== this.token) {
        this.token = token;
        this.current = undefined;
      }
    } catch {
      // keep the last token, as client-go does; the server says when it no longer works
    }
  }

  private async runExec(): Promise<void> {
    const exec = this.cfg.exec as ExecConfig;
    const who = `user "${this.cfg.user}" (${this.cfg.source})`;
    this.runs++;
    const stdout = await runExecPlugin(exec, execInfo(exec, this.cfg.execCluster), this.env, who);
    try {
      this.exec = parseExecCredential(stdout, exec.apiVersion);
    } catch (e) {
      throw new KubeconfigError(
        `exec credential plugin ${JSON.stringify(exec.command)} of ${who}: ${(e as Error).message}`,
      );
    }
    this.current = undefined;
  }

  private build(): AuthOptions {
    const { cfg } = this;
    const headers: Record<string, string | string[]> = {};
    const token = this.exec?.token || this.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (cfg.username || cfg.password) {
      headers.Authorization = `Basic ${Buffer.from(`${cfg.username ?? ""}:${cfg.password ?? ""}`).toString("base64")}`;
    }
    const imp = cfg.impersonate;
    if (imp) {
      headers["Impersonate-User"] = imp.user;
      if (imp.uid) headers["Impersonate-Uid"] = imp.uid;
      if (imp.groups.length > 0) headers["Impersonate-Group"] = imp.groups;
      for (const [k, v] of Object.entries(imp.extra))
        headers[`Impersonate-Extra-${encodeURIComponent(k)}`] = v;
    }
    return {
      ca: cfg.ca,
      cert: this.exec?.cert ?? cfg.cert,
      key: this.exec?.key ?? cfg.key,
      rejectUnauthorized: cfg.insecureSkipTlsVerify ? false : undefined,
      servername: cfg.tlsServerName,
      headers,
    };
  }
}
