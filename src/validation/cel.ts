/**
 * The CEL rules (x-kubernetes-validations) of crds/, translated one by one into TypeScript, keyed by
 * the rule's exact text. ajv cannot run CEL, and this is not a CEL interpreter: each translation
 * is written and tested by hand (cel.test.ts), and a test fails when a CRD gains a rule that has
 * no translation here, so `hpo-operator validate` never silently skips one.
 *
 * Transition rules (those that read oldSelf) compare an update with the stored object; they do
 * not run when an object is created, and an offline check has no stored object: they are left to
 * the API server (isTransitionRule).
 *
 * Each translation follows CEL's meaning for values the schema accepts. On values of the wrong
 * type (which the schema check already reports) a translation passes, rather than adding a
 * second, confusing message.
 */

type Obj = Record<string, unknown>;

/** has is CEL's has(self.field): the field is present. */
const has = (self: Obj, field: string): boolean => self[field] !== undefined && self[field] !== null;

/** size is CEL's size() of a map, list or string (0 for anything else). */
const size = (v: unknown): number => {
  if (typeof v === "string" || Array.isArray(v)) return v.length;
  return typeof v === "object" && v !== null ? Object.keys(v).length : 0;
};

const num = (v: unknown): v is number => typeof v === "number";

/** whole is CEL's double(int(x)) == x for a number x: it has no fraction. */
const whole = (v: unknown): boolean => !num(v) || Number.isInteger(v);

/** keysMatch is CEL's self.all(k, k.matches(re)) over a map's keys. */
const keysMatch = (self: unknown, re: RegExp): boolean =>
  typeof self !== "object" || self === null || Object.keys(self).every((k) => re.test(k));

/** celTranslations maps each rule's text, exactly as in crds/, to what it checks. */
export const celTranslations: Record<string, (self: Obj) => boolean> = {
  // HPORequest spec
  "self.method == 'container' || (has(self.searchSpace) && size(self.searchSpace) > 0) || has(self.optSpace)":
    (s) =>
      s.method === "container" || (has(s, "searchSpace") && size(s.searchSpace) > 0) || has(s, "optSpace"),
  "self.method != 'container' || (has(self.generator) && has(self.generator.image) && size(self.generator.image) > 0)":
    (s) =>
      s.method !== "container" ||
      (has(s, "generator") && has(s.generator as Obj, "image") && size((s.generator as Obj).image) > 0),
  "!has(self.maxPoints) || !has(self.initialPoints) || self.maxPoints >= size(self.initialPoints)": (s) =>
    !has(s, "maxPoints") ||
    !has(s, "initialPoints") ||
    !num(s.maxPoints) ||
    s.maxPoints >= size(s.initialPoints),
  // HPORequest spec.searchSpace (the map) and each of its parameters
  "self.all(name, name.matches('^[A-Za-z_][A-Za-z0-9_.-]*$'))": (s) =>
    keysMatch(s, /^[A-Za-z_][A-Za-z0-9_.-]*$/),
  "self.type == 'categorical' || (has(self.low) && has(self.high))": (s) =>
    s.type === "categorical" || (has(s, "low") && has(s, "high")),
  "!has(self.low) || !has(self.high) || self.low < self.high": (s) =>
    !has(s, "low") || !has(s, "high") || !num(s.low) || !num(s.high) || s.low < s.high,
  "!has(self.log) || !self.log || (has(self.low) && self.low > 0.0)": (s) =>
    !has(s, "log") || s.log !== true || (has(s, "low") && (!num(s.low) || s.low > 0)),
  "self.type != 'int' || ((!has(self.low) || double(int(self.low)) == self.low) && (!has(self.high) || double(int(self.high)) == self.high))":
    (s) => s.type !== "int" || (whole(s.low) && whole(s.high)),
  "self.type != 'int' || !has(self.step) || double(int(self.step)) == self.step": (s) =>
    s.type !== "int" || whole(s.step),
  "self.type != 'categorical' || (!has(self.low) && !has(self.high) && !has(self.log) && !has(self.step))": (
    s,
  ) => s.type !== "categorical" || !(has(s, "low") || has(s, "high") || has(s, "log") || has(s, "step")),
  "!has(self.step) || !has(self.log) || !self.log": (s) =>
    !has(s, "step") || !has(s, "log") || s.log !== true,
  // HPORequest (the object): its sets are named <name>-<k>
  "size(self.metadata.name) <= 240": (s) => size((s.metadata as Obj | undefined)?.name ?? "") <= 240,
  // HyperParameterSet (the object): outcomes only for points the set holds
  "!has(self.spec.losses) || self.spec.losses.all(id, has(self.status) && has(self.status.points) && size(self.status.points) > 0 && int(id) >= int(self.status.points[0].id) && int(id) <= int(self.status.points[size(self.status.points) - 1].id))":
    (s) => heldOnly(s, "losses"),
  "!has(self.spec.failed) || self.spec.failed.all(id, has(self.status) && has(self.status.points) && size(self.status.points) > 0 && int(id) >= int(self.status.points[0].id) && int(id) <= int(self.status.points[size(self.status.points) - 1].id))":
    (s) => heldOnly(s, "failed"),
  // HyperParameterSet spec
  "self.lastId >= self.firstId": (s) => !num(s.lastId) || !num(s.firstId) || s.lastId >= s.firstId,
  "!has(self.losses) || self.losses.all(id, int(id) >= self.firstId && int(id) <= self.lastId)": (s) =>
    inRange(s, "losses"),
  "!has(self.failed) || self.failed.all(id, int(id) >= self.firstId && int(id) <= self.lastId)": (s) =>
    inRange(s, "failed"),
  "!has(self.losses) || !has(self.failed) || self.failed.all(id, !(id in self.losses))": (s) =>
    !has(s, "losses") ||
    !has(s, "failed") ||
    Object.keys(s.failed as Obj).every((id) => !(id in (s.losses as Obj))),
  // HyperParameterSet spec.losses and spec.failed
  "self.all(id, id.matches('^[1-9][0-9]{0,8}$'))": (s) => keysMatch(s, /^[1-9][0-9]{0,8}$/),
};

