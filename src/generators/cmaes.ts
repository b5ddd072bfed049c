/**
 * cmaes: the (mu/mu_w, lambda) covariance matrix adaptation evolution strategy on the unit cube
 * (log dimensions in log space; ints and categorical choices as equal buckets of [0, 1]).
 *
 * Batch = population: a call proposes one generation of lambda = count points (or the
 * `populationSize` option; below 4 points per call, 4 + floor(3 ln d)). The strategy's state is
 * rebuilt from the history on every call: the evaluated points, in history order, are replayed
 * generation by generation (lambda at a time), so a restarted operator or the stateless CLI
 * continues exactly where it was. Points that were not sampled by the strategy (initial points,
 * random fallbacks) are accepted as injected solutions, their step clipped in Mahalanobis norm.
 * Samples outside the box are mirrored back into it. The strategy restarts from a random mean
 * when its step size collapses (sigma * sqrt(max eigenvalue) < 1e-6), its covariance is
 * ill-conditioned (> 1e14), or its best loss has not changed for 10 + ceil(30 d / lambda) generations.
 */
import { batchContext, type EncodedObservation, prepareHistory } from "./history.ts";
import { symmetricEigen } from "./linalg.ts";
import { collectBatch, decodeUnit } from "./points.ts";
import { createRng, type Rng } from "./rng.ts";
import type { Method, SuggestInput, SuggestResult } from "./types.ts";

interface Strategy {
  d: number;
  mean: Float64Array;
  sigma: number;
  c: Float64Array;
  pc: Float64Array;
  ps: Float64Array;
  basis: Float64Array;
  scales: Float64Array;
  bests: number[];
}

interface Constants {
  lambda: number;
  weights: number[];
  mueff: number;
  cc: number;
  cs: number;
  c1: number;
  cmu: number;
  damps: number;
  chiN: number;
}

const sigma0 = 0.25;

/** constants returns the standard CMA-ES learning rates for dimension d and population lambda. */
function constants(d: number, lambda: number): Constants {
  const mu = Math.max(1, Math.floor(lambda / 2));
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / sum);
  const mueff = 1 / weights.reduce((a, w) => a + w * w, 0);
  const c1 = 2 / ((d + 1.3) ** 2 + mueff);
  const cs = (mueff + 2) / (d + mueff + 5);
  return {
    lambda,
    weights,
    mueff,
    cc: (4 + mueff / d) / (d + 4 + (2 * mueff) / d),
    cs,
    c1,
    cmu: Math.min(1 - c1, (2 * (mueff - 2 + 1 / mueff)) / ((d + 2) ** 2 + mueff)),
    damps: 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (d + 1)) - 1) + cs,
    chiN: Math.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d * d)),
  };
}

function freshStrategy(d: number, mean: ArrayLike<number>): Strategy {
  const c = new Float64Array(d * d);
  const basis = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    c[i * d + i] = 1;
    basis[i * d + i] = 1;
  }
  return {
    d,
    mean: Float64Array.from(mean),
    sigma: sigma0,
    c,
    pc: new Float64Array(d),
    ps: new Float64Array(d),
    basis,
    scales: new Float64Array(d).fill(1),
    bests: [],
  };
}

/** whiten returns C^{-1/2} y. */
function whiten(s: Strategy, y: ArrayLike<number>): Float64Array {
  const { d, basis, scales } = s;
  const out = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    let proj = 0;
    for (let i = 0; i < d; i++) proj += (basis[i * d + k] as number) * (y[i] as number);
    proj /= scales[k] as number;
    for (let i = 0; i < d; i++) out[i] = (out[i] as number) + (basis[i * d + k] as number) * proj;
  }
  return out;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

/** steps returns the selected points' steps y = (x - mean) / sigma, best first, each clipped in Mahalanobis norm. */
function steps(s: Strategy, k: Constants, generation: EncodedObservation[]): Float64Array[] {
  const limit = Math.sqrt(s.d) + (2 * s.d) / (s.d + 2);
  return [...generation]
    .sort((a, b) => a.loss - b.loss)
    .slice(0, k.weights.length)
    .map((o) => {
      const y = Float64Array.from(o.unit, (x, i) => (x - (s.mean[i] as number)) / s.sigma);
      const length = norm(whiten(s, y));
      return length > limit ? y.map((v) => (v * limit) / length) : y;
    });
}

