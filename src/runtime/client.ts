/**
 * A small Kubernetes REST client: the configuration comes from kubeconfig.ts (loaded as kubectl
 * loads it) and each request's credentials from credentials.ts; requests go over one keep-alive
 * agent, and failures become the typed errors of errors.ts. Streams (watch, logs) are exposed as
 * async line iterators.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import {
  Agent as HttpsAgent,
  type RequestOptions as HttpsRequestOptions,
  request as httpsRequest,
} from "node:https";
import { createInterface } from "node:readline";
import { type AuthOptions, Credentials } from "./credentials.ts";
import { errorFor, type Status, UnavailableError } from "./errors.ts";
import { type ClientConfig, loadClientConfig } from "./kubeconfig.ts";

/** RequestOptions for one API call. */
export interface CallOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** timeoutMs bounds the whole call (default 30 s); streams use idle timeouts of their own. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Calls are the one-shot API calls of a KubeClient (what a reconcile makes). */
export type Calls = Pick<KubeClient, "request" | "get" | "create" | "replace" | "mergePatch" | "delete">;

/** Patch content types. */
export const MergePatch = "application/merge-patch+json";
export const JsonPatch = "application/json-patch+json";

/**
 * loadKubeConfig loads the configuration as kubectl does: an explicit file, else KUBECONFIG, else
 * ~/.kube/config, else in-cluster (kubeconfig.ts), with the context's cluster and user.
 */
export function loadKubeConfig(file?: string, context?: string): ClientConfig {
  return loadClientConfig({ file, context });
}

/** KubeClient makes API calls against the cluster of a ClientConfig. */
export class KubeClient {
  readonly server: URL;
  readonly config: ClientConfig;
  private readonly credentials: Credentials;
  private agent: HttpAgent | undefined;

  constructor(config: ClientConfig) {
    this.config = config;
    this.server = new URL(config.server);
    this.credentials = new Credentials(config);
  }

  /** namespace is the current context's namespace (or "default"). */
  get namespace(): string {
    return this.config.namespace ?? "default";
  }

