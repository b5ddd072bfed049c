/**
 * How a KubeClient's requests reach the API server. Each request gets its TLS material and headers
 * from client-node's KubeConfig.applyToHTTPSOptions (CA, client certificate, exec plugins, OIDC
 * refresh, token files, impersonation), and then goes over one of two agents of ours, so that
 * watches and log streams, which hold a connection each for minutes, never take the sockets that
 * calls need:
 *
 *   calls     keep-alive, at most 64 sockets: gets, creates, updates, patches, deletes;
 *   streams   one socket per stream, no limit.
 *
 * Around it: a client-side rate limit (ratelimit.ts, client-go's QPS/Burst), a User-Agent, retries
 * after 429 (and 503 on idempotent calls) when the server sends Retry-After, and client-go's
 * request metrics. Certificate checks are always on unless the cluster says
 * insecure-skip-tls-verify (NODE_TLS_REJECT_UNAUTHORIZED changes nothing), and a server whose
 * certificate is not trusted is refused with an UntrustedServerError that says what to fix.
 * Proxies: the cluster's proxy-url, else HTTPS_PROXY/HTTP_PROXY and NO_PROXY as client-go reads
 * them (never for localhost or loopback addresses), through Node's built-in proxy support.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import { isIP } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "./clock.ts";
import { type CredentialsGuard, guardCredentials } from "./credentials-guard.ts";
import { CredentialError, UnavailableError, UntrustedServerError } from "./errors.ts";
import { RateLimiter } from "./ratelimit.ts";

/** RequestMetrics receive one observation per request that got an answer or failed. */
export interface RequestMetrics {
  /** observe counts a request: its method, the server's host, the HTTP code (or "<error>") and its latency. */
  observe(method: string, host: string, code: string, seconds: number): void;
}

/** TransportOptions tune a Transport. */
export interface TransportOptions {
  /** qps and burst: client-go's rate limit (default 100 and 200, see docs/operator.md); qps <= 0 turns it off. */
  qps?: number;
  burst?: number;
  userAgent: string;
  metrics?: RequestMetrics;
  /** execTimeoutMs bounds getting credentials, an exec plugin's run above all (default 30 s). */
  execTimeoutMs?: number;
  /** maxRetries after 429/503 with Retry-After (default 10, as client-go). */
  maxRetries?: number;
  /** env holds HTTPS_PROXY, HTTP_PROXY and NO_PROXY (default process.env, read once here). */
  env?: NodeJS.ProcessEnv;
  clock: Clock;
}

/** SendOptions are one request's. */
export interface SendOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** timeoutMs bounds each attempt while the server is silent; 0 = none (streams). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** stream: the request holds its connection (a watch, a log follow) and goes over the streams agent. */
  stream?: boolean;
}

interface Material {
  headers: Record<string, string | string[]>;
  tls: Pick<RequestOptions, "ca" | "cert" | "key" | "servername" | "rejectUnauthorized">;
}

