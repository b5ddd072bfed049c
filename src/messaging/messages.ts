/**
 * The messages the operator announces on ActiveMQ, exactly as iDDS sends them today (idds-server
 * 2.6: the carrier's message bodies, the conductor's MessagingSender headers) so that PanDA/JEDI and
 * consumers or selectors written for iDDS read them unchanged: one `file_hyperparameteropt` per
 * stored batch of points, one `collection_hyperparameteropt` when the request ends. Fields of our
 * own (message_id, generation, kubernetes; hpo_* headers) come in addition, never instead. Pure
 * functions: the same request and batch always give the same body and headers, so a resend is
 * byte-identical and carries the same ids.
 */
import type { HPORequest, Point } from "../api/index.ts";

/** WorkloadAnnotation names the annotation that sets workload_id (such as a PanDA task id). */
export const WorkloadAnnotation = "hpo.dev/workload-id";

/** Identity is how a request is named in its messages. */
export interface Identity {
  namespace: string;
  name: string;
  uid: string;
  /** requestId is request_id and transform_id: a stable number derived from the uid. */
  requestId: number;
  /** workloadId is workload_id: the hpo.dev/workload-id annotation, else requestId. */
  workloadId: number;
}

/** IddsMessageType is the msg_type header iDDS sends: str(MessageType.X).lower() of its enum. */
export const IddsMessageType = {
  file_hyperparameteropt: "messagetype.hyperparameteroptfile",
  collection_hyperparameteropt: "messagetype.hyperparameteroptcollection",
} as const;

/** IddsDefaultTtlMs is the ttl header iDDS sends by default (its timetolive, 12 hours in ms). */
export const IddsDefaultTtlMs = 12 * 3600 * 1000;

/** DefaultVo is the vo header iDDS sends (its MessagingSender writes "atlas"). */
export const DefaultVo = "atlas";

/** Outgoing is one message ready for the publisher. */
export interface Outgoing {
  /** id is the message's stable id (also the hpo_message_id header): consumers drop repeats by it. */
  id: string;
  msgType: "file_hyperparameteropt" | "collection_hyperparameteropt";
  destination: string;
  headers: Record<string, string>;
  body: string;
}

/** requestIdOf derives a stable positive number below 2^52 from a uid (its first 13 hex digits). */
export function requestIdOf(uid: string): number {
  const hex = uid.replace(/[^0-9a-f]/gi, "").slice(0, 13);
  const n = hex ? Number.parseInt(hex, 16) : 0;
  return n > 0 ? n : 1;
}

/** identityOf names a request for its messages. */
export function identityOf(req: HPORequest): Identity {
  const uid = req.metadata?.uid ?? "";
  const requestId = requestIdOf(uid);
  const annotated = req.metadata?.annotations?.[WorkloadAnnotation]?.trim() ?? "";
  const workloadId = /^[1-9]\d{0,15}$/.test(annotated) ? Number(annotated) : requestId;
  return {
    namespace: req.metadata?.namespace ?? "",
    name: req.metadata?.name ?? "",
    uid,
    requestId,
    workloadId: Number.isSafeInteger(workloadId) ? workloadId : requestId,
  };
}

/** batchMessageId is the stable id of the message of a generation's batch. */
export function batchMessageId(uid: string, generation: number): string {
  return `${uid}/batch/${generation}`;
}

/** endMessageId is the stable id of the message that a request ended (after `generations` generations). */
export function endMessageId(uid: string, generations: number): string {
  return `${uid}/end/${generations}`;
}

/**
 * iddsPointName is a point's name in the messages: the id PanDA JEDI turns into an event id, which
 * a training job then reports its loss under, so it must be the id the iDDS REST API
 * (hpo-operator api) takes for the same point. It is the point's id in its HyperParameterSet, from 1,
 * as iDDS 2.6's HPO work names its contents from 1 (idds-atlas ATLASHPOWork.generate_new_input_output_maps).
 */
export function iddsPointName(id: string): string {
  return id;
}

