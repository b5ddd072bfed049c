/**
 * The client's errors: each says what is wrong in words a person reporting losses understands, and
 * is a class a program can check. API failures that are not about HPO (a refused connection,
 * RBAC) stay the runtime's typed errors (src/runtime/errors.ts).
 */

/** HpoClientError is the base of the client's own errors. */
export class HpoClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** RequestNotFoundError: no HPORequest of that name in the namespace. */
export class RequestNotFoundError extends HpoClientError {
  readonly namespace: string;
  readonly request: string;
  constructor(namespace: string, request: string, options?: ErrorOptions) {
    super(`HPORequest "${request}" not found in namespace "${namespace}"`, options);
    this.namespace = namespace;
    this.request = request;
  }
}

/** ApiNotInstalledError: the cluster does not serve hpo.dev/v1alpha1 (the CRDs are not installed). */
export class ApiNotInstalledError extends HpoClientError {}

/** UnknownPointError: the id is not one of the request's points (yet). */
export class UnknownPointError extends HpoClientError {
  readonly id: string;
  constructor(message: string, id: string) {
    super(message);
    this.id = id;
  }
}

/** InvalidArgumentError: a loss that is not a finite number, an id that is not digits, an empty reason. */
export class InvalidArgumentError extends HpoClientError {}

/**
 * OutcomeConflictError: the point already has a different outcome (another loss, or it failed), and
 * the first recorded outcome stands (docs/lifecycle.md rule 3), so this report would be ignored.
 */
export class OutcomeConflictError extends HpoClientError {
  readonly id: string;
  constructor(message: string, id: string) {
    super(message);
    this.id = id;
  }
}

/** RequestDeletedError: the request was deleted while it was being watched. */
export class RequestDeletedError extends HpoClientError {}
