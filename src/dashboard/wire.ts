/**
 * The dashboard's wire format: what its JSON endpoints and server-sent events carry, shared by the
 * server (src/dashboard/*.ts) and the browser code (src/dashboard/web/). Types, constants and the
 * arithmetic of the binary frames only, so both sides compile it without each other's libraries.
 */

/** PointStateCode is a point's state as one number: 0 new, 1 evaluated, 2 failed. */
export type PointStateCode = 0 | 1 | 2;

/** ParamInfo describes one parameter of a request's search space. */
export interface ParamInfo {
  name: string;
  type: "float" | "int" | "categorical";
  low?: number;
  high?: number;
  log?: boolean;
  /** The values of a categorical parameter, in the order of the search space. */
  choices?: unknown[];
}

/** RequestRow is one line of the requests page. */
export interface RequestRow {
  namespace: string;
  name: string;
  uid: string;
  method: string;
  direction: "minimize" | "maximize";
  /** undefined until the operator has written a status. */
  phase?: string;
  message: string;
  evaluated: number;
  failed: number;
  total: number;
  maxPoints?: number;
  bestLoss?: number;
  bestId?: string;
  generations: number;
  /** metadata.creationTimestamp (RFC 3339). */
  created?: string;
}

/** Condition is a status condition (metav1.Condition). */
export interface ConditionRow {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** EventRow is one Kubernetes Event about a request or its objects. */
export interface EventRow {
  type: string;
  reason: string;
  message: string;
  object: string;
  count: number;
  /** When it was last seen (RFC 3339). */
  last?: string;
}

/** GenerationRow is one generation of a request: its points and, for containers, its Job and pod. */
export interface GenerationRow {
  number: number;
  /** Ids of its points (first and last), and how many it added. */
  firstId?: number;
  lastId?: number;
  points: number;
  evaluated: number;
  failed: number;
  /** The generator Job (container method), its pod(s), state and duration. */
  job?: string;
  pods?: string[];
  state?: string;
  startedAt?: string;
  completedAt?: string;
  durationSeconds?: number;
  /** Failed pods of the Job, and the operator's message (such as why it failed). */
  failures?: number;
  message?: string;
}

/**
 * PointsHeader starts a frame of the binary points of a request (GET .../points.bin), which are
 * laid out for 100,000 points to load without parsing: a little-endian uint32 with the header's
 * length, the header as UTF-8 JSON, zero bytes up to a multiple of 8, then count values per column
 * in id order: float64 columns id, generation, state (PointStateCode), loss (NaN: none), then a
 * float32 column per parameter: its value, or for a parameter in categories the index of its value
 * there (NaN: none). The answer is one frame when the server has every point, else frames one
 * after another as the sets are listed (their ids interleave; a later frame's copy of a point is
 * the newer one).
 */
export interface PointsHeader {
  count: number;
  /** Parameter names, in the order of their columns. */
  params: string[];
  /** The values of each categorical (or not numeric) parameter; its column holds indices. */
  categories: Record<string, unknown[]>;
  /** Failure reasons by point id. */
  reasons: Record<string, string>;
}

/** POINT_COLUMNS is how many columns come before the parameters' in the binary points. */
export const POINT_COLUMNS = 4;

/** pointColumnsAt is where a frame's columns start, after a header of headerBytes bytes. */
export function pointColumnsAt(headerBytes: number): number {
  return Math.ceil((4 + headerBytes) / 8) * 8;
}

/** pointFrameBytes is the length of a whole frame: header, padding and columns. */
export function pointFrameBytes(headerBytes: number, header: Pick<PointsHeader, "count" | "params">): number {
  return pointColumnsAt(headerBytes) + header.count * (POINT_COLUMNS * 8 + header.params.length * 4);
}

/** PointRow is one point, as the live updates send it. */
export interface PointRow {
  id: number;
  generation: number;
  state: PointStateCode;
  loss: number | null;
  reason?: string;
  /** Values in the order of RequestDetail.params. */
  values: unknown[];
}

/** RequestDetail is everything the page of one request shows. */
export interface RequestDetail {
  row: RequestRow;
  params: ParamInfo[];
  pointsPerSet?: number;
  generations: GenerationRow[];
  conditions: ConditionRow[];
  events: EventRow[];
  /** Sections the reader may not see (such as "events" or "jobs" when RBAC forbids them). */
  hidden: string[];
}

/** The server-sent events of one request's page (event name -> data). */
export interface RequestStreamEvents {
  /** The request changed (its row and conditions). */
  request: { row: RequestRow; conditions: ConditionRow[]; params: ParamInfo[] };
  /** Points were added or got an outcome; values are in the order of params (parameter names). */
  points: { params: string[]; rows: PointRow[] };
  generations: { rows: GenerationRow[] };
  events: { rows: EventRow[] };
  /** The request was deleted. */
  deleted: { namespace: string; name: string };
}

/** The server-sent events of the requests page. */
export interface ListStreamEvents {
  /** All rows the reader may see (sent first, and after the server relisted). */
  snapshot: { rows: RequestRow[] };
  upsert: { row: RequestRow };
  remove: { namespace: string; name: string };
}
