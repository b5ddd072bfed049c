/**
 * Errors are types: API failures are mapped once, at the edge (client.ts), to these classes, and the
 * rest of the code checks classes, never message strings.
 */

/** Status is the Kubernetes metav1.Status shape of an error response. */
export interface Status {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: { field?: string; message?: string; reason?: string }[];
  };
}

/** ApiError is a failed API call: the HTTP status, the Kubernetes reason and its message. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly status: Status | undefined;

  constructor(statusCode: number, message: string, status?: Status, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.reason = status?.reason ?? "";
    this.status = status;
  }
}

/** NotFoundError is a 404: the object (or its namespace, or the API) does not exist. */
export class NotFoundError extends ApiError {}
/** ConflictError is a 409 Conflict: the object changed since it was read (optimistic concurrency). */
export class ConflictError extends ApiError {}
/** AlreadyExistsError is a 409 AlreadyExists on create. */
export class AlreadyExistsError extends ApiError {}
/** GoneError is a 410: a watch or list resourceVersion is too old; relist. */
export class GoneError extends ApiError {}
/** InvalidError is a 422: the API server refused the object; its message says which field. */
export class InvalidError extends ApiError {}
/** ForbiddenError is a 403: RBAC does not allow the call. */
export class ForbiddenError extends ApiError {}
/** TooLargeError is a request over the API server's or etcd's size limit. */
export class TooLargeError extends ApiError {}
/** UnavailableError is a transient failure: the server is unreachable, overloaded (429) or failing (5xx). */
export class UnavailableError extends ApiError {}
/**
 * UntrustedServerError: the API server's certificate is not trusted (unknown CA, wrong name,
 * expired); its message names the server and what to set in the kubeconfig.
 */
export class UntrustedServerError extends UnavailableError {}
/** CredentialError: the user's credentials could not be had (an exec plugin failed or hung, a token file is unreadable). */
export class CredentialError extends UnavailableError {}

/** TerminalError wraps an error that retrying cannot fix: it is reported, not retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** errorFor maps an HTTP status and the response's Status body to the matching ApiError class. */
export function errorFor(statusCode: number, status: Status | undefined, what: string): ApiError {
  const message = `${what}: ${status?.message ?? `HTTP ${statusCode}`}`;
  const tooLarge = /too large|exceeds the maximum|request entity/i.test(status?.message ?? "");
  if (statusCode === 413 || tooLarge) return new TooLargeError(statusCode, message, status);
  switch (statusCode) {
    case 404:
      return new NotFoundError(statusCode, message, status);
    case 409:
      return status?.reason === "AlreadyExists"
        ? new AlreadyExistsError(statusCode, message, status)
        : new ConflictError(statusCode, message, status);
    case 410:
      return new GoneError(statusCode, message, status);
    case 422:
      return new InvalidError(statusCode, message, status);
    case 403:
      return new ForbiddenError(statusCode, message, status);
    default:
      if (statusCode === 429 || statusCode >= 500) return new UnavailableError(statusCode, message, status);
      return new ApiError(statusCode, message, status);
  }
}

/** isTransient tells whether retrying the same call later may succeed. */
export function isTransient(err: unknown): boolean {
  if (err instanceof UnavailableError || err instanceof ConflictError) return true;
  if (err instanceof ApiError || err instanceof TerminalError) return false;
  return true; // network errors, timeouts
}
