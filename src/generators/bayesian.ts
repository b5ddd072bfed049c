/**
 * bayesian: Gaussian-process Bayesian optimisation.
 *
 * - Encoding: a float or int is one feature in [0, 1] (log-scaled when log is set; an int at the
 *   centre of its bucket), a categorical is one-hot; every candidate is snapped to a valid point
 *   before the GP scores it.
 * - Model: Matérn 5/2 with one lengthscale per parameter, hyperparameters fitted by maximum a
 *   posteriori marginal likelihood (L-BFGS), warm-started from the previous call's state.
 * - Acquisition: log expected improvement over a pool of scrambled Sobol points and perturbations
 *   of the best observations, the best candidate refined by a pattern search.
 * - Batches and pending points: each chosen (or pending) point is added to the GP as a fantasy
 *   observation, its posterior mean (kriging believer, the default) or a constant liar
 *   (`liar: "min" | "mean" | "max"` of the observed losses).
 * - Large histories: the GP conditions on at most `maxModelPoints` (default 300) observations and
 *   fits its hyperparameters on at most `fitPoints` (default 100); a capped set keeps the best half
 *   by loss and a seeded random sample of the rest.
 * - Start: until `startupPoints` (default min(10, 2d + 2)) observations exist, points continue a
 *   scrambled Sobol sequence.
 */
import { candidatePool, logEi, patternSearch } from "./acquisition.ts";
import { choiceIndex, snapValue, toUnit } from "./dims.ts";
import { defaultTheta, fitTheta, type GpData } from "./gp.ts";
import {
  addFantasy,
  buildPool,
  buildPosterior,
  type Pool,
  type Posterior,
  predict,
  scaleFeatures,
} from "./gp-posterior.ts";
import { batchContext, type EncodedObservation, prepareHistory } from "./history.ts";
import { type BatchContext, collectBatch, decodeUnit } from "./points.ts";
import { createRng, type Rng } from "./rng.ts";
import { sobolMethod } from "./sobol.ts";
import type { Method, Params, ParamValue, SearchSpace, SuggestInput, SuggestResult } from "./types.ts";
import { warpLosses } from "./warp.ts";

/** BayesianOptions are the bayesian method's settings (SuggestInput.options). */
export interface BayesianOptions {
  startupPoints: number;
  maxModelPoints: number;
  fitPoints: number;
  candidates: number;
  localSearch: number;
  liar: "believer" | "min" | "mean" | "max";
  warp: boolean;
}

/** bayesianOptions reads the options with their defaults. */
export function bayesianOptions(options: Record<string, unknown> = {}, d = 1): BayesianOptions {
  const num = (key: string, fallback: number) =>
    typeof options[key] === "number" && (options[key] as number) >= 1
      ? Math.floor(options[key] as number)
      : fallback;
  const liar = options.liar;
  return {
    startupPoints: Math.max(2, num("startupPoints", Math.min(10, 2 * d + 2))),
    maxModelPoints: num("maxModelPoints", 300),
    fitPoints: num("fitPoints", 100),
    candidates: num("candidates", 256),
    localSearch: num("localSearch", 40),
    liar: liar === "min" || liar === "mean" || liar === "max" ? liar : "believer",
    warp: options.warp !== false,
  };
}

/** FeatureMap turns points into GP feature rows. */
interface FeatureMap {
  width: number;
  group: Int32Array;
  encode(params: Params, out: Float64Array, offset: number): void;
}

function featureMap(space: SearchSpace): FeatureMap {
  const group: number[] = [];
  space.dims.forEach((dim, i) => {
    const n = dim.kind === "categorical" ? dim.choices.length : 1;
    for (let k = 0; k < n; k++) group.push(i);
  });
  return {
    width: group.length,
    group: Int32Array.from(group),
    encode(params, out, offset) {
      let f = offset;
      for (const dim of space.dims) {
        const value = params[dim.name] as ParamValue;
        if (dim.kind !== "categorical") {
          out[f++] = toUnit(dim, value);
          continue;
        }
        const c = choiceIndex(dim.choices, snapValue(dim, value) as ParamValue);
        for (let k = 0; k < dim.choices.length; k++) out[f++] = k === c ? 1 : 0;
      }
    },
  };
}

