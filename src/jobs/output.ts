/**
 * What a finished generator Job's stage-out log amounts to: the framed output unframed and checked
 * (frame.ts), parsed as a JSON list of points (protocol.ts), and the points checked against the
 * request's space and its stored points (acceptBatch). Pure, so the same path that reads a real
 * Job's log is driven directly by tests (test/integration/fuzz.test.ts).
 */
import type { Point } from "../api/index.ts";
import type { GenerationOutcome } from "../controller/generator.ts";
import { acceptBatch } from "../controller/generator.ts";
import type { SearchSpace } from "../generators/types.ts";
import { unframeOutput } from "./frame.ts";
import { checkOutput } from "./protocol.ts";

/** outcomeOfLog turns the stage-out log of Job `job` into the generation's outcome. */
export function outcomeOfLog(
  log: string,
  g: {
    space: SearchSpace | undefined;
    points: readonly Point[];
    count: number;
    /** limit is the largest output read, in bytes (--generator-output-limit); none when left out. */
    limit?: number;
  },
  job: string,
): Exclude<GenerationOutcome, { kind: "running" }> {
  const frame = unframeOutput(log, g.limit);
  if (!frame.ok) return { kind: "failed", message: `Job ${job}: ${frame.error}` };
  const out = checkOutput(frame.json);
  if (!out.ok) return { kind: "failed", message: `Job ${job}: ${out.error}` };
  if (out.points.length === 0) return { kind: "exhausted" };
  const accepted = acceptBatch(out.points, g.space, g.points, g.count);
  if (!accepted.ok) return { kind: "failed", message: `Job ${job}: ${accepted.message}` };
  if (accepted.points.length === 0)
    return { kind: "failed", message: `Job ${job}: every point it proposed already exists` };
  return { kind: "points", points: accepted.points, warnings: accepted.warnings };
}
