/**
 * random: independent uniform draws (log-uniform on log dimensions, every int and categorical value
 * equally likely), never repeating a point of the history or of the batch.
 */
import { batchContext } from "./history.ts";
import { collectBatch, decodeUnit, randomUnit } from "./points.ts";
import type { Method, SuggestInput, SuggestResult } from "./types.ts";

/** randomMethod proposes uniformly random points. */
export const randomMethod: Method = {
  name: "random",
  suggest(input: SuggestInput): SuggestResult {
    const ctx = batchContext(input, "random");
    const d = input.space.dims.length;
    return { points: collectBatch(ctx, () => decodeUnit(input.space, randomUnit(d, ctx.rng))) };
  },
};
