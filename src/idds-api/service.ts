/**
 * IddsService answers the iDDS REST routes: it authenticates the caller, finds the request the
 * numbers name, checks the caller's right in the request's namespace, and reads (through the
 * project's client, HpoClient, which routes across the sharded HyperParameterSets) or reports (the
 * coalescing LossWriter). Every outcome, good or bad, becomes a Reply in iDDS's form (envelope.ts).
 */
import type { IncomingHttpHeaders } from "node:http";
import type { HPORequest, Point } from "../api/index.ts";
import { UnknownPointError } from "../client/errors.ts";
import type { HpoClient } from "../client/index.ts";
import { selectPoints } from "../client/model.ts";
import { type Action, type Authorizer, READ, REPORT, SUBMIT, tokenOf, type User } from "./auth.ts";
import { failure, IddsError, noObject, type Reply, success, wantsJsonOutputs } from "./envelope.ts";
import type { RequestLookup } from "./lookup.ts";
import { fromIddsId, parseLimit, parseLoss, parseStatus, toIddsPoint } from "./points.ts";
import { type NumericRef, type Route, routeOf } from "./routes.ts";
import { asIddsError, type LossWriter } from "./writer.ts";

/** Incoming is what the service reads of an HTTP request. */
export interface Incoming {
  method: string;
  /** path after the prefix, from "/". */
  path: string;
  search: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** body reads the request body (add_request). */
  body: () => Promise<string>;
}

/** RequestRoutes serve add_request and get_requests (the iDDS request → HPORequest translation). */
export interface RequestRoutes {
  /** add creates an HPORequest from an iDDS request body for user; it returns its request_id. */
  add(body: string, user: User, authorize: (namespace: string) => Promise<void>): Promise<unknown>;
  /** rows answers get_requests for the requests found (the caller may read each). */
  rows(reqs: HPORequest[]): unknown;
}

/** ServiceDeps are the service's collaborators. */
export interface ServiceDeps {
  auth: Authorizer;
  lookup: RequestLookup;
  client: HpoClient;
  writer: LossWriter;
  requests?: RequestRoutes;
  /** onError is told about unexpected failures (500s), for the log. */
  onError?: (err: unknown, route: string) => void;
}

/** IddsService answers one request at a time; it holds no state of its own beyond caches. */
export class IddsService {
  private readonly deps: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.deps = deps;
  }

  /** handle answers one HTTP request; it never throws. */
  async handle(req: Incoming): Promise<{ reply: Reply; route: string }> {
    const json = wantsJsonOutputs(req.search);
    let route: Route | undefined;
    try {
      route = routeOf(req.method, req.path);
      const user = await this.deps.auth.authenticate(tokenOf(req.headers));
      return { reply: success(await this.answer(route, user, req), json), route: route.kind };
    } catch (e) {
      const err = asIddsError(e);
      if (err.status >= 500) this.deps.onError?.(e, route?.kind ?? "unknown");
      return { reply: failure(err, json), route: route?.kind ?? "unknown" };
    }
  }

  private async answer(route: Route, user: User, req: Incoming): Promise<unknown> {
    switch (route.kind) {
      case "ping":
        return { Status: "OK" };
      case "getHyperParameters":
        return this.getHyperParameters(route, user);
      case "updateHyperParameter":
        return this.updateHyperParameter(route, user);
      case "addRequest": {
        const routes = this.requestRoutes();
        return routes.add(await req.body(), user, (ns) => this.deps.auth.authorize(user, SUBMIT, ns));
      }
      case "getRequests":
        return this.requestRoutes().rows(await this.readable(route.ref, user));
    }
  }

  private requestRoutes(): RequestRoutes {
    if (this.deps.requests) return this.deps.requests;
    throw new IddsError(404, "IDDSException", "add_request and get_requests are not served by this server");
  }

  /**
   * readable lists the requests ref names that user may read: none found is [] (as iDDS answers);
   * found but none readable is the first 403.
   */
  private async readable(ref: NumericRef, user: User): Promise<HPORequest[]> {
    const found = await this.deps.lookup.findAll(ref);
    const checks = await Promise.allSettled(
      found.map((r) => this.deps.auth.authorize(user, READ, r.metadata?.namespace ?? "")),
    );
    const allowed = found.filter((_, i) => checks[i]?.status === "fulfilled");
    const refused = checks.find((c) => c.status === "rejected");
    if (allowed.length === 0 && refused) throw refused.reason;
    return allowed;
  }

  /** find looks the request up and checks that user may do action in its namespace. */
  private async find(ref: NumericRef, user: User, action: Action): Promise<HPORequest> {
    const req = await this.deps.lookup.find(ref);
    await this.deps.auth.authorize(user, action, req.metadata?.namespace ?? "");
    return req;
  }

  private async getHyperParameters(
    route: Extract<Route, { kind: "getHyperParameters" }>,
    user: User,
  ): Promise<unknown> {
    const status = route.status === undefined ? undefined : parseStatus(route.status);
    const limit = route.limit === undefined ? undefined : parseLimit(route.limit);
    const id = route.id === undefined ? undefined : fromIddsId(route.id);
    const req = await this.find(route.ref, user, READ);
    const ref = refOf(req);
    const { client } = this.deps;
    let points: Point[];
    if (id === undefined) points = await client.getHyperParameters(ref, { status, limit });
    else {
      const one = await client.getHyperParameter(ref, id).catch((e: unknown) => {
        if (e instanceof UnknownPointError) return undefined;
        throw e;
      });
      // iDDS filters the one point by status too, and answers [] when nothing matches.
      points = one ? selectPoints([one], { status }) : [];
    }
    return points.map(toIddsPoint);
  }

  private async updateHyperParameter(
    route: Extract<Route, { kind: "updateHyperParameter" }>,
    user: User,
  ): Promise<unknown> {
    const loss = parseLoss(route.loss);
    const id = fromIddsId(route.id);
    if (id === "0")
      throw noObject("there is no point 0: point ids start at 1, as get_hyperparameters returns them");
    const req = await this.find(route.ref, user, REPORT);
    const perSet =
      req.status?.pointsPerSet ?? (await this.deps.client.getRequest(refOf(req))).status?.pointsPerSet;
    if (!perSet) {
      throw new IddsError(404, "NoObject", `HPORequest "${req.metadata?.name}" has no points yet`);
    }
    await this.deps.writer.report(req, perSet, { id, loss });
    return { status: 0, message: "update successfully" };
  }
}

function refOf(req: HPORequest): { namespace: string; name: string } {
  return { namespace: req.metadata?.namespace ?? "", name: req.metadata?.name ?? "" };
}
