/**
 * Validation a CRD cannot express: the search space compiles (CEL cannot see categorical choices,
 * nor the iDDS forms of optSpace), and the initial points lie in the space. Pure.
 */
import type { HPORequest } from "../api/index.ts";
import { canonicalisePoint, compileSearchSpace } from "../generators/space.ts";
import type { Params, SearchSpace } from "../generators/types.ts";

/** SpecCheck is the outcome of validateSpec: the compiled space (absent for a container without one). */
export type SpecCheck =
  | { ok: true; space: SearchSpace | undefined; initial: Params[] }
  | { ok: false; message: string };

const hasEntries = (v: unknown) => typeof v === "object" && v !== null && Object.keys(v).length > 0;

/** validateSpec checks a request's spec and compiles its search space. */
export function validateSpec(req: HPORequest): SpecCheck {
  const { spec } = req;
  let space: SearchSpace | undefined;
  const anySpace = hasEntries(spec.searchSpace) || hasEntries(spec.optSpace);
  for (const [name, def] of Object.entries(spec.searchSpace ?? {})) {
    // The CRD's CEL rules cannot see choices (its items have no single type): check it here.
    if (def.type !== "categorical" && def.choices !== undefined) {
      return {
        ok: false,
        message: `spec.searchSpace: parameter ${JSON.stringify(name)}: choices belongs to categorical parameters; ${def.type} takes low and high`,
      };
    }
  }
  if (spec.method !== "container" || anySpace) {
    const compiled = compileSearchSpace(spec.searchSpace, spec.optSpace);
    if (compiled.ok) space = compiled.value;
    else if (spec.method !== "container" || hasEntries(spec.searchSpace)) {
      const where = hasEntries(spec.searchSpace) ? "spec.searchSpace" : "spec.optSpace";
      return { ok: false, message: `${where}: ${compiled.error}` };
    }
    // A container generator may take an optSpace in a form of its own: it is passed on verbatim,
    // and its output is then checked for shape only.
  }
  if (spec.maxPoints !== undefined && (spec.initialPoints?.length ?? 0) > spec.maxPoints) {
    return {
      ok: false,
      message: `spec.maxPoints (${spec.maxPoints}) is less than the number of spec.initialPoints`,
    };
  }
  const initial: Params[] = [];
  for (const [i, p] of (spec.initialPoints ?? []).entries()) {
    if (!space) {
      initial.push(p.params as Params);
      continue;
    }
    const c = canonicalisePoint(space, p.params);
    if (!c.ok) return { ok: false, message: `spec.initialPoints[${i}]: ${c.error}` };
    initial.push(c.value);
  }
  return { ok: true, space, initial };
}

/** seedOf is the request's seed: spec.seed, or a stable number derived from its uid. */
export function seedOf(req: HPORequest): number {
  if (req.spec.seed !== undefined) return req.spec.seed;
  return hash32(req.metadata?.uid ?? `${req.metadata?.namespace}/${req.metadata?.name}`);
}

/** generationSeed mixes the request's seed with a generation number, so each batch has its own stream. */
export function generationSeed(seed: number, generation: number): number {
  return hash32(`${seed}:${generation}`);
}

/** hash32 is FNV-1a over a string, as a non-negative 31-bit integer. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}
