/**
 * The iDDS REST routes this server answers, read from a request's method and path (after the
 * prefix), with iDDS's URL forms (idds/rest/v1/*.py `add_url_rule`) and `null` placeholders. Pure.
 *
 *   GET  /hpo/<workload_id>/<request_id>/<id>/<status>/<limit>   get_hyperparameters
 *   PUT  /hpo/<workload_id>/<request_id>/<id>/<loss>             update_hyperparameter
 *   POST /request                                                 add_request
 *   GET  /request/<request_id>/<workload_id>/<with_detail>[/<with_metadata>[/<with_transform>[/<with_processing>]]]
 *                                                                 get_requests
 *   GET  /ping                                                    ping
 */
import { badRequest, IddsError } from "./envelope.ts";

/** NumericRef names a request by iDDS's numbers; at least one is set. */
export interface NumericRef {
  workloadId?: number;
  requestId?: number;
}

/** Route is what a request asks for. */
export type Route =
  | { kind: "getHyperParameters"; ref: NumericRef; id?: string; status?: string; limit?: string }
  | { kind: "updateHyperParameter"; ref: NumericRef; id: string; loss: string }
  | { kind: "addRequest" }
  | { kind: "getRequests"; ref: NumericRef }
  | { kind: "ping" };

/** nullable reads a path segment where the client writes `null` (or None, or nothing) for "not given". */
export function nullable(segment: string): string | undefined {
  const s = segment.trim();
  return s === "" || s === "null" || s === "None" ? undefined : s;
}

/** parseNumber reads a workload_id or request_id: a whole number. */
function parseNumber(segment: string, what: string): number | undefined {
  const s = nullable(segment);
  if (s === undefined) return undefined;
  if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw badRequest(
      `${what} ${JSON.stringify(s)} is not a number: iDDS ids are whole numbers, such as 1234`,
    );
  }
  return Number(s);
}

/** parseRef reads workload_id and request_id; one of them must be given (as iDDS requires). */
export function parseRef(workload: string, request: string): NumericRef {
  const ref: NumericRef = {
    workloadId: parseNumber(workload, "workload_id"),
    requestId: parseNumber(request, "request_id"),
  };
  if (ref.workloadId === undefined && ref.requestId === undefined) {
    throw badRequest("One of workload_id and request_id should not be None or empty");
  }
  return ref;
}

/** notDefined is iDDS's answer to a path or method it does not serve (404 or 405, IDDSException). */
function notDefined(status: 404 | 405, method: string, path: string): IddsError {
  const what = status === 404 ? "404 Not Found" : `405 Method Not Allowed (${method})`;
  return new IddsError(status, "IDDSException", `The requested REST API is not defined: ${what}: ${path}`, {
    plain: true,
  });
}

/** routeOf reads method and path (after the prefix, from "/") into a Route, or throws an IddsError. */
export function routeOf(method: string, path: string): Route {
  const parts = path.split("/").slice(1).map(decodeSegment);
  const [head, ...rest] = parts;
  const m = method.toUpperCase();
  const wrongMethod = () => notDefined(405, m, path);
  if (head === "hpo") {
    if (rest.length === 5) {
      if (m !== "GET") throw wrongMethod();
      const [w, r, id, status, limit] = rest as [string, string, string, string, string];
      return {
        kind: "getHyperParameters",
        ref: parseRef(w, r),
        id: nullable(id),
        status: nullable(status),
        limit: nullable(limit),
      };
    }
    if (rest.length === 4) {
      if (m !== "PUT") throw wrongMethod();
      const [w, r, id, loss] = rest as [string, string, string, string];
      return { kind: "updateHyperParameter", ref: parseRef(w, r), id, loss };
    }
  }
  if (head === "request") {
    if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) {
      if (m !== "POST") throw wrongMethod();
      return { kind: "addRequest" };
    }
    if (rest.length >= 3 && rest.length <= 6 && rest[0] !== "name" && rest[0] !== "abort") {
      if (m !== "GET") throw wrongMethod();
      const [r, w] = rest as [string, string];
      return { kind: "getRequests", ref: parseRef(w, r) };
    }
  }
  if (head === "ping" && rest.length === 0) {
    if (m !== "GET") throw wrongMethod();
    return { kind: "ping" };
  }
  throw notDefined(404, m, path);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw badRequest(`the path segment ${JSON.stringify(s)} is not valid URL encoding`);
  }
}
