/**
 * Server-side apply of a status: each controller sends only the fields it owns, under its own field
 * manager, and the API server keeps every other manager's fields (conditions are a list keyed by
 * type, so each condition has its owner). docs/architecture.md, "One writer per field".
 */
import { type Calls, paths } from "./client.ts";

/** ApplyPatch is the content type of a server-side apply. */
export const ApplyPatch = "application/apply-patch+yaml";

/** StatusTarget names the object whose status is applied. */
export interface StatusTarget {
  apiVersion: string;
  kind: string;
  plural: string;
  namespace: string;
  name: string;
}

/**
 * applyStatus applies status (the fields fieldManager owns; any field it owned before and leaves out
 * is removed) to the target's /status and returns the object the API server answers with. Forced:
 * a field another manager wrote before is taken over, as controllers do with their own fields.
 */
export function applyStatus<T>(
  api: Calls,
  target: StatusTarget,
  fieldManager: string,
  status: unknown,
): Promise<T> {
  const body = {
    apiVersion: target.apiVersion,
    kind: target.kind,
    metadata: { name: target.name, namespace: target.namespace },
    status,
  };
  return api.request<T>(
    "PATCH",
    paths.object(target.apiVersion, target.plural, target.namespace, target.name, "status"),
    { body, contentType: ApplyPatch, query: { fieldManager, force: true } },
  );
}
