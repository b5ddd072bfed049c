/**
 * Pure operations on a request's points: seeding initial points, merging the losses and failures
 * users report in spec.losses / spec.failed into status.points, counting, finding the best point,
 * and appending a generation's batch. Nothing here talks to the API server.
 */
import type { HPORequestSpec, HyperParameterSetSpec, Point } from "../api/index.ts";
import type { History, Params } from "../generators/types.ts";

/** Counts are the point counts shown on the request and the set. */
export interface Counts {
  total: number;
  evaluated: number;
  unevaluated: number;
  failed: number;
}

/** Best is the best evaluated point. */
export interface Best {
  id: string;
  params: Record<string, unknown>;
  loss: number;
}

/** MergeResult is the outcome of merging reports into the points. */
export interface MergeResult {
  points: Point[];
  /** messages are new problems, each naming a point id (a Warning event each). */
  messages: string[];
  /** evaluated counts the points that got a loss in this merge (for metrics). */
  evaluated: number;
  /** failed counts the points that were marked failed in this merge. */
  failed: number;
  changed: boolean;
}

/**
 * initialPoints turns spec.initialPoints into points "1".."k" of generation 0. They carry no
 * timestamps (they are as old as the set), which keeps a warm start of 10,000 points small.
 */
export function initialPoints(spec: HPORequestSpec): Point[] {
  return (spec.initialPoints ?? []).map((p, i) => {
    const point: Point = { id: String(i + 1), params: p.params, generation: 0, state: "New" };
    if (p.loss !== undefined) Object.assign(point, { state: "Evaluated", loss: p.loss });
    return point;
  });
}

/** mergeReports applies spec.losses and spec.failed to the points; the first recorded outcome stands. */
export function mergeReports(
  points: readonly Point[],
  spec: HyperParameterSetSpec,
  now: string,
): MergeResult {
  const byId = new Map(points.map((p, i) => [p.id, i]));
  const out = points.slice();
  const messages: string[] = [];
  let evaluated = 0;
  let failed = 0;
  const lastId = points.length ? points[points.length - 1]?.id : undefined;
  const unknown = (id: string, what: string) =>
    `${what} for point ${id} ignored: there is no point ${id}${lastId ? ` (ids run from 1 to ${lastId})` : " yet"}`;

  for (const [id, loss] of Object.entries(spec.losses ?? {})) {
    const i = byId.get(id);
    const p = i === undefined ? undefined : out[i];
    if (i === undefined || !p) {
      messages.push(unknown(id, `loss ${loss}`));
    } else if (p.state === "New") {
      out[i] = { ...p, state: "Evaluated", loss, evaluatedAt: now };
      evaluated++;
    } else if (p.state === "Failed") {
      messages.push(
        `loss ${loss} for point ${id} ignored: the point is marked failed (${p.reason ?? "no reason"})`,
      );
    } else if (p.loss !== loss) {
      messages.push(
        `a second, different loss ${loss} for point ${id} ignored: the first recorded loss ${p.loss} stands`,
      );
    }
  }
  for (const [id, reason] of Object.entries(spec.failed ?? {})) {
    const i = byId.get(id);
    const p = i === undefined ? undefined : out[i];
    if (i === undefined || !p) {
      messages.push(unknown(id, `failure "${reason}"`));
    } else if (p.state === "New") {
      out[i] = { ...p, state: "Failed", reason, evaluatedAt: now };
      failed++;
    } else if (p.state === "Evaluated") {
      messages.push(`failure "${reason}" for point ${id} ignored: the point already has the loss ${p.loss}`);
    }
  }
  return { points: out, messages, evaluated, failed, changed: evaluated + failed > 0 };
}

/** countPoints counts points by state. */
export function countPoints(points: readonly Point[]): Counts {
  const c: Counts = { total: points.length, evaluated: 0, unevaluated: 0, failed: 0 };
  for (const p of points) {
    if (p.state === "Evaluated") c.evaluated++;
    else if (p.state === "Failed") c.failed++;
    else c.unevaluated++;
  }
  return c;
}

/** bestPoint returns the evaluated point with the lowest loss (highest for maximize); ties go to the lower id. */
export function bestPoint(points: readonly Point[], direction: "minimize" | "maximize"): Best | undefined {
  let best: Point | undefined;
  for (const p of points) {
    if (p.state !== "Evaluated" || p.loss === undefined) continue;
    if (!best || best.loss === undefined) best = p;
    else if (direction === "minimize" ? p.loss < best.loss : p.loss > best.loss) best = p;
  }
  return best && best.loss !== undefined ? { id: best.id, params: best.params, loss: best.loss } : undefined;
}

/** nextId is the id the next generated point gets: one past the highest id; ids are never reused. */
export function nextId(points: readonly Point[]): number {
  let max = 0;
  for (const p of points) max = Math.max(max, Number(p.id));
  return max + 1;
}

/** appendBatch adds a generation's points with ids firstId, firstId+1, ... */
export function appendBatch(
  points: readonly Point[],
  batch: readonly Params[],
  generation: number,
  firstId: number,
  now: string,
): Point[] {
  const added = batch.map((params, i) => ({
    id: String(firstId + i),
    params,
    generation,
    state: "New" as const,
    createdAt: now,
  }));
  return [...points, ...added];
}

/** historyOf turns points into the history a method reads. */
export function historyOf(points: readonly Point[]): History {
  const h: History = { evaluated: [], pending: [], failed: [] };
  for (const p of points) {
    const params = p.params as Params;
    if (p.state === "Evaluated" && p.loss !== undefined) h.evaluated.push({ params, loss: p.loss });
    else if (p.state === "Failed") h.failed.push(params);
    else h.pending.push(params);
  }
  return h;
}

/** hasGeneration tells whether any point belongs to generation n. */
export function hasGeneration(points: readonly Point[], n: number): boolean {
  return points.some((p) => p.generation === n);
}
