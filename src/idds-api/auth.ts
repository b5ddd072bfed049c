/**
 * Who is calling, and may they? Tokens come as iDDS clients send them (`X-IDDS-Auth-Type: oidc`
 * with `X-IDDS-Auth-Token`) or as `Authorization: Bearer`; the Kubernetes API server checks them
 * (TokenReview), so service-account tokens and any OIDC issuer the cluster trusts work. Each action
 * is authorised by a SubjectAccessReview in the request's namespace. Both answers are remembered
 * briefly (TtlCache). X.509 proxies are not supported.
 */
import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { KubeClient } from "../runtime/client.ts";
import { IddsError } from "./envelope.ts";
import { TtlCache } from "./ttlcache.ts";

/** User is an authenticated caller, as the TokenReview names it. */
export interface User {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Action is what a route needs the caller to be allowed: a verb on a resource (of hpo.dev by default). */
export interface Action {
  verb: string;
  resource: string;
  /** The resource's API group (default hpo.dev; "" for the core group, as the dashboard's events). */
  group?: string;
}

/** READ, REPORT and SUBMIT are the three actions of the iDDS routes. */
export const READ: Action = { verb: "get", resource: "hyperparametersets" };
export const REPORT: Action = { verb: "patch", resource: "hyperparametersets" };
export const SUBMIT: Action = { verb: "create", resource: "hporequests" };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v)?.trim() || undefined;
}

/**
 * tokenOf reads the caller's token: X-IDDS-Auth-Token when X-IDDS-Auth-Type is oidc, else a Bearer
 * Authorization header. It throws the 401 idds-client shows (IDDSException) when there is none.
 */
export function tokenOf(headers: IncomingHttpHeaders): string {
  const type = header(headers, "X-IDDS-Auth-Type");
  const idds = header(headers, "X-IDDS-Auth-Token");
  if (type?.toLowerCase() === "oidc" && idds) return idds;
  const bearer = /^Bearer\s+(\S+)$/i.exec(header(headers, "Authorization") ?? "");
  if (bearer?.[1]) return bearer[1];
  if (type && type.toLowerCase() !== "oidc") {
    throw unauthorized(
      `authentication type ${type} is not supported: use auth_type oidc with a Kubernetes token ` +
        "(X.509 proxies are not supported by hpo-operator)",
    );
  }
  throw unauthorized(
    "no token: send a Kubernetes token (auth_type oidc with oidc_token, or an Authorization: Bearer header)",
  );
}

/** unauthorized is the 401 of a missing or refused token, in iDDS's authentication error form. */
export function unauthorized(message: string): IddsError {
  return new IddsError(401, "IDDSException", message, { plain: true });
}

/** forbidden is the 403 of a caller without the right (AuthenticationNoPermission for idds-client). */
export function forbidden(user: User, action: Action, namespace: string): IddsError {
  return new IddsError(
    403,
    "AuthenticationNoPermission",
    `User ${user.username} has no permission to ${action.verb} ${action.resource} (hpo.dev) in namespace ${namespace}`,
  );
}

/** AuthOptions tune the Authorizer. */
export interface AuthOptions {
  /** cacheTtlMs: how long a TokenReview or SubjectAccessReview answer is kept (default 10 s). */
  cacheTtlMs?: number;
  /** audiences asked of the TokenReview (default: the API server's). */
  audiences?: string[];
  now?: () => number;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: User;
  error?: string;
}

/** Authorizer checks tokens (TokenReview) and rights (SubjectAccessReview) with the API server. */
export class Authorizer {
  private readonly kube: KubeClient;
  private readonly tokens: TtlCache<TokenReviewStatus>;
  private readonly rights: TtlCache<boolean>;
  private readonly audiences: string[] | undefined;

  constructor(kube: KubeClient, options: AuthOptions = {}) {
    this.kube = kube;
    const ttlMs = options.cacheTtlMs ?? 10_000;
    this.tokens = new TtlCache({ ttlMs, now: options.now });
    this.rights = new TtlCache({ ttlMs, now: options.now });
    this.audiences = options.audiences;
  }

  /** authenticate returns the token's user, or throws the 401 of a token the API server refuses. */
  async authenticate(token: string): Promise<User> {
    const key = createHash("sha256").update(token).digest("hex");
    const status = await this.tokens.get(key, () => this.review(token));
    if (!status.authenticated || !status.user?.username) {
      throw unauthorized(
        `the token was refused by the Kubernetes API server${status.error ? `: ${status.error}` : ""}`,
      );
    }
    return status.user;
  }

  /** authorize throws the 403 when user may not do action in namespace. */
  async authorize(user: User, action: Action, namespace: string): Promise<void> {
    if (!(await this.allowed(user, action, namespace))) throw forbidden(user, action, namespace);
  }

  /** allowed tells whether user may do action in namespace (a SubjectAccessReview, remembered briefly). */
  allowed(user: User, action: Action, namespace: string): Promise<boolean> {
    const key = JSON.stringify([
      user.username,
      user.uid,
      user.groups,
      action.verb,
      action.group ?? "hpo.dev",
      action.resource,
      namespace,
    ]);
    return this.rights.get(key, () => this.access(user, action, namespace));
  }

  private async review(token: string): Promise<TokenReviewStatus> {
    const res = await this.kube.create<{ status?: TokenReviewStatus }>(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, ...(this.audiences ? { audiences: this.audiences } : {}) },
      },
    );
    return res.status ?? {};
  }

  private async access(user: User, action: Action, namespace: string): Promise<boolean> {
    const res = await this.kube.create<{ status?: { allowed?: boolean } }>(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: user.username,
          uid: user.uid,
          groups: user.groups,
          extra: user.extra,
          resourceAttributes: {
            namespace,
            verb: action.verb,
            group: action.group ?? "hpo.dev",
            resource: action.resource,
          },
        },
      },
    );
    return res.status?.allowed === true;
  }
}
