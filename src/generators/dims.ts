/**
 * Per-dimension arithmetic shared by every method: how many values a dimension has, the mapping
 * between a value and a coordinate in [0, 1] (the "unit" encoding), and snapping a value onto the
 * dimension (ints rounded, steps snapped, categorical choices matched by value).
 *
 * Unit encoding: a continuous float maps linearly (or linearly in log space when log is set); a
 * discrete dimension with L values (int, float with step, categorical) splits [0, 1] into L equal
 * buckets and a value encodes as its bucket's centre; an int on a log scale maps log-linearly over
 * [low - 0.5, high + 0.5] and rounds, so each integer owns the stretch of log space nearest to it.
 */
import type { Dim, ParamValue } from "./types.ts";

/** numericStep returns the spacing of a numeric dimension's values (1 for an int without step), or 0 for a continuous float. */
export function numericStep(dim: Dim): number {
  if (dim.kind === "categorical") return 0;
  if (dim.step !== undefined) return dim.step;
  return dim.kind === "int" ? 1 : 0;
}

/** levelCount returns how many distinct values dim can take: Infinity for a continuous float range. */
export function levelCount(dim: Dim): number {
  if (dim.kind === "categorical") return dim.choices.length;
  if (dim.high === dim.low) return 1;
  const step = numericStep(dim);
  if (step === 0) return Number.POSITIVE_INFINITY;
  return Math.floor((dim.high - dim.low) / step + 1e-9) + 1;
}

/** isLogInt reports whether dim is an int searched on a log scale (the one numeric kind not bucketed linearly). */
export function isLogInt(dim: Dim): boolean {
  return dim.kind === "int" && dim.log && dim.step === undefined && dim.high > dim.low;
}

/** levelValue returns the index-th value (from 0) of a discrete dimension. */
export function levelValue(dim: Dim, index: number): ParamValue {
  if (dim.kind === "categorical") return dim.choices[index] as ParamValue;
  return tidy(dim, dim.low + index * numericStep(dim));
}

/** logRange returns the interval of log space a log dimension spans (log ints widened by half a unit). */
export function logRange(dim: Dim): [number, number] {
  if (dim.kind === "categorical") return [0, 0];
  if (isLogInt(dim)) return [Math.log(dim.low - 0.5), Math.log(dim.high + 0.5)];
  return [Math.log(dim.low), Math.log(dim.high)];
}

/** fromUnit maps a coordinate u in [0, 1] to a value of dim. */
export function fromUnit(dim: Dim, u: number): ParamValue {
  const x = Math.min(1, Math.max(0, u));
  if (dim.kind === "categorical")
    return dim.choices[Math.min(dim.choices.length - 1, Math.floor(x * dim.choices.length))] as ParamValue;
  if (dim.high === dim.low) return dim.low;
  if (isLogInt(dim) || (dim.kind === "float" && dim.log)) {
    const [a, b] = logRange(dim);
    const v = Math.exp(a + x * (b - a));
    return clamp(dim.kind === "int" ? Math.round(v) : v, dim.low, dim.high);
  }
  const levels = levelCount(dim);
  if (Number.isFinite(levels)) return levelValue(dim, Math.min(levels - 1, Math.floor(x * levels)));
  return clamp(dim.low + x * (dim.high - dim.low), dim.low, dim.high);
}

/** toUnit maps a value of dim to its coordinate in [0, 1], or NaN when the value does not belong to dim. */
export function toUnit(dim: Dim, value: ParamValue): number {
  const snapped = snapValue(dim, value);
  if (snapped === undefined) return Number.NaN;
  if (dim.kind === "categorical") return (choiceIndex(dim.choices, snapped) + 0.5) / dim.choices.length;
  const v = snapped as number;
  if (dim.high === dim.low) return 0.5;
  if (isLogInt(dim) || (dim.kind === "float" && dim.log)) {
    const [a, b] = logRange(dim);
    return (Math.log(v) - a) / (b - a);
  }
  const levels = levelCount(dim);
  if (Number.isFinite(levels)) return (Math.round((v - dim.low) / numericStep(dim)) + 0.5) / levels;
  return (v - dim.low) / (dim.high - dim.low);
}

/** choiceIndex returns the index of value among choices (equality by value), or -1. */
export function choiceIndex(choices: readonly ParamValue[], value: ParamValue): number {
  for (let i = 0; i < choices.length; i++) if (choices[i] === value) return i;
  return -1;
}

/**
 * snapValue returns value canonicalised for dim (an int rounded, a value snapped to the nearest
 * step, a categorical choice matched by value), or undefined when value is of the wrong type or
 * outside the bounds by more than rounding noise.
 */
export function snapValue(dim: Dim, value: ParamValue): ParamValue | undefined {
  if (dim.kind === "categorical") {
    const i = choiceIndex(dim.choices, value);
    return i < 0 ? undefined : dim.choices[i];
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  const step = numericStep(dim);
  const slack = step > 0 ? step * 1e-6 : (dim.high - dim.low) * 1e-12;
  if (value < dim.low - slack || value > dim.high + slack) return undefined;
  if (step === 0) return clamp(value, dim.low, dim.high);
  if (dim.kind === "int" && dim.step === undefined) return clamp(Math.round(value), dim.low, dim.high);
  const k = Math.round((value - dim.low) / step);
  return levelValue(dim, Math.min(levelCount(dim) - 1, Math.max(0, k)));
}

function clamp(v: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, v));
}

/** tidy rounds a grid value to the decimals of low and step, so 0.1 + 2 * 0.1 prints as 0.3. */
function tidy(dim: Dim, v: number): number {
  if (dim.kind === "categorical") return v;
  if (dim.kind === "int") return Math.round(v);
  const decimals = Math.max(decimalsOf(dim.low), decimalsOf(numericStep(dim)));
  if (decimals > 15) return Math.min(dim.high, v);
  const f = 10 ** decimals;
  return Math.min(dim.high, Math.round(v * f) / f);
}

function decimalsOf(x: number): number {
  const text = String(Math.abs(x));
  const [mantissa = "", exponent] = text.split("e");
  const fraction = mantissa.split(".")[1]?.length ?? 0;
  return Math.max(0, fraction - (exponent ? Number(exponent) : 0));
}
