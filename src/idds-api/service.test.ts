import { describe, expect, it } from "vitest";
import type { HPORequest, Point } from "../api/index.ts";
import type { HpoClient } from "../client/index.ts";
import type { Authorizer, User } from "./auth.ts";
import { forbidden } from "./auth.ts";
import type { RequestLookup } from "./lookup.ts";
import { IddsService, type Incoming } from "./service.ts";
import type { LossWriter } from "./writer.ts";

const req = {
  metadata: { name: "r", namespace: "team", uid: "00000000-0000-1000-0000-000000000000" },
  spec: {},
  status: { pointsPerSet: 10 },
} as unknown as HPORequest;
const point = (id: string, loss?: number): Point => ({
  id,
  params: { x: Number(id) },
  generation: 1,
  state: loss === undefined ? "New" : "Evaluated",
  ...(loss === undefined ? {} : { loss }),
  set: "r-1",
});

/** fakes: who may do what, and what the "cluster" holds. */
function service(allowed: string[]) {
  const calls: string[] = [];
  const auth = {
    authenticate: async (token: string): Promise<User> => {
      calls.push(`authenticate ${token}`);
      return { username: "alice" };
    },
    authorize: async (user: User, action: { verb: string }, ns: string) => {
      calls.push(`authorize ${action.verb} ${ns}`);
      if (!allowed.includes(action.verb)) throw forbidden(user, action as never, ns);
    },
  } as unknown as Authorizer;
  const lookup = {
    find: async () => req,
    findAll: async () => [req],
  } as unknown as RequestLookup;
  const client = {
    getHyperParameters: async (_r: unknown, q: { status?: string; limit?: number }) =>
      [point("1", 0.5), point("2")].filter((p) => !q.status || (q.status === "new") === (p.state === "New")),
    getHyperParameter: async (_r: unknown, id: string) => point(id),
  } as unknown as HpoClient;
  const reports: unknown[] = [];
  const writer = {
    report: async (_r: HPORequest, perSet: number, report: unknown) => {
      reports.push({ perSet, report });
      return "write";
    },
  } as unknown as LossWriter;
  return { svc: new IddsService({ auth, lookup, client, writer }), calls, reports };
}

const incoming = (
  method: string,
  path: string,
  headers: Record<string, string> = {},
  query = "",
): Incoming => ({
  method,
  path,
  search: new URLSearchParams(query),
  headers,
  body: async () => "",
});
const token = { "x-idds-auth-type": "oidc", "x-idds-auth-token": "t" };

describe("IddsService", () => {
  it("answers an unknown path 404 before it looks at the token", async () => {
    const { svc, calls } = service(["get"]);
    const { reply } = await svc.handle(incoming("GET", "/nothing"));
    expect(reply.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it("answers a missing token 401, plainly even with json_outputs", async () => {
    const { svc } = service(["get"]);
    const { reply } = await svc.handle(
      incoming("GET", "/hpo/null/1/null/null/null", {}, "json_outputs=true"),
    );
    expect(reply.status).toBe(401);
    expect(reply.headers.ExceptionClass).toBe("IDDSException");
  });

  it("reads points in iDDS's form after checking get in the request's namespace", async () => {
    const { svc, calls } = service(["get"]);
    const { reply, route } = await svc.handle(incoming("GET", "/hpo/null/1/null/New/null", token));
    expect(route).toBe("getHyperParameters");
    expect(JSON.parse(reply.body as string)).toEqual([{ id: "2", loss: null, parameters: { x: 2 } }]);
    expect(calls).toEqual(["authenticate t", "authorize get team"]);
  });

  it("reports with patch rights only, through the writer, with the request's pointsPerSet", async () => {
    const denied = service(["get"]);
    const no = await denied.svc.handle(incoming("PUT", "/hpo/null/1/2/0.5", token));
    expect(no.reply.status).toBe(403);
    expect(denied.reports).toEqual([]);
    const ok = service(["patch"]);
    const yes = await ok.svc.handle(incoming("PUT", "/hpo/null/1/2/0.5", token));
    expect(JSON.parse(yes.reply.body as string)).toEqual({ message: "update successfully", status: 0 });
    expect(ok.reports).toEqual([{ perSet: 10, report: { id: "2", loss: 0.5 } }]);
  });

  it("refuses point 0 with a hint, and a loss that is not a number before any lookup", async () => {
    const { svc, calls } = service(["patch"]);
    const zero = await svc.handle(incoming("PUT", "/hpo/null/1/0/0.5", token));
    expect(zero.reply.status).toBe(404);
    expect(zero.reply.headers.ExceptionMessage).toContain("point ids start at 1");
    const nan = await svc.handle(incoming("PUT", "/hpo/null/1/3/nan", token));
    expect(nan.reply.status).toBe(400);
    expect(calls.filter((c) => c.startsWith("authorize"))).toEqual([]);
  });

  it("answers add_request 404 when no request routes are configured", async () => {
    const { svc } = service(["create"]);
    const { reply } = await svc.handle(incoming("POST", "/request", token));
    expect(reply.status).toBe(404);
  });
});
