/**
 * add_request and get_requests: an iDDS HyperParameterOpt request becomes an HPORequest (the
 * translation of `hpo-operator convert-idds`, src/idds/convert.ts), and a request is shown as the
 * row iDDS's get_requests answers with (src/idds/status.ts).
 *
 * The namespace of a new HPORequest (see docs/idds-api.md): `--request-namespace` when set, else
 * the namespace of the caller's service account (`system:serviceaccount:<namespace>:<name>`), else
 * "default". The caller needs `create` on hporequests there. Its name: `hpo-<workload_id>` when
 * the request has a workload_id, else a generated `hpo-xxxxx`.
 */
import { type HPORequest, HPORequestResource } from "../api/index.ts";
import { convertIddsRequest, IddsConversionError } from "../idds/convert.ts";
import { iddsRequestStatus } from "../idds/status.ts";
import { identityOf } from "../messaging/messages.ts";
import { type KubeClient, paths } from "../runtime/client.ts";
import { AlreadyExistsError, InvalidError } from "../runtime/errors.ts";
import type { User } from "./auth.ts";
import { badRequest, IddsError } from "./envelope.ts";
import type { RequestLookup } from "./lookup.ts";
import type { RequestRoutes } from "./service.ts";

/** namespaceFor is where add_request creates the caller's HPORequest. Pure. */
export function namespaceFor(user: User, configured: string): string {
  if (configured) return configured;
  const sa = /^system:serviceaccount:([^:]+):[^:]+$/.exec(user.username);
  return sa?.[1] ?? "default";
}

/** parseBody reads add_request's JSON body; BadRequest with iDDS's message when it is not JSON. */
export function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw badRequest("Cannot decode json parameter dictionary");
  }
}

/** RequestRoutesOptions configure the add_request and get_requests routes. */
export interface RequestRoutesOptions {
  kube: KubeClient;
  lookup: RequestLookup;
  /** requestNamespace: --request-namespace ("" for the rule of namespaceFor). */
  requestNamespace: string;
}

/** requestRoutes serves add_request (creating HPORequests) and get_requests. */
export function requestRoutes(opts: RequestRoutesOptions): RequestRoutes {
  return {
    async add(body, user, authorize) {
      const namespace = namespaceFor(user, opts.requestNamespace);
      await authorize(namespace);
      let manifest: HPORequest;
      try {
        manifest = convertIddsRequest(parseBody(body), { namespace });
      } catch (e) {
        if (e instanceof IddsConversionError) throw badRequest(e.message);
        throw e;
      }
      const created = await create(opts.kube, namespace, manifest);
      opts.lookup.remember(created);
      return { request_id: identityOf(created).requestId };
    },
    rows(reqs) {
      return reqs.map((r) => iddsRequestStatus(r));
    },
  };
}

async function create(kube: KubeClient, namespace: string, manifest: HPORequest): Promise<HPORequest> {
  try {
    return await kube.create<HPORequest>(
      paths.collection(HPORequestResource.apiVersion, HPORequestResource.plural, namespace),
      manifest,
    );
  } catch (e) {
    if (e instanceof AlreadyExistsError) {
      throw new IddsError(
        409,
        "DuplicatedObject",
        `HPORequest "${manifest.metadata?.name}" already exists in namespace ${namespace}: a request with this workload_id was added before`,
      );
    }
    if (e instanceof InvalidError) throw badRequest(`the API server refused the HPORequest: ${e.message}`);
    throw e;
  }
}
