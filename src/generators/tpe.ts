/**
 * tpe: the tree-structured Parzen estimator with Optuna 5's defaults. The first `startupPoints`
 * (10) evaluations are random; afterwards the evaluated points are split into the best
 * gamma(n) = min(ceil(n / 10), 25) ("below") and the rest ("above"), a Parzen estimator is fitted to
 * each, `candidates` (24) points are drawn from the below estimator and the one maximising
 * log l(x) - log g(x) is proposed. `multivariate` (default true, as in Optuna 5) draws and scores
 * whole points; false treats each parameter independently. Pending points, and the points already
 * chosen for this batch, join the above group (a constant liar), which steers each new point away
 * from the others; failed points are never modelled, only avoided.
 */
import { choiceIndex, snapValue } from "./dims.ts";
import { batchContext, prepareHistory } from "./history.ts";
import {
  type Axis,
  axisOf,
  buildEstimator,
  type Estimator,
  logPdfEstimator,
  optunaWeights,
  sampleEstimator,
} from "./parzen.ts";
import { collectBatch, decodeUnit, randomUnit } from "./points.ts";
import type { Rng } from "./rng.ts";
import type { Method, Params, ParamValue, SearchSpace, SuggestInput, SuggestResult } from "./types.ts";

/** TpeOptions are tpe's settings (all optional, in SuggestInput.options). */
export interface TpeOptions {
  startupPoints: number;
  candidates: number;
  multivariate: boolean;
  priorWeight: number;
  constantLiar: boolean;
}

/** tpeOptions reads tpe's options with Optuna's defaults. */
export function tpeOptions(options: Record<string, unknown> = {}): TpeOptions {
  const num = (key: string, fallback: number) =>
    typeof options[key] === "number" ? (options[key] as number) : fallback;
  const bool = (key: string, fallback: boolean) =>
    typeof options[key] === "boolean" ? (options[key] as boolean) : fallback;
  return {
    startupPoints: num("startupPoints", 10),
    candidates: Math.max(1, num("candidates", 24)),
    multivariate: bool("multivariate", true),
    priorWeight: num("priorWeight", 1),
    constantLiar: bool("constantLiar", true),
  };
}

/** gamma returns how many of n observations form the "below" group. */
export function gamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

function toInternal(space: SearchSpace, params: Params): number[] {
  return space.dims.map((dim) => {
    const v = snapValue(dim, params[dim.name] as ParamValue) as ParamValue;
    return dim.kind === "categorical" ? choiceIndex(dim.choices, v) : (v as number);
  });
}

function fromInternal(space: SearchSpace, x: number[]): Params {
  const params: Params = {};
  space.dims.forEach((dim, d) => {
    const v = x[d] as number;
    params[dim.name] =
      dim.kind === "categorical" ? (dim.choices[v] as ParamValue) : (snapValue(dim, v) as number);
  });
  return params;
}

interface Split {
  below: number[][];
  above: number[][];
}

function split(rows: number[][], losses: number[]): Split {
  const byLoss = rows.map((_, i) => i).sort((a, b) => (losses[a] as number) - (losses[b] as number) || a - b);
  const isBelow = new Array<boolean>(rows.length).fill(false);
  for (const i of byLoss.slice(0, gamma(rows.length))) isBelow[i] = true;
  return { below: rows.filter((_, i) => isBelow[i]), above: rows.filter((_, i) => !isBelow[i]) };
}

function estimator(axes: Axis[], rows: number[][], opts: TpeOptions): Estimator {
  return buildEstimator(axes, rows, optunaWeights(rows.length), opts.priorWeight);
}

/** bestCandidate draws candidates from l and returns the one with the largest log l(x) - log g(x). */
function bestCandidate(l: Estimator, g: Estimator, opts: TpeOptions, rng: Rng): number[] {
  let best: number[] = [];
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < opts.candidates; i++) {
    const x = sampleEstimator(l, rng);
    const score = logPdfEstimator(l, x) - logPdfEstimator(g, x);
    if (i === 0 || score > bestScore) {
      best = x;
      bestScore = score;
    }
  }
  return best;
}

/**
 * proposer returns a function proposing one point given the current liars. The below estimator is
 * fixed for the call (liars only ever join the above group), so it is built once.
 */
function proposer(axes: Axis[], groups: Split, opts: TpeOptions, rng: Rng): (liars: number[][]) => number[] {
  if (opts.multivariate) {
    const l = estimator(axes, groups.below, opts);
    return (liars) => bestCandidate(l, estimator(axes, [...groups.above, ...liars], opts), opts, rng);
  }
  const column = (rows: number[][], d: number) => rows.map((r) => [r[d] as number]);
  const ls = axes.map((axis, d) => estimator([axis], column(groups.below, d), opts));
  return (liars) =>
    axes.map((axis, d) => {
      const g = estimator([axis], column([...groups.above, ...liars], d), opts);
      return bestCandidate(ls[d] as Estimator, g, opts, rng)[0] as number;
    });
}

/** tpeMethod proposes points with the tree-structured Parzen estimator. */
export const tpeMethod: Method = {
  name: "tpe",
  suggest(input: SuggestInput): SuggestResult {
    const opts = tpeOptions(input.options);
    const ctx = batchContext(input, "tpe");
    const { space } = input;
    const prepared = prepareHistory(input);
    if (prepared.observations.length < opts.startupPoints) {
      return { points: collectBatch(ctx, () => decodeUnit(space, randomUnit(space.dims.length, ctx.rng))) };
    }
    const axes = space.dims.map(axisOf);
    const rows = prepared.observations.map((o) => toInternal(space, o.params));
    const losses = prepared.observations.map((o) => o.loss);
    const liars = opts.constantLiar ? prepared.pending.map((p) => toInternal(space, p.params)) : [];
    const propose = proposer(axes, split(rows, losses), opts, ctx.rng);
    const points = collectBatch(
      ctx,
      () => fromInternal(space, propose(liars)),
      (p) => {
        if (opts.constantLiar) liars.push(toInternal(space, p));
      },
    );
    return { points };
  },
};