function encodeAll(map: FeatureMap, points: Params[]): Float64Array {
  const out = new Float64Array(points.length * map.width);
  points.forEach((p, i) => {
    map.encode(p, out, i * map.width);
  });
  return out;
}

/** selectSubset returns at most cap items: the best half by loss and a random sample of the rest, in their original order. */
export function selectSubset<T extends { loss: number }>(items: T[], cap: number, rng: Rng): T[] {
  if (items.length <= cap) return items;
  const order = items.map((_, i) => i).sort((a, b) => (items[a] as T).loss - (items[b] as T).loss || a - b);
  const keep = order.slice(0, Math.ceil(cap / 2));
  const rest = order.slice(keep.length);
  const extra = cap - keep.length;
  for (let i = 0; i < extra; i++) {
    const j = i + rng.int(rest.length - i);
    [rest[i], rest[j]] = [rest[j] as number, rest[i] as number];
    keep.push(rest[i] as number);
  }
  return keep.sort((a, b) => a - b).map((i) => items[i] as T);
}

function gpData(
  map: FeatureMap,
  dims: number,
  obs: EncodedObservation[],
  target: Map<EncodedObservation, number>,
): GpData {
  return {
    x: encodeAll(
      map,
      obs.map((o) => o.params),
    ),
    y: Float64Array.from(obs, (o) => target.get(o) as number),
    n: obs.length,
    width: map.width,
    group: map.group,
    dims,
  };
}

/** targetValues returns the GP's targets: the losses standardised, and warped first when warp is set. */
function targetValues(losses: number[], warp: boolean): number[] {
  if (warp) return warpLosses(losses);
  const mean = losses.reduce((a, b) => a + b, 0) / losses.length;
  const sd = Math.sqrt(losses.reduce((a, b) => a + (b - mean) ** 2, 0) / losses.length) || 1;
  return losses.map((v) => (v - mean) / sd);
}

function fitHyperparameters(data: GpData, fitSet: GpData, state: unknown): Float64Array {
  const previous = (state as { theta?: unknown } | undefined)?.theta;
  if (Array.isArray(previous) && previous.length === data.dims + 2 && previous.every(Number.isFinite)) {
    return fitTheta(fitSet, [Float64Array.from(previous as number[])], 20);
  }
  return fitTheta(fitSet, [defaultTheta(data.dims), defaultTheta(data.dims, 2)], 30);
}

interface Search {
  space: SearchSpace;
  map: FeatureMap;
  post: Posterior;
  pool: Pool;
  units: number[][];
  used: boolean[];
  best: number;
  opts: BayesianOptions;
}

function scaledRow(s: Search, params: Params): Float64Array {
  const row = new Float64Array(s.map.width);
  s.map.encode(params, row, 0);
  return scaleFeatures(s.post, row, 1);
}

function scoreUnit(s: Search, u: number[]): number {
  const p = predict(s.post, scaledRow(s, decodeUnit(s.space, u)));
  return logEi(p.mean, p.variance, s.best);
}

function poolRanking(s: Search): number[] {
  const scores = Array.from(s.pool.mean, (m, c) =>
    s.used[c] ? Number.NEGATIVE_INFINITY : logEi(m, s.pool.variance[c] as number, s.best),
  );
  return scores
    .map((_, c) => c)
    .sort((a, b) => (scores[b] as number) - (scores[a] as number))
    .slice(0, 32);
}

