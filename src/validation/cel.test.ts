import { describe, expect, it } from "vitest";
import { crdSchemas } from "../api/generated/schemas.ts";
import { type CelRule, celTranslations, failedRules, isTransitionRule } from "./cel.ts";

/** rulesOf lists every x-kubernetes-validations rule of a schema, wherever it is. */
function rulesOf(schema: unknown): CelRule[] {
  if (Array.isArray(schema)) return schema.flatMap(rulesOf);
  if (typeof schema !== "object" || schema === null) return [];
  const own = (schema as Record<string, unknown>)["x-kubernetes-validations"];
  return [
    ...(Array.isArray(own) ? (own as CelRule[]) : []),
    ...Object.entries(schema)
      .filter(([k]) => k !== "x-kubernetes-validations")
      .flatMap(([, v]) => rulesOf(v)),
  ];
}

const allRules = crdSchemas.flatMap((c) => c.versions.flatMap((v) => rulesOf(v.schema)));

describe("the CEL rules of crds/", () => {
  it("each rule that runs on creation has a translation (add one to cel.ts when a CRD gains a rule)", () => {
    const missing = allRules.filter((r) => !isTransitionRule(r.rule) && !(r.rule in celTranslations));
    expect(missing.map((r) => r.rule)).toEqual([]);
  });
  it("each translation is of a rule that is still in a CRD", () => {
    const inCrds = new Set(allRules.map((r) => r.rule));
    expect(Object.keys(celTranslations).filter((t) => !inCrds.has(t))).toEqual([]);
  });
  it("only the rules that read oldSelf are left to the API server", () => {
    const transition = allRules.filter((r) => isTransitionRule(r.rule));
    expect(transition.length).toBeGreaterThan(0);
    for (const r of transition) expect(r.rule).toMatch(/oldSelf/);
  });
});

const t = (rule: string) => {
  const f = celTranslations[rule];
  if (!f) throw new Error(`no translation of ${rule}`);
  return f;
};

