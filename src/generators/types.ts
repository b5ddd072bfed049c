/**
 * The contract between the reconciler and the search methods. A method is a pure, synchronous
 * function of its input (it runs inside a worker thread, so everything here is plain,
 * structured-cloneable data: no classes, no functions).
 */

/** ParamValue is one hyperparameter value. */
export type ParamValue = number | string | boolean;

/** Params is one point: a value per parameter name. */
export type Params = Record<string, ParamValue>;

/** FloatDim is a real-valued parameter in [low, high], optionally on a log scale or a step grid. */
export interface FloatDim {
  name: string;
  kind: "float";
  low: number;
  high: number;
  log: boolean;
  step?: number;
}

/** IntDim is a whole-number parameter in [low, high], optionally on a log scale or a step grid. */
export interface IntDim {
  name: string;
  kind: "int";
  low: number;
  high: number;
  log: boolean;
  step?: number;
}

/** CategoricalDim is a parameter that takes one of choices. */
export interface CategoricalDim {
  name: string;
  kind: "categorical";
  choices: ParamValue[];
}

/** Dim is one dimension of a compiled search space. */
export type Dim = FloatDim | IntDim | CategoricalDim;

/** SearchSpace is the one compiled form of a space that every method reads, dimensions sorted by name. */
export interface SearchSpace {
  dims: Dim[];
}

/** Observation is an evaluated point. */
export interface Observation {
  params: Params;
  loss: number;
}

/** History is everything known about a request's points. */
export interface History {
  /** evaluated points with their losses, in id order. */
  evaluated: Observation[];
  /** pending points: handed out, no loss yet (methods must not propose them again). */
  pending: Params[];
  /** failed points: will never have a loss (methods must not propose them again). */
  failed: Params[];
}

/** SuggestInput is what a method is asked. */
export interface SuggestInput {
  space: SearchSpace;
  history: History;
  /** count is how many new points to propose; a method may return fewer only when it is exhausted. */
  count: number;
  /** seed makes the method reproducible: the same seed and history give the same points. */
  seed: number;
  /** direction of the objective; methods minimise internally (negating for maximize). */
  direction: "minimize" | "maximize";
  /** state is what the method returned last time for this request (a warm start), if anything. */
  state?: unknown;
  /** options are method-specific settings. */
  options?: Record<string, unknown>;
  /**
   * seenKeys, when given, are pointKey of every point of the history (a method worker keeps them
   * between calls, src/workers/history-sync.ts); the method may add to it. Never sent to a worker.
   */
  seenKeys?: Set<string>;
}

/** SuggestResult is a method's answer: [] means the method is exhausted (the request ends cleanly). */
export interface SuggestResult {
  points: Params[];
  /** state is kept by the caller (in memory, per request) and passed back next time. */
  state?: unknown;
}

/** Method is one built-in search method. */
export interface Method {
  /** name as in spec.method. */
  readonly name: string;
  suggest(input: SuggestInput): SuggestResult;
}