/** ids are the keys of spec[field] of a HyperParameterSet (an object or spec), as numbers. */
const idsOf = (spec: Obj, field: string): number[] =>
  typeof spec[field] === "object" && spec[field] !== null ? Object.keys(spec[field] as Obj).map(Number) : [];

/** inRange: every id of spec[field] lies in spec.firstId..spec.lastId. */
function inRange(spec: Obj, field: string): boolean {
  if (!num(spec.firstId) || !num(spec.lastId)) return true;
  const [lo, hi] = [spec.firstId, spec.lastId];
  return idsOf(spec, field).every((id) => Number.isNaN(id) || (id >= lo && id <= hi));
}

/** heldOnly: every id of spec[field] lies between the first and the last point of status.points. */
function heldOnly(set: Obj, field: string): boolean {
  const ids = idsOf((set.spec as Obj | undefined) ?? {}, field);
  if (ids.length === 0) return true;
  const points = ((set.status as Obj | undefined)?.points ?? []) as { id?: unknown }[];
  if (!Array.isArray(points) || points.length === 0) return false;
  const [lo, hi] = [Number(points[0]?.id), Number(points[points.length - 1]?.id)];
  return ids.every((id) => Number.isNaN(id) || (id >= lo && id <= hi));
}

/** isTransitionRule reports whether a rule compares with the stored object (reads oldSelf). */
export function isTransitionRule(rule: string): boolean {
  return /\boldSelf\b/.test(rule);
}

/** CelRule is one entry of x-kubernetes-validations. */
export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
}

/**
 * failedRules evaluates the rules on self (a created object: transition rules are skipped) and
 * returns the messages of those that fail. It throws for a rule without a translation: the
 * schema would otherwise be checked less than the API server checks it.
 */
export function failedRules(rules: readonly CelRule[], self: unknown): string[] {
  const failed: string[] = [];
  for (const r of rules) {
    if (isTransitionRule(r.rule)) continue;
    const check = celTranslations[r.rule];
    if (!check)
      throw new Error(`no translation of the CEL rule ${JSON.stringify(r.rule)} in src/validation/cel.ts`);
    if (typeof self !== "object" || self === null) continue;
    if (!check(self as Obj)) failed.push(r.message ?? `failed rule: ${r.rule}`);
  }
  return failed;
}