  private async options(
    method: string,
    path: string,
    opts: CallOptions,
  ): Promise<{ ro: HttpsRequestOptions; auth: AuthOptions }> {
    // Tokens from files are re-read every minute, exec credentials re-run when they expire.
    const auth = await this.credentials.get();
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    // The TLS options go with each request, not the agent: the agent then keeps one pool per
    // certificate, so a client certificate that an exec plugin renews is used at once.
    this.agent ??=
      url.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true, maxSockets: 64 })
        : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    const headers: Record<string, string | string[]> = { accept: "application/json", ...auth.headers };
    if (opts.body !== undefined) headers["content-type"] = opts.contentType ?? "application/json";
    const ro: HttpsRequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers,
      agent: this.agent,
      signal: opts.signal,
    };
    if (url.protocol === "https:") {
      ro.ca = auth.ca;
      ro.cert = auth.cert;
      ro.key = auth.key;
      ro.rejectUnauthorized = auth.rejectUnauthorized;
      ro.servername = auth.servername;
    }
    return { ro, auth };
  }

  private send(method: string, path: string, opts: CallOptions): Promise<IncomingMessage> {
    return this.options(method, path, opts).then(
      ({ ro, auth }) =>
        new Promise<IncomingMessage>((resolve, reject) => {
          const req = (ro.protocol === "https:" ? httpsRequest : httpRequest)(ro, (res) => {
            // Refused credentials: the next call re-reads the token file or re-runs the exec plugin.
            if (res.statusCode === 401) this.credentials.invalidate(auth);
            resolve(res);
          });
          req.on("error", (e) =>
            reject(new UnavailableError(0, `${method} ${path}: ${e.message}`, undefined, { cause: e })),
          );
          if (opts.timeoutMs !== 0) {
            req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
          }
          if (opts.body !== undefined) {
            const payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
            // Node frames bodies of DELETE (and GET) only with an explicit length; without it the
            // server ignores the body and reads it as the next request on the kept-alive socket.
            req.setHeader("content-length", Buffer.byteLength(payload));
            req.end(payload);
          } else req.end();
        }),
    );
  }

  /** request makes one call and returns its parsed JSON body, or throws a typed ApiError. */
  async request<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
    } catch (e) {
      throw new UnavailableError(0, `${method} ${path}: ${(e as Error).message}`, undefined, { cause: e });
    }
    const text = Buffer.concat(chunks).toString("utf8");
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return (text ? JSON.parse(text) : undefined) as T;
    let status: Status | undefined;
    try {
      status = JSON.parse(text) as Status;
    } catch {
      status = { message: text.slice(0, 500) };
    }
    throw errorFor(code, status, `${method} ${path}`);
  }

  /** text makes a GET whose answer is plain text (a pod's log). */
  async text(path: string, opts: CallOptions = {}): Promise<string> {
    const res = await this.send("GET", path, opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return body;
    let status: Status | undefined;
    try {
      status = JSON.parse(body) as Status;
    } catch {
      status = { message: body.slice(0, 500) };
    }
    throw errorFor(code, status, `GET ${path}`);
  }

  /** get reads one object. */
  get<T>(path: string, opts?: CallOptions): Promise<T> {
    return this.request<T>("GET", path, opts);
  }
  /** create posts a new object to a collection path. */
  create<T>(path: string, body: unknown, opts?: CallOptions): Promise<T> {
    return this.request<T>("POST", path, { ...opts, body });
  }
  /** replace puts a whole object (its metadata.resourceVersion makes it conditional). */
  replace<T>(path: string, body: unknown, opts?: CallOptions): Promise<T> {
    return this.request<T>("PUT", path, { ...opts, body });
  }
  /** mergePatch applies a JSON merge patch. */
  mergePatch<T>(path: string, patch: unknown, opts?: CallOptions): Promise<T> {
    return this.request<T>("PATCH", path, { ...opts, body: patch, contentType: MergePatch });
  }
  /** delete removes an object. */
  delete<T>(path: string, opts?: CallOptions): Promise<T> {
    return this.request<T>("DELETE", path, opts);
  }

  /**
   * bound returns this client's calls with signal added to each, so that one reconcile's calls
   * stop when its timeout fires or the controller gives up on it at shutdown.
   */
  bound(signal: AbortSignal): Calls {
    const merge = (opts?: CallOptions): CallOptions => ({
      ...opts,
      signal: opts?.signal ? AbortSignal.any([opts.signal, signal]) : signal,
    });
    return {
      request: <T>(method: string, path: string, opts?: CallOptions) =>
        this.request<T>(method, path, merge(opts)),
      get: <T>(path: string, opts?: CallOptions) => this.get<T>(path, merge(opts)),
      create: <T>(path: string, body: unknown, opts?: CallOptions) => this.create<T>(path, body, merge(opts)),
      replace: <T>(path: string, body: unknown, opts?: CallOptions) =>
        this.replace<T>(path, body, merge(opts)),
      mergePatch: <T>(path: string, patch: unknown, opts?: CallOptions) =>
        this.mergePatch<T>(path, patch, merge(opts)),
      delete: <T>(path: string, opts?: CallOptions) => this.delete<T>(path, merge(opts)),
    };
  }

  /**
   * lines opens a streaming GET (a watch or a log follow) and yields its lines. It throws a typed
   * error when the server refuses the stream, and ends when the server closes it.
   */
  async *lines(path: string, opts: CallOptions & { idleTimeoutMs?: number } = {}): AsyncGenerator<string> {
    const res = await this.send("GET", path, { ...opts, timeoutMs: 0 });
    const code = res.statusCode ?? 0;
    if (code < 200 || code >= 300) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let status: Status | undefined;
      try {
        status = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Status;
      } catch {
        status = undefined;
      }
      throw errorFor(code, status, `GET ${path}`);
    }
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (!opts.idleTimeoutMs) return;
      clearTimeout(idle);
      idle = setTimeout(
        () => res.destroy(new Error(`no data for ${opts.idleTimeoutMs} ms`)),
        opts.idleTimeoutMs,
      );
    };
    arm();
    const rl = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of rl) {
        arm();
        yield line;
      }
    } catch (e) {
      throw new UnavailableError(0, `GET ${path}: stream ended: ${(e as Error).message}`, undefined, {
        cause: e,
      });
    } finally {
      clearTimeout(idle);
      rl.close();
      res.destroy();
    }
  }

  /** close releases the keep-alive connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/** Paths builds API paths. */
export const paths = {
  /** collection is the path of a kind's objects, in a namespace or across all (namespace undefined). */
  collection(apiVersion: string, plural: string, namespace?: string): string {
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
  },
  /** object is the path of one namespaced object, with an optional subresource. */
  object(apiVersion: string, plural: string, namespace: string, name: string, sub?: string): string {
    const p = `${paths.collection(apiVersion, plural, namespace)}/${encodeURIComponent(name)}`;
    return sub ? `${p}/${sub}` : p;
  },
};
