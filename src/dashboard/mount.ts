/**
 * The dashboard inside `hpo-operator api`: a Mount of the API server (src/idds-api/server.ts) under
 * /dashboard, reading with the server's service account and asking, for each read on a browser's
 * behalf, whether its user may: the Bearer token the login proxy in front adds is checked with a
 * TokenReview, the read with a SubjectAccessReview (the iDDS API's Authorizer, which caches both).
 * See docs/dashboard.md ("In the cluster").
 */
import type { IncomingMessage } from "node:http";
import { type Authorizer, tokenOf } from "../idds-api/auth.ts";
import type { Mount } from "../idds-api/server.ts";
import type { KubeClient } from "../runtime/client.ts";
import { type Authorize, createDashboardHandler, type DashboardHandler } from "./handler.ts";
import { DashboardReader } from "./reader.ts";

/** DASHBOARD_PREFIX is where the API server serves the dashboard. */
export const DASHBOARD_PREFIX = "/dashboard";

/** groupOf is the API group of a resource the dashboard reads. */
export function groupOf(resource: string): string {
  if (resource === "hporequests" || resource === "hyperparametersets") return "hpo.dev";
  if (resource === "jobs") return "batch";
  return "";
}

/**
 * reviewAuthorize is the dashboard's Authorize hook for the cluster: the request's token names the
 * user (a TokenReview), and a SubjectAccessReview decides each verb on each resource in each
 * namespace; both through the iDDS API's Authorizer, which remembers answers briefly. A request
 * without a token, or with one the API server refuses, is answered 401.
 */
export function reviewAuthorize(auth: Authorizer): Authorize {
  return async (req: IncomingMessage, verb, resource, namespace) => {
    const user = await auth.authenticate(tokenOf(req.headers));
    return auth.allowed(user, { verb, resource, group: groupOf(resource) }, namespace);
  };
}

/** DashboardMount is the API server's mount of the dashboard, and how to end its watches. */
export interface DashboardMount extends Mount {
  close(): Promise<void>;
}

/** dashboardMount makes the dashboard's mount for the API server. */
export function dashboardMount(
  kube: KubeClient,
  auth: Authorizer,
  options: { namespaces?: string[]; maxPoints?: number } = {},
): DashboardMount {
  const handler: DashboardHandler = createDashboardHandler({
    reader: new DashboardReader(kube),
    basePath: DASHBOARD_PREFIX,
    authorize: reviewAuthorize(auth),
    namespaces: options.namespaces?.length ? options.namespaces : undefined,
    maxPoints: options.maxPoints,
  });
  return {
    prefix: DASHBOARD_PREFIX,
    handler: (req, res) => handler(req, res),
    close: () => handler.close(),
  };
}
