/**
 * Our Kubernetes REST client: the configuration and each request's credentials come from
 * @kubernetes/client-node's KubeConfig (clientconfig.ts loads it as kubectl does); transport.ts
 * sends the requests (separate agents for calls and streams, rate limit, Retry-After, metrics);
 * failures become the typed errors of errors.ts. Streams (watch, logs) are exposed as async line
 * iterators.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { arch, platform } from "node:os";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig as load } from "./clientconfig.ts";

export { ContextNotFoundError, KubeconfigError } from "./clientconfig.ts";

import { type Clock, realClock } from "./clock.ts";
import { errorFor, type Status, UnavailableError } from "./errors.ts";
import { type RequestMetrics, type SendOptions, Transport } from "./transport.ts";

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
 * ~/.kube/config, else in-cluster (clientconfig.ts), with the context's cluster and user. It throws
 * a KubeconfigError whose message says what is wrong.
 */
export function loadKubeConfig(file?: string, context?: string): KubeConfig {
  return load({ file, context });
}

/** userAgent is `hpo-operator/<version> (<os>/<arch>) node/<version>`, as client-go's default names its binary. */
export function userAgent(): string {
  let version = "unknown";
  try {
    version = (
      JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
    ).version;
  } catch {
    // an installation without package.json still talks to the API server
  }
  return `hpo-operator/${version} (${platform()}/${arch()}) node/${process.version}`;
}

/** KubeClientOptions tune a KubeClient's transport. */
export interface KubeClientOptions {
  /** qps and burst of the client-side rate limit (default 100 and 200); qps <= 0 turns it off. */
  qps?: number;
  burst?: number;
  /** metrics receive rest_client_* observations. */
  metrics?: RequestMetrics;
  /** execTimeoutMs bounds an exec credential plugin's run (default 30 s). */
  execTimeoutMs?: number;
  userAgent?: string;
  clock?: Clock;
  /** env holds the proxy variables (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** ResponseTooLargeError is an answer longer than the caller's maxBytes; the rest is not read. */
export class ResponseTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(message: string, maxBytes: number) {
    super(message);
    this.name = "ResponseTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/** KubeClient makes API calls against the cluster of a KubeConfig's current context. */
export class KubeClient {
  readonly server: URL;
  readonly config: KubeConfig;
  private readonly transport: Transport;

  constructor(config: KubeConfig, options: KubeClientOptions = {}) {
    this.config = config;
    this.transport = new Transport(config, {
      ...options,
      userAgent: options.userAgent ?? userAgent(),
      clock: options.clock ?? realClock,
    });
    this.server = this.transport.server;
  }

  /** namespace is the current context's namespace (or "default"). */
  get namespace(): string {
    return this.config.getContextObject(this.config.getCurrentContext())?.namespace?.trim() || "default";
  }

  private send(method: string, path: string, opts: SendOptions): Promise<IncomingMessage> {
    return this.transport.send(method, path, opts);
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

  /**
   * text makes a GET whose answer is plain text (a pod's log). With maxBytes, an answer longer than
   * that is not read on: it throws ResponseTooLargeError, whatever the server sends.
   */
  async text(path: string, opts: CallOptions & { maxBytes?: number } = {}): Promise<string> {
    const res = await this.send("GET", path, opts);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res) {
      chunks.push(c as Buffer);
      size += (c as Buffer).length;
      if (opts.maxBytes !== undefined && size > opts.maxBytes) {
        res.destroy();
        throw new ResponseTooLargeError(
          `GET ${path}: the answer is over ${opts.maxBytes} bytes`,
          opts.maxBytes,
        );
      }
    }
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
    const res = await this.send("GET", path, { ...opts, timeoutMs: 0, stream: true });
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

  /** close releases the connections. */
  close(): void {
    this.transport.close();
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
