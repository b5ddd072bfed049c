/**
 * The registry of built-in methods: spec.method name -> Method.
 */
import { bayesianMethod } from "./bayesian.ts";
import { cmaesMethod } from "./cmaes.ts";
import { gridMethod } from "./grid.ts";
import { randomMethod } from "./random.ts";
import { sobolMethod } from "./sobol.ts";
import { tpeMethod } from "./tpe.ts";
import type { Method } from "./types.ts";

const registry: Record<string, Method> = {
  [bayesianMethod.name]: bayesianMethod,
  [cmaesMethod.name]: cmaesMethod,
  [gridMethod.name]: gridMethod,
  [randomMethod.name]: randomMethod,
  [sobolMethod.name]: sobolMethod,
  [tpeMethod.name]: tpeMethod,
};

/** builtinMethodNames lists the built-in methods' names, as spec.method and `generate --method` accept them. */
export const builtinMethodNames: readonly string[] = Object.keys(registry).sort();

/** getMethod returns the built-in method called name, or undefined when there is none. */
export function getMethod(name: string): Method | undefined {
  return Object.hasOwn(registry, name) ? registry[name] : undefined;
}