const idempotent = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const untrusted = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * retryDelay is how long (ms) to wait before sending a request again after an answer, or undefined
 * when the answer stands: only 429, and 503 on idempotent methods, with a Retry-After in seconds
 * (client-go's rule), capped at 30 s, at most maxRetries times.
 */
export function retryDelay(
  method: string,
  code: number,
  retryAfter: string | undefined,
  attempt: number,
  maxRetries: number,
): number | undefined {
  if (attempt >= maxRetries || retryAfter === undefined) return undefined;
  if (code !== 429 && !(code === 503 && idempotent.has(method))) return undefined;
  const seconds = Number(retryAfter.trim());
  if (!Number.isInteger(seconds) || seconds < 0) return undefined;
  return Math.min(seconds, 30) * 1000;
}

/**
 * proxyEnv is the proxy configuration of Node's agents for server: the cluster's proxy-url, else
 * the environment's proxies, which (as in Go's net/http) are never used for localhost or loopback.
 */
export function proxyEnv(
  server: URL,
  proxyUrl: string | undefined,
  env: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv | undefined {
  if (proxyUrl) return { HTTPS_PROXY: proxyUrl, HTTP_PROXY: proxyUrl };
  const host = server.hostname.replace(/^\[|\]$/g, "");
  const loopback =
    host === "localhost" || host.endsWith(".localhost") || (isIP(host) !== 0 && /^(127\.|::1$)/.test(host));
  const proxy =
    server.protocol === "https:" ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy || loopback) return undefined;
  const key = server.protocol === "https:" ? "HTTPS_PROXY" : "HTTP_PROXY";
  return { [key]: proxy, NO_PROXY: env.NO_PROXY ?? env.no_proxy ?? "" };
}

/** Transport sends requests to the API server of a KubeConfig's current context. */
export class Transport {
  readonly server: URL;
  private readonly kc: KubeConfig;
  private readonly opts: TransportOptions;
  private readonly limiter: RateLimiter;
  private readonly guard: CredentialsGuard;
  private readonly calls: HttpAgent;
  private readonly streams: HttpAgent;
  private pending: Promise<Material> | undefined;

  constructor(kc: KubeConfig, opts: TransportOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the KubeConfig has no current cluster (load it with loadKubeConfig)");
    this.kc = kc;
    this.opts = opts;
    this.server = new URL(cluster.server);
    this.limiter = new RateLimiter(opts.qps ?? 100, opts.burst ?? 200, opts.clock);
    this.guard = guardCredentials(kc, (opts.execTimeoutMs ?? 30_000) + 1000);
    const proxy = proxyEnv(this.server, cluster.proxyUrl, opts.env ?? process.env);
    const Agent = this.server.protocol === "https:" ? HttpsAgent : HttpAgent;
    this.calls = new Agent({ keepAlive: true, maxSockets: 64, ...(proxy ? { proxyEnv: proxy } : {}) });
    this.streams = new Agent({ keepAlive: false, ...(proxy ? { proxyEnv: proxy } : {}) });
  }

  /** user names the current user, for messages. */
  private get user(): string {
    return this.kc.getCurrentUser()?.name ?? "";
  }

  /** material gets the credentials of the current user; concurrent calls share one lookup. */
  private material(): Promise<Material> {
    this.pending ??= this.lookUp().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async lookUp(): Promise<Material> {
    const o: RequestOptions = { headers: {} };
    const ms = this.opts.execTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no credentials within ${ms / 1000} s (an exec plugin that hangs?)`)),
        ms,
      );
    });
    try {
      await Promise.race([this.kc.applyToHTTPSOptions(o), timeout]);
    } catch (e) {
      const msg = (e as Error).message.trim() || "the exec plugin failed without a message";
      throw new CredentialError(0, `cannot get the credentials of user "${this.user}": ${msg}`, undefined, {
        cause: e,
      });
    } finally {
      clearTimeout(timer);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(o.headers ?? {}))
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v : String(v).trim();
    if (o.auth) headers.authorization = `Basic ${Buffer.from(o.auth).toString("base64")}`;
    return {
      headers,
      // Always set: without it, NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment would turn checks off.
      tls: {
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        servername: o.servername,
        rejectUnauthorized: o.rejectUnauthorized !== false,
      },
    };
  }

  /**
   * send makes one request, waiting for the rate limit and retrying after Retry-After, and resolves
   * with the response (any status); it rejects with a typed error when no response came.
   */
  async send(method: string, path: string, opts: SendOptions): Promise<IncomingMessage> {
    const payload =
      opts.body === undefined
        ? undefined
        : typeof opts.body === "string"
          ? opts.body
          : JSON.stringify(opts.body);
    for (let attempt = 0; ; attempt++) {
      await this.limiter.wait(opts.signal);
      const res = await this.once(method, path, opts, payload);
      const header = res.headers["retry-after"];
      const wait = retryDelay(method, res.statusCode ?? 0, header, attempt, this.opts.maxRetries ?? 10);
      if (wait === undefined) return res;
      res.resume();
      await this.sleep(wait, opts.signal, `${method} ${path}`);
    }
  }

  private sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        cancel();
        reject(
          new UnavailableError(0, `${what}: cancelled while waiting to retry`, undefined, {
            cause: signal?.reason,
          }),
        );
      };
      const cancel = this.opts.clock.after(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private async once(
    method: string,
    path: string,
    opts: SendOptions,
    payload: string | undefined,
  ): Promise<IncomingMessage> {
    const auth = await this.material();
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string | string[]> = {
      accept: "application/json",
      "user-agent": this.opts.userAgent,
      ...auth.headers,
    };
    if (payload !== undefined) {
      headers["content-type"] = opts.contentType ?? "application/json";
      // Node frames bodies of DELETE (and GET) only with an explicit length; without it the
      // server ignores the body and reads it as the next request on the kept-alive socket.
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const https = url.protocol === "https:";
    // The TLS options go with each request, not the agent: the agent then keeps one pool per
    // certificate, so a client certificate that an exec plugin renews is used at once.
    const ro: RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers,
      agent: opts.stream ? this.streams : this.calls,
      signal: opts.signal,
      ...(https ? auth.tls : {}),
    };
    const started = this.opts.clock.now();
    const observe = (code: string) =>
      this.opts.metrics?.observe(method, this.server.host, code, (this.opts.clock.now() - started) / 1000);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(ro, (res) => {
        observe(String(res.statusCode ?? 0));
        // Refused credentials: the next call runs the exec plugin again or re-reads the token file.
        if (res.statusCode === 401) this.guard.forget();
        resolve(res);
      });
      req.on("error", (e) => {
        observe("<error>");
        reject(this.failure(method, path, e));
      });
      if (opts.timeoutMs !== 0)
        req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error("timed out")));
      req.end(payload);
    });
  }

  /** failure maps a request that got no answer to a typed error; an untrusted certificate says what to fix. */
  private failure(method: string, path: string, e: Error): Error {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (untrusted.has(code)) {
      const cluster = this.kc.getCurrentCluster()?.name ?? "";
      const fix =
        code === "ERR_TLS_CERT_ALTNAME_INVALID"
          ? `reach it by a name its certificate holds, or set tls-server-name of cluster "${cluster}" in the kubeconfig`
          : `set certificate-authority-data (or certificate-authority) of cluster "${cluster}" in the kubeconfig to the CA that signed the server's certificate`;
      return new UntrustedServerError(
        0,
        `the API server ${this.server.origin} is not trusted: ${e.message} (${code}); ${fix}`,
        undefined,
        { cause: e },
      );
    }
    return new UnavailableError(0, `${method} ${path}: ${e.message}`, undefined, { cause: e });
  }

  /** close releases the connections of both agents. */
  close(): void {
    this.calls.destroy();
    this.streams.destroy();
  }
}