function propose(s: Search, attempt: number): Params | undefined {
  const ranking = poolRanking(s);
  const top = ranking[Math.min(attempt, ranking.length - 1)];
  if (top === undefined) return undefined;
  s.used[top] = true;
  const start = s.units[top] as number[];
  if (attempt > 0) return decodeUnit(s.space, start);
  const startScore = logEi(s.pool.mean[top] as number, s.pool.variance[top] as number, s.best);
  const refined = patternSearch(s.space, start, startScore, (u) => scoreUnit(s, u), s.opts.localSearch);
  return decodeUnit(s.space, refined.u);
}

function liarValue(s: Search, observed: Float64Array, row: Float64Array): number {
  if (s.opts.liar === "believer") return predict(s.post, row).mean;
  const values = Array.from(observed);
  if (s.opts.liar === "min") return Math.min(...values);
  if (s.opts.liar === "max") return Math.max(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function fantasize(s: Search, observed: Float64Array, params: Params): void {
  const row = scaledRow(s, params);
  const value = liarValue(s, observed, row);
  s.post = addFantasy(s.post, row, 0, value, s.pool);
  s.best = Math.min(s.best, value);
}

/** fitModel selects the observations the GP conditions on, computes their targets and fits the hyperparameters. */
function fitModel(
  map: FeatureMap,
  d: number,
  observations: EncodedObservation[],
  opts: BayesianOptions,
  rng: Rng,
  state: unknown,
): { data: GpData; theta: Float64Array; model: EncodedObservation[] } {
  const model = selectSubset(observations, opts.maxModelPoints, rng);
  const targets = targetValues(
    model.map((o) => o.loss),
    opts.warp,
  );
  const target = new Map(model.map((o, i) => [o, targets[i] as number]));
  const data = gpData(map, d, model, target);
  const fitSet = gpData(map, d, selectSubset(model, opts.fitPoints, rng), target);
  return { data, theta: fitHyperparameters(data, fitSet, state), model };
}

/** startSearch conditions the GP and scores the candidate pool: Sobol points scrambled by salt and perturbations of the 5 best observations. */
function startSearch(
  space: SearchSpace,
  map: FeatureMap,
  data: GpData,
  theta: Float64Array,
  model: EncodedObservation[],
  opts: BayesianOptions,
  ctx: BatchContext,
  salt: number,
): Search {
  const post = buildPosterior(data, theta);
  const centres = [...model].sort((a, b) => a.loss - b.loss).slice(0, 5);
  const units = candidatePool(
    space,
    centres.map((o) => o.unit),
    opts.candidates,
    20,
    salt,
    ctx.rng,
  );
  const candidates = units.map((u) => decodeUnit(space, u));
  const pool = buildPool(post, scaleFeatures(post, encodeAll(map, candidates), units.length), units.length);
  const used = candidates.map((p) => ctx.seen.has(p));
  return { space, map, post, pool, units, used, best: Math.min(...data.y), opts };
}

/** bayesianMethod proposes points by GP Bayesian optimisation with log expected improvement. */
export const bayesianMethod: Method = {
  name: "bayesian",
  suggest(input: SuggestInput): SuggestResult {
    const { space } = input;
    const d = space.dims.length;
    const opts = bayesianOptions(input.options, d);
    const ctx = batchContext(input, "bayesian");
    const prepared = prepareHistory(input);
    if (prepared.observations.length < opts.startupPoints) return sobolMethod.suggest(input);
    const map = featureMap(space);
    const { data, theta, model } = fitModel(map, d, prepared.observations, opts, ctx.rng, input.state);
    const salt = createRng("bayesian-pool", input.seed, prepared.observations.length).uint32();
    const search = startSearch(space, map, data, theta, model, opts, ctx, salt);
    for (const p of prepared.pending) fantasize(search, data.y, p.params);
    const points = collectBatch(
      ctx,
      (attempt) => propose(search, attempt),
      (p) => fantasize(search, data.y, p),
    );
    return { points, state: { theta: Array.from(theta) } };
  },
};