/** update applies one generation (lambda evaluated points) to the strategy. */
function update(s: Strategy, k: Constants, generation: EncodedObservation[]): void {
  const { d } = s;
  const ys = steps(s, k, generation);
  const step = new Float64Array(d);
  ys.forEach((y, j) => {
    for (let i = 0; i < d; i++) step[i] = (step[i] as number) + (k.weights[j] as number) * (y[i] as number);
  });
  for (let i = 0; i < d; i++) s.mean[i] = (s.mean[i] as number) + s.sigma * (step[i] as number);
  const white = whiten(s, step);
  const a = Math.sqrt(k.cs * (2 - k.cs) * k.mueff);
  for (let i = 0; i < d; i++) s.ps[i] = (1 - k.cs) * (s.ps[i] as number) + a * (white[i] as number);
  const generations = s.bests.length + 1;
  const hsig =
    norm(s.ps) / Math.sqrt(1 - (1 - k.cs) ** (2 * generations)) / k.chiN < 1.4 + 2 / (d + 1) ? 1 : 0;
  const b = hsig * Math.sqrt(k.cc * (2 - k.cc) * k.mueff);
  for (let i = 0; i < d; i++) s.pc[i] = (1 - k.cc) * (s.pc[i] as number) + b * (step[i] as number);
  const decay = 1 - k.c1 - k.cmu + (1 - hsig) * k.c1 * k.cc * (2 - k.cc);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let rankMu = 0;
      ys.forEach((y, m) => {
        rankMu += (k.weights[m] as number) * (y[i] as number) * (y[j] as number);
      });
      const rankOne = (s.pc[i] as number) * (s.pc[j] as number);
      s.c[i * d + j] = decay * (s.c[i * d + j] as number) + k.c1 * rankOne + k.cmu * rankMu;
    }
  }
  s.sigma *= Math.exp(Math.min(1, (k.cs / k.damps) * (norm(s.ps) / k.chiN - 1)));
  const eig = symmetricEigen(s.c, d);
  s.basis = eig.vectors;
  s.scales = eig.values.map((v) => Math.sqrt(Math.max(v, 1e-20)));
  s.bests.push(Math.min(...generation.map((o) => o.loss)));
}

/** exhausted reports whether the strategy should restart. */
function exhausted(s: Strategy, k: Constants): boolean {
  const maxScale = Math.max(...s.scales);
  const minScale = Math.min(...s.scales);
  if (s.sigma * maxScale < 1e-6 || (maxScale / minScale) ** 2 > 1e14) return true;
  const window = 10 + Math.ceil((30 * s.d) / k.lambda);
  if (s.bests.length < window) return false;
  const recent = s.bests.slice(-window);
  return Math.max(...recent) - Math.min(...recent) <= 1e-12 * Math.max(1, Math.abs(recent[0] as number));
}

/** replay rebuilds the strategy from the evaluated history, generation by generation, restarting when it stalls. */
function replay(d: number, k: Constants, observations: EncodedObservation[], seed: number): Strategy {
  let strategy = freshStrategy(d, new Array<number>(d).fill(0.5));
  let restarts = 0;
  for (let start = 0; start + k.lambda <= observations.length; start += k.lambda) {
    update(strategy, k, observations.slice(start, start + k.lambda));
    if (exhausted(strategy, k)) {
      restarts++;
      const rng = createRng("cmaes-restart", seed, restarts);
      strategy = freshStrategy(
        d,
        Array.from({ length: d }, () => rng.next()),
      );
    }
  }
  return strategy;
}

function mirror(x: number): number {
  const m = ((x % 2) + 2) % 2;
  return m > 1 ? 2 - m : m;
}

function sample(s: Strategy, rng: Rng): number[] {
  const { d } = s;
  const z = Array.from({ length: d }, (_, k) => (s.scales[k] as number) * rng.normal());
  return Array.from({ length: d }, (_, i) => {
    let v = 0;
    for (let k = 0; k < d; k++) v += (s.basis[i * d + k] as number) * (z[k] as number);
    return mirror((s.mean[i] as number) + s.sigma * v);
  });
}

/** populationSize returns lambda for a call: the option, else the previous call's, else count (at least 4 + floor(3 ln d) when count < 4). */
function populationSize(input: SuggestInput, d: number): number {
  const option = input.options?.populationSize;
  if (typeof option === "number" && option >= 2) return Math.floor(option);
  const previous = (input.state as { lambda?: unknown } | undefined)?.lambda;
  if (typeof previous === "number" && previous >= 2) return previous;
  return input.count >= 4 ? Math.floor(input.count) : 4 + Math.floor(3 * Math.log(Math.max(1, d)));
}

/** cmaesMethod proposes one CMA-ES generation per call, rebuilt from the history. */
export const cmaesMethod: Method = {
  name: "cmaes",
  suggest(input: SuggestInput): SuggestResult {
    const d = input.space.dims.length;
    const lambda = populationSize(input, d);
    const k = constants(d, lambda);
    const ctx = batchContext(input, "cmaes");
    const strategy = replay(d, k, prepareHistory(input).observations, input.seed);
    const points = collectBatch(ctx, () => decodeUnit(input.space, sample(strategy, ctx.rng)));
    return { points, state: { lambda } };
  },
};
