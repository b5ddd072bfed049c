/**
 * What an answer of the iDDS REST API looks like on the wire, as iDDS's server builds it
 * (idds/rest/v1/controller.py generate_http_response, app.py generate_failed_auth_response) and its
 * client reads it (idds/client/base.py get_request_response). Pure: a result or an error in, status,
 * headers and body out.
 *
 * - Success: 200 and the data as JSON (keys sorted, indented by 4, like iDDS's json_dumps).
 * - Error: the HTTP status and the headers `ExceptionClass` (a class of idds.common.exceptions,
 *   which the client raises) and `ExceptionMessage` (`{"msg": "..."}`); no body.
 * - `?json_outputs=true`: always 200, the body `{"data": ..., "error": {"ExceptionClass",
 *   "ExceptionMessage"} | null, "status": 0 | <HTTP status>}`.
 * - Authentication failures are answered before any route, without the envelope, with the plain
 *   message in ExceptionMessage, as iDDS's before_request hook does.
 */

/** IddsExceptionClass names the classes of idds.common.exceptions this server answers with. */
export type IddsExceptionClass =
  | "IDDSException"
  | "BadRequest"
  | "NoObject"
  | "CoreException"
  | "ConflictRequestException"
  | "DuplicatedObject"
  | "AuthenticationNoPermission"
  | "WrongParameterException";

/** IddsError is an answer that is an error: the HTTP status, the client's exception class, the message. */
export class IddsError extends Error {
  readonly status: number;
  readonly exceptionClass: IddsExceptionClass;
  /** plain: authentication errors carry the bare message (no {"msg"} wrapper) and ignore json_outputs. */
  readonly plain: boolean;
  constructor(
    status: number,
    exceptionClass: IddsExceptionClass,
    message: string,
    options?: ErrorOptions & { plain?: boolean },
  ) {
    super(message, options);
    this.name = "IddsError";
    this.status = status;
    this.exceptionClass = exceptionClass;
    this.plain = options?.plain ?? false;
  }
}

/** badRequest is a 400 BadRequest: input the user must fix. */
export function badRequest(message: string): IddsError {
  return new IddsError(400, "BadRequest", message);
}

/** noObject is a 404 NoObject: no such request or point. */
export function noObject(message: string): IddsError {
  return new IddsError(404, "NoObject", message);
}

/** Reply is one HTTP answer. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** undefined: no body. */
  body: string | undefined;
}

const JSON_TYPE = "application/json";

/** iddsJson serialises like iDDS's json_dumps(data, sort_keys=True, indent=4). */
export function iddsJson(data: unknown): string {
  return JSON.stringify(sortKeys(data), null, 4);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** headerSafe makes a message fit an HTTP header value (one line, printable ASCII). */
export function headerSafe(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim()
    .slice(0, 4000);
}

/** exceptionMessage is iDDS's generate_message: `{"msg": "<message>"}`. */
function exceptionMessage(message: string): string {
  return JSON.stringify({ msg: headerSafe(message) });
}

/** success is the answer carrying data (200, or the envelope with status 0). */
export function success(data: unknown, jsonOutputs: boolean): Reply {
  const body = jsonOutputs ? iddsJson({ data, error: null, status: 0 }) : iddsJson(data);
  return { status: 200, headers: { "content-type": JSON_TYPE }, body };
}

/** failure is the answer to an error, in the client's error form (or the envelope). */
export function failure(err: IddsError, jsonOutputs: boolean): Reply {
  if (err.plain) {
    return {
      status: err.status,
      headers: {
        "content-type": JSON_TYPE,
        ExceptionClass: err.exceptionClass,
        ExceptionMessage: headerSafe(err.message),
      },
      body: undefined,
    };
  }
  const message = exceptionMessage(err.message);
  if (jsonOutputs) {
    const error = { ExceptionClass: err.exceptionClass, ExceptionMessage: message };
    return {
      status: 200,
      headers: { "content-type": JSON_TYPE },
      body: iddsJson({ data: null, error, status: err.status }),
    };
  }
  return {
    status: err.status,
    headers: { "content-type": JSON_TYPE, ExceptionClass: err.exceptionClass, ExceptionMessage: message },
    body: undefined,
  };
}

/** wantsJsonOutputs reads iDDS's json_outputs query flag (any case of "true"). */
export function wantsJsonOutputs(search: URLSearchParams): boolean {
  return (search.get("json_outputs") ?? "").toUpperCase() === "TRUE";
}