/**
 * fileOf is one point as an iDDS file entry: path is the JSON of [params, null] (no loss yet);
 * content_id is the point id (iDDS's is the row id of its contents table); iDDS's external ids are null.
 */
export function fileOf(p: Point): Record<string, unknown> {
  const name = iddsPointName(p.id);
  return {
    scope: "hpo",
    name,
    path: JSON.stringify([p.params, null]),
    map_id: Number(name),
    content_id: Number(name),
    external_coll_id: null,
    external_content_id: null,
    status: "New",
  };
}

/** MessageOptions are the operator's settings that shape a message. */
export interface MessageOptions {
  destination: string;
  /** ttlMs is the ttl header when > 0, and sets the expires header; 0 sends iDDS's default ttl, no expires. */
  ttlMs: number;
  /** vo is the vo header (iDDS's virtual organisation; default atlas). */
  vo?: string;
  /** now is the send time in ms (only the expires header depends on it). */
  now: number;
}

function kubernetesOf(id: Identity): Record<string, string> {
  return { namespace: id.namespace, name: id.name, uid: id.uid };
}

/**
 * headersOf are the STOMP headers of a message: iDDS's (persistent, ttl, vo, from_idds, msg_type in
 * iDDS's form), then ours; underscores keep them usable in JMS selectors.
 */
export function headersOf(
  id: Identity,
  msgType: Outgoing["msgType"],
  messageId: string,
  opts: MessageOptions,
): Record<string, string> {
  const h: Record<string, string> = {
    persistent: "true",
    ttl: String(opts.ttlMs > 0 ? opts.ttlMs : IddsDefaultTtlMs),
    vo: opts.vo ?? DefaultVo,
    from_idds: "true",
    msg_type: IddsMessageType[msgType],
    "content-type": "application/json",
    hpo_namespace: id.namespace,
    hpo_name: id.name,
    hpo_uid: id.uid,
    hpo_message_id: messageId,
    request_id: String(id.requestId),
    workload_id: String(id.workloadId),
  };
  if (opts.ttlMs > 0) h.expires = String(opts.now + opts.ttlMs);
  return h;
}

/** batchMessage is the file_hyperparameteropt message of one generation's batch of points. */
export function batchMessage(
  id: Identity,
  generation: number,
  points: Point[],
  opts: MessageOptions,
): Outgoing {
  const messageId = batchMessageId(id.uid, generation);
  const body = {
    msg_type: "file_hyperparameteropt",
    request_id: id.requestId,
    workload_id: id.workloadId,
    transform_id: id.requestId,
    relation_type: "input",
    files: points.map(fileOf),
    message_id: messageId,
    generation,
    kubernetes: kubernetesOf(id),
  };
  return {
    id: messageId,
    msgType: "file_hyperparameteropt",
    destination: opts.destination,
    headers: headersOf(id, "file_hyperparameteropt", messageId, opts),
    body: JSON.stringify(body),
  };
}

/** EndInput is what the end message says: the final phase, its message and how many generations ran. */
export interface EndInput {
  phase: string;
  message: string;
  generations: number;
}

/**
 * endMessage is the collection_hyperparameteropt message sent when a request ends; error is null
 * when it Finished, else why it did not (iDDS's work.get_terminated_msg()).
 */
export function endMessage(id: Identity, end: EndInput, opts: MessageOptions): Outgoing {
  const messageId = endMessageId(id.uid, end.generations);
  const body = {
    msg_type: "collection_hyperparameteropt",
    request_id: id.requestId,
    workload_id: id.workloadId,
    transform_id: id.requestId,
    relation_type: "output",
    collections: [{ scope: "hpo", name: `${id.namespace}/${id.name}`, status: "Available" }],
    output: { status: end.phase, msg: end.message },
    error: end.phase === "Finished" ? null : end.message || null,
    message_id: messageId,
    generations: end.generations,
    kubernetes: kubernetesOf(id),
  };
  return {
    id: messageId,
    msgType: "collection_hyperparameteropt",
    destination: opts.destination,
    headers: headersOf(id, "collection_hyperparameteropt", messageId, opts),
    body: JSON.stringify(body),
  };
}
