/**
 * Points at the iDDS boundary. Pure.
 *
 * - Ids: a point's iDDS id is its id here (status.points[].id), from 1, unchanged. iDDS 2.6 names
 *   the contents of an HPO work from 1 (idds-atlas atlashpowork: `next_key = 1`, `point_index=1`;
 *   only the 2020 transformer counted from 0, which is why iDDS's old client test asks for id=0),
 *   and the operator's broker messages name each point by this id: a consumer reports the id a
 *   message gave it without translating. Ids are strings, as iDDS's are.
 * - Status words: iDDS filters by its ContentStatus (New 0, Available 2, Failed 3, FinalFailed 4);
 *   a point without an outcome is New, one with a loss Available (iDDS sets it on update), a failed
 *   one Failed. Names are matched in any case, numbers as iDDS stores them.
 * - Output: `{"id", "parameters", "loss"}` per point, in id order, as iDDS's GET answers.
 */
import type { Point } from "../api/index.ts";
import type { PointStatus } from "../client/model.ts";
import { iddsPointName } from "../messaging/messages.ts";
import { badRequest } from "./envelope.ts";

/** IddsPoint is one point as iDDS's get_hyperparameters returns it. */
export interface IddsPoint {
  id: string;
  parameters: Record<string, unknown>;
  loss: number | null;
}

/** toIddsId is the iDDS id of our point id: the name the broker messages give the point (the same id). */
export function toIddsId(ourId: string): string {
  return iddsPointName(ourId);
}

/** fromIddsId reads an iDDS point id (digits) and returns our id; BadRequest when it is not one. */
export function fromIddsId(iddsId: string): string {
  const s = iddsId.trim();
  if (!/^\d{1,9}$/.test(s)) {
    throw badRequest(
      `point id ${JSON.stringify(iddsId)} is not a point id: point ids are whole numbers from 1, as get_hyperparameters returns them`,
    );
  }
  return String(Number(s));
}

const statusWords: Record<string, PointStatus> = {
  new: "new",
  "0": "new",
  available: "evaluated",
  evaluated: "evaluated",
  "2": "evaluated",
  failed: "failed",
  "3": "failed",
  finalfailed: "failed",
  "4": "failed",
};

/** parseStatus reads iDDS's status filter (a ContentStatus name or number) into a point state. */
export function parseStatus(status: string): PointStatus {
  const found = statusWords[status.trim().toLowerCase()];
  if (!found) {
    throw badRequest(
      `unknown status ${JSON.stringify(status)}: use New (no loss yet), Available (has a loss) or Failed, or their numbers 0, 2, 3`,
    );
  }
  return found;
}

/** parseLimit reads iDDS's limit: a whole number; 0 means no limit (as in iDDS, where 0 is falsy). */
export function parseLimit(limit: string): number | undefined {
  const s = limit.trim();
  if (!/^\d{1,9}$/.test(s)) throw badRequest(`limit ${JSON.stringify(limit)} must be a whole number >= 0`);
  const n = Number(s);
  return n === 0 ? undefined : n;
}

/** parseLoss reads the loss of a PUT as Python's float() would, refusing what is not a finite number. */
export function parseLoss(loss: string): number {
  const s = loss.trim();
  const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw badRequest(`the loss ${JSON.stringify(loss)} is not a finite number: report a number such as 0.25`);
  }
  return n;
}

/** toIddsPoint is one of our points in iDDS's form. */
export function toIddsPoint(p: Point): IddsPoint {
  return { id: toIddsId(p.id), parameters: p.params, loss: p.loss ?? null };
}
