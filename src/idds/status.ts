/**
 * An HPORequest seen as iDDS shows a request: the row `get_requests` answers with (the request
 * columns of iDDS's requests table), with its status as an iDDS RequestStatus in the JSON form that
 * idds-client decodes back into the enum. Pure.
 */
import type { HPORequest } from "../api/index.ts";
import { identityOf } from "../messaging/messages.ts";
import { type IddsEnum, iddsEnum } from "./request-type.ts";

/** RequestStatuses are iDDS's request statuses (idds.common.constants.RequestStatus), by name. */
export const RequestStatuses = {
  New: 0,
  Ready: 1,
  Transforming: 2,
  Finished: 3,
  SubFinished: 4,
  Failed: 5,
  Suspended: 12,
} as const;

/** IddsStatusName is an iDDS request status this project reports. */
export type IddsStatusName = keyof typeof RequestStatuses;

/** iddsStatusName is the iDDS request status of an HPORequest, from its phase. */
export function iddsStatusName(req: HPORequest): IddsStatusName {
  switch (req.status?.phase) {
    case "Generating":
    case "Waiting":
      return "Transforming";
    case "Finished":
    case "SubFinished":
    case "Failed":
    case "Suspended":
      return req.status.phase;
    default:
      return "New";
  }
}

/** IddsRequestRow is a request as iDDS's get_requests returns it (with_request=True). */
export interface IddsRequestRow {
  request_id: number;
  scope: string;
  name: string;
  requester: string | null;
  request_type: IddsEnum;
  username: string | null;
  userdn: string | null;
  transform_tag: string;
  workload_id: number | null;
  priority: number;
  status: IddsEnum;
  substatus: IddsEnum;
  locking: IddsEnum;
  created_at: string | null;
  updated_at: string | null;
  next_poll_at: string | null;
  accessed_at: string | null;
  expired_at: string | null;
  errors: { msg: string } | null;
}

/** RowIds are the ids a row shows; by default those of the request's broker messages (docs/messaging.md). */
export interface RowIds {
  requestId?: number;
  workloadId?: number | null;
}

const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** iddsDate writes a time as iDDS does (DATE_FORMAT "%a, %d %b %Y %H:%M:%S UTC"), or null. */
export function iddsDate(iso: string | undefined): string | null {
  const d = iso ? new Date(iso) : undefined;
  if (!d || Number.isNaN(d.getTime())) return null;
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${days[d.getUTCDay()]}, ${two(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC`
  );
}

/** lastChange is the latest time the operator recorded a change of the request. */
function lastChange(req: HPORequest): string | undefined {
  const times = [
    req.metadata?.creationTimestamp,
    ...(req.status?.conditions ?? []).map((c) => c.lastTransitionTime),
    req.status?.lastGeneration?.startedAt,
    req.status?.lastGeneration?.completedAt,
  ].filter((t): t is string => typeof t === "string" && !Number.isNaN(Date.parse(t)));
  return times.sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
}

/**
 * iddsRequestStatus is the request as an iDDS get_requests row. As in iDDS, whose server turns a
 * HyperParameterOpt request into a workflow on submission, request_type is Workflow and
 * transform_tag "workflow"; errors holds the reason of a request that ended Failed or SubFinished.
 */
export function iddsRequestStatus(req: HPORequest, ids: RowIds = {}): IddsRequestRow {
  const identity = identityOf(req);
  const statusName = iddsStatusName(req);
  const status = iddsEnum("RequestStatus", statusName, RequestStatuses[statusName]);
  const updated = iddsDate(lastChange(req));
  const failed = statusName === "Failed" || statusName === "SubFinished";
  return {
    request_id: ids.requestId ?? identity.requestId,
    scope: "hpo",
    name: `${identity.namespace}/${identity.name}`,
    requester: null,
    request_type: iddsEnum("RequestType", "Workflow", 0),
    username: null,
    userdn: null,
    transform_tag: "workflow",
    workload_id: ids.workloadId === undefined ? identity.workloadId : ids.workloadId,
    priority: 0,
    status,
    substatus: status,
    locking: iddsEnum("RequestLocking", "Idle", 0),
    created_at: iddsDate(req.metadata?.creationTimestamp),
    updated_at: updated,
    next_poll_at: updated,
    accessed_at: updated,
    expired_at: null,
    errors: failed && req.status?.message ? { msg: req.status.message } : null,
  };
}
