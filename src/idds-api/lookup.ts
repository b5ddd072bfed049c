/**
 * Finding the HPORequest an iDDS client names by number. request_id is the stable number derived
 * from the request's uid, workload_id the `hpo.dev/workload-id` annotation (else request_id), the
 * same numbers the operator's messages carry (src/messaging/messages.ts identityOf). The API server
 * keeps a cache of HPORequests (an informer) to look them up without listing; a number the cache
 * does not know yet (a request created a moment ago) is looked up again with a live list.
 */
import { type HPORequest, HPORequestResource } from "../api/index.ts";
import { identityOf } from "../messaging/messages.ts";
import { type KubeClient, paths } from "../runtime/client.ts";
import { Informer, type InformerLog } from "../runtime/informer.ts";
import { badRequest, noObject } from "./envelope.ts";
import type { NumericRef } from "./routes.ts";

/** matchRequests keeps the requests whose numbers match every number ref gives. Pure. */
export function matchRequests(reqs: readonly HPORequest[], ref: NumericRef): HPORequest[] {
  return reqs.filter((r) => {
    if (r.metadata?.deletionTimestamp) return false;
    const id = identityOf(r);
    return (
      (ref.requestId === undefined || id.requestId === ref.requestId) &&
      (ref.workloadId === undefined || id.workloadId === ref.workloadId)
    );
  });
}

/** describeRef names ref in messages: "workload_id 7 and request_id 9". */
export function describeRef(ref: NumericRef): string {
  const parts = [
    ref.workloadId === undefined ? "" : `workload_id ${ref.workloadId}`,
    ref.requestId === undefined ? "" : `request_id ${ref.requestId}`,
  ].filter(Boolean);
  return parts.join(" and ");
}

/**
 * pickOne is the one request of the matches, or an error: NoObject when none, BadRequest when a
 * workload_id names several (two requests annotated with one PanDA task): request_id tells them apart.
 */
export function pickOne(matches: readonly HPORequest[], ref: NumericRef): HPORequest {
  if (matches.length === 1) return matches[0] as HPORequest;
  if (matches.length === 0) throw noObject(`no HPORequest has ${describeRef(ref)}`);
  throw badRequest(
    `${describeRef(ref)} names ${matches.length} HPORequests: give request_id too (the request's status.notification.requestId)`,
  );
}

/** RequestLookup finds requests by number: from its cache, else from a live list. */
export class RequestLookup {
  private readonly informer: Informer<HPORequest>;
  private readonly kube: KubeClient;
  private readonly namespaces: string[];

  constructor(kube: KubeClient, namespaces: string[], log: InformerLog) {
    this.kube = kube;
    this.namespaces = namespaces;
    this.informer = new Informer<HPORequest>({
      client: kube,
      apiVersion: HPORequestResource.apiVersion,
      plural: HPORequestResource.plural,
      namespaces,
      log,
    });
  }

  /** start begins watching the requests; synced resolves after the first list. */
  start(): Promise<void> {
    this.informer.start();
    return this.informer.waitForSync();
  }

  /** synced tells whether the cache has been filled once (readiness). */
  synced(): boolean {
    return this.informer.hasSynced();
  }

  /** stop ends the watches. */
  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** find returns the one request ref names (NoObject or BadRequest otherwise). */
  async find(ref: NumericRef): Promise<HPORequest> {
    return pickOne(await this.findAll(ref), ref);
  }

  /** findAll returns every request ref names: from the cache, else from a live list. */
  async findAll(ref: NumericRef): Promise<HPORequest[]> {
    const cached = matchRequests(this.informer.list(), ref);
    if (cached.length > 0) return cached;
    return matchRequests(await this.listLive(), ref);
  }

  /** remember puts a request this server just created into the cache. */
  remember(req: HPORequest): void {
    this.informer.upsert(req);
  }

  private async listLive(): Promise<HPORequest[]> {
    const scopes = this.namespaces.length ? this.namespaces : [undefined];
    const lists = await Promise.all(
      scopes.map((ns) =>
        this.kube.get<{ items: HPORequest[] }>(
          paths.collection(HPORequestResource.apiVersion, HPORequestResource.plural, ns),
        ),
      ),
    );
    const items = lists.flatMap((l) => l.items);
    for (const item of items) this.informer.upsert(item);
    return items;
  }
}