describe("each translation means what the rule means", () => {
  it.each([
    // [rule, self, expected]
    [
      "self.method == 'container' || (has(self.searchSpace) && size(self.searchSpace) > 0) || has(self.optSpace)",
      [
        [{ method: "container" }, true],
        [{ method: "tpe", searchSpace: { x: {} } }, true],
        [{ method: "tpe", searchSpace: {} }, false],
        [{ method: "tpe", optSpace: {} }, true],
        [{ method: "tpe" }, false],
      ],
    ],
    [
      "self.method != 'container' || (has(self.generator) && has(self.generator.image) && size(self.generator.image) > 0)",
      [
        [{ method: "tpe" }, true],
        [{ method: "container" }, false],
        [{ method: "container", generator: {} }, false],
        [{ method: "container", generator: { image: "" } }, false],
        [{ method: "container", generator: { image: "x" } }, true],
      ],
    ],
    [
      "!has(self.maxPoints) || !has(self.initialPoints) || self.maxPoints >= size(self.initialPoints)",
      [
        [{}, true],
        [{ maxPoints: 1, initialPoints: [{}] }, true],
        [{ maxPoints: 1, initialPoints: [{}, {}] }, false],
      ],
    ],
    [
      "self.all(name, name.matches('^[A-Za-z_][A-Za-z0-9_.-]*$'))",
      [
        [{ lr: 1, _x: 1, "a.b-c_1": 1 }, true],
        [{ "my lr": 1 }, false],
        [{ "1x": 1 }, false],
      ],
    ],
    [
      "self.type == 'categorical' || (has(self.low) && has(self.high))",
      [
        [{ type: "categorical" }, true],
        [{ type: "float", low: 0, high: 1 }, true],
        [{ type: "int", low: 0 }, false],
      ],
    ],
    [
      "!has(self.low) || !has(self.high) || self.low < self.high",
      [
        [{ low: 1, high: 2 }, true],
        [{ low: 2, high: 2 }, false],
        [{ low: 3, high: 2 }, false],
        [{ low: 3 }, true],
        [{ low: "a", high: 1 }, true], // a type error, reported by the schema
      ],
    ],
    [
      "!has(self.log) || !self.log || (has(self.low) && self.low > 0.0)",
      [
        [{ log: true, low: 0.1 }, true],
        [{ log: true, low: 0 }, false],
        [{ log: true }, false],
        [{ log: false, low: -1 }, true],
      ],
    ],
    [
      "self.type != 'int' || ((!has(self.low) || double(int(self.low)) == self.low) && (!has(self.high) || double(int(self.high)) == self.high))",
      [
        [{ type: "int", low: 1, high: 8 }, true],
        [{ type: "int", low: 1.5, high: 8 }, false],
        [{ type: "int", low: 1, high: 7.25 }, false],
        [{ type: "float", low: 1.5 }, true],
      ],
    ],
    [
      "self.type != 'int' || !has(self.step) || double(int(self.step)) == self.step",
      [
        [{ type: "int", step: 2 }, true],
        [{ type: "int", step: 0.5 }, false],
        [{ type: "float", step: 0.5 }, true],
      ],
    ],
    [
      "self.type != 'categorical' || (!has(self.low) && !has(self.high) && !has(self.log) && !has(self.step))",
      [
        [{ type: "categorical", choices: [1] }, true],
        [{ type: "categorical", low: 0 }, false],
        [{ type: "categorical", log: false }, false],
        [{ type: "float", low: 0 }, true],
      ],
    ],
    [
      "!has(self.step) || !has(self.log) || !self.log",
      [
        [{ step: 1, log: true }, false],
        [{ step: 1, log: false }, true],
        [{ log: true }, true],
      ],
    ],
    [
      "self.all(id, id.matches('^[1-9][0-9]{0,8}$'))",
      [
        [{ "7": 1, "123456789": 1 }, true],
        [{ "1234567890": 1 }, false],
        [{ "07": 1 }, false],
        [{ "0": 1 }, false],
        [{ "-1": 1 }, false],
        [{ abc: 1 }, false],
      ],
    ],
    [
      "size(self.metadata.name) <= 240",
      [
        [{ metadata: { name: "a".repeat(240) } }, true],
        [{ metadata: { name: "a".repeat(241) } }, false],
      ],
    ],
    [
      "self.lastId >= self.firstId",
      [
        [{ firstId: 1, lastId: 1 }, true],
        [{ firstId: 2, lastId: 1 }, false],
      ],
    ],
    [
      "!has(self.losses) || self.losses.all(id, int(id) >= self.firstId && int(id) <= self.lastId)",
      [
        [{ firstId: 11, lastId: 20, losses: { "11": 1, "20": 2 } }, true],
        [{ firstId: 11, lastId: 20, losses: { "21": 1 } }, false],
        [{ firstId: 11, lastId: 20 }, true],
      ],
    ],
    [
      "!has(self.failed) || self.failed.all(id, int(id) >= self.firstId && int(id) <= self.lastId)",
      [
        [{ firstId: 11, lastId: 20, failed: { "10": "x" } }, false],
        [{ firstId: 11, lastId: 20, failed: { "12": "x" } }, true],
      ],
    ],
    [
      "!has(self.losses) || !has(self.failed) || self.failed.all(id, !(id in self.losses))",
      [
        [{ losses: { "1": 1 }, failed: { "1": "x" } }, false],
        [{ losses: { "1": 1 }, failed: { "2": "x" } }, true],
      ],
    ],
    [
      "!has(self.spec.losses) || self.spec.losses.all(id, has(self.status) && has(self.status.points) && size(self.status.points) > 0 && int(id) >= int(self.status.points[0].id) && int(id) <= int(self.status.points[size(self.status.points) - 1].id))",
      [
        [{ spec: { losses: { "2": 1 } }, status: { points: [{ id: "2" }, { id: "3" }] } }, true],
        [{ spec: { losses: { "4": 1 } }, status: { points: [{ id: "2" }, { id: "3" }] } }, false],
        [{ spec: { losses: { "1": 1 } } }, false],
        [{ spec: {} }, true],
      ],
    ],
    [
      "!has(self.spec.failed) || self.spec.failed.all(id, has(self.status) && has(self.status.points) && size(self.status.points) > 0 && int(id) >= int(self.status.points[0].id) && int(id) <= int(self.status.points[size(self.status.points) - 1].id))",
      [
        [{ spec: { failed: { "3": "x" } }, status: { points: [{ id: "2" }, { id: "3" }] } }, true],
        [{ spec: { failed: { "1": "x" } }, status: { points: [{ id: "2" }] } }, false],
      ],
    ],
  ] as [string, [Record<string, unknown>, boolean][]][])("%s", (rule, cases) => {
    for (const [self, want] of cases) expect(t(rule)(self), JSON.stringify(self)).toBe(want);
  });
});

describe("failedRules", () => {
  it("returns the messages of failing rules, skips transition rules, and refuses an untranslated rule", () => {
    const rules = [
      { rule: "!has(self.step) || !has(self.log) || !self.log", message: "no step with log" },
      { rule: "self == oldSelf", message: "fixed" },
    ];
    expect(failedRules(rules, { step: 1, log: true })).toEqual(["no step with log"]);
    expect(failedRules(rules, { step: 1 })).toEqual([]);
    expect(() => failedRules([{ rule: "self.x > 1" }], {})).toThrow("no translation of the CEL rule");
  });
});
