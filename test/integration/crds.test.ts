/**
 * The API as a user meets it: the CRDs of crds/ on the real kube-apiserver, driven with the real
 * kubectl. Valid manifests are accepted, invalid ones are rejected with a message that says what to
 * fix, immutable fields stay immutable, and `kubectl explain` explains.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";

type Obj = Record<string, unknown>;

let ns = "";
let seq = 0;
beforeAll(() => {
  ns = newNamespace("crds");
});
afterAll(() => deleteNamespace(ns));

function baseRequest(): Obj {
  return {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HPORequest",
    metadata: { name: `req-${++seq}` },
    spec: {
      method: "bayesian",
      searchSpace: {
        lr: { type: "float", low: 1e-5, high: 0.1, log: true },
        layers: { type: "int", low: 1, high: 8 },
        optimizer: { type: "categorical", choices: ["adam", "sgd"] },
      },
    },
  };
}

function baseSet(): Obj {
  return {
    apiVersion: "hpo.dev/v1alpha1",
    kind: "HyperParameterSet",
    metadata: { name: `set-${++seq}` },
    spec: { request: "mnist-lr", firstId: 1, lastId: 10 },
  };
}

/** set writes value at a dotted path (creating objects on the way); undefined deletes the key. */
function set(obj: Obj, path: string, value: unknown): Obj {
  const keys = path.split(".");
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Obj;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return obj;
}

/** create sends JSON, not YAML: kubectl reads YAML 1.1, where an unquoted yes is a boolean. */
function create(obj: Obj) {
  return kubectl(["create", "-n", ns, "-f", "-"], JSON.stringify(obj));
}

const space = (name: string, def: unknown) => ["spec.searchSpace", { [name]: def }] as const;

interface Invalid {
  name: string;
  make: () => Obj;
  /** Substrings the error must contain: the field and what to fix. */
  expect: string[];
}

const req =
  (...edits: (readonly [string, unknown])[]) =>
  () => {
    const o = baseRequest();
    for (const [p, v] of edits) set(o, p, v);
    return o;
  };

const invalidRequests: Invalid[] = [
  {
    name: "low above high",
    make: req(space("x", { type: "float", low: 2, high: 1 })),
    expect: ["spec.searchSpace[x]", "low must be less than high"],
  },
  {
    name: "low equal to high",
    make: req(space("x", { type: "int", low: 3, high: 3 })),
    expect: ["low must be less than high"],
  },
  {
    name: "log with low = 0",
    make: req(space("lr", { type: "float", low: 0, high: 1, log: true })),
    expect: ["spec.searchSpace[lr]", "log: true needs low > 0"],
  },
  {
    name: "log with a negative low",
    make: req(space("lr", { type: "float", low: -1, high: 1, log: true })),
    expect: ["log: true needs low > 0"],
  },
  {
    name: "categorical with empty choices",
    make: req(space("opt", { type: "categorical", choices: [] })),
    expect: ["spec.searchSpace.opt.choices", "at least 1 items"],
  },
  {
    name: "int with a fractional low",
    make: req(space("layers", { type: "int", low: 1.5, high: 8 })),
    expect: ["spec.searchSpace[layers]", "int parameters need whole-number low and high"],
  },
  {
    name: "int with a fractional high",
    make: req(space("layers", { type: "int", low: 1, high: 7.25 })),
    expect: ["int parameters need whole-number low and high"],
  },
  {
    name: "float without high",
    make: req(space("x", { type: "float", low: 0 })),
    expect: ["float and int parameters need both low and high"],
  },
  {
    name: "unknown parameter type",
    make: req(space("x", { type: "string", low: 0, high: 1 })),
    expect: ["spec.searchSpace.x.type", 'supported values: "float", "int", "categorical"'],
  },
  {
    name: "parameter without a type",
    make: req(space("x", { low: 0, high: 1 })),
    expect: ["spec.searchSpace.x.type", "Required value"],
  },
  {
    name: "low given as a string",
    make: req(space("x", { type: "float", low: "small", high: 1 })),
    expect: ["spec.searchSpace.x.low", "must be of type number"],
  },
  {
    name: "categorical with bounds",
    make: req(space("opt", { type: "categorical", choices: ["a"], low: 0, high: 1 })),
    expect: ["categorical parameters take choices only"],
  },
  {
    name: "step with log",
    make: req(space("lr", { type: "float", low: 0.001, high: 1, log: true, step: 0.1 })),
    expect: ["step and log: true cannot be combined"],
  },
  {
    name: "int with a fractional step",
    make: req(space("n", { type: "int", low: 0, high: 10, step: 0.5 })),
    expect: ["the step of an int parameter must be a whole number"],
  },
  {
    name: "step of zero",
    make: req(space("x", { type: "float", low: 0, high: 1, step: 0 })),
    expect: ["spec.searchSpace.x.step", "should be greater than 0"],
  },
  {
    name: "parameter name with a space",
    make: req(space("my lr", { type: "float", low: 0, high: 1 })),
    expect: ["spec.searchSpace", "parameter names must start with a letter"],
  },
  {
    name: "too many parameters",
    make: req([
      "spec.searchSpace",
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`p${i}`, { type: "float", low: 0, high: 1 }])),
    ]),
    expect: ["spec.searchSpace", "must have at most 64 items"],
  },
  {
    name: "pointsPerGeneration 0",
    make: req(["spec.pointsPerGeneration", 0]),
    expect: ["spec.pointsPerGeneration", "should be greater than or equal to 1"],
  },
  {
    name: "maxPoints 0",
    make: req(["spec.maxPoints", 0]),
    expect: ["spec.maxPoints", "should be greater than or equal to 1"],
  },
  {
    name: "maxPoints as a string",
    make: req(["spec.maxPoints", "ten"]),
    expect: ["spec.maxPoints", "must be of type integer"],
  },
  {
    name: "minUnevaluatedPoints -1",
    make: req(["spec.minUnevaluatedPoints", -1]),
    expect: ["spec.minUnevaluatedPoints", "should be greater than or equal to 0"],
  },
  {
    name: "container without a generator",
    make: req(["spec.method", "container"]),
    expect: ["method: container needs spec.generator.image"],
  },
  {
    name: "container with an empty image",
    make: req(["spec.method", "container"], ["spec.generator", { image: "" }]),
    expect: ["method: container needs spec.generator.image"],
  },
  {
    name: "unknown method",
    make: req(["spec.method", "hyperband"]),
    expect: ["spec.method", "Unsupported value", '"bayesian"'],
  },
  { name: "no method", make: req(["spec.method", undefined]), expect: ["spec.method", "Required value"] },
  {
    name: "built-in method without a search space",
    make: req(["spec.searchSpace", undefined]),
    expect: ["a search space is required"],
  },
  {
    name: "maxPoints below the initial points",
    make: req(
      ["spec.maxPoints", 1],
      ["spec.initialPoints", [{ params: { layers: 1 } }, { params: { layers: 2 } }]],
    ),
    expect: ["spec.maxPoints must be at least the number of spec.initialPoints"],
  },
  {
    name: "initial point without params",
    make: req(["spec.initialPoints", [{ loss: 0.3 }]]),
    expect: ["spec.initialPoints[0].params", "Required value"],
  },
  {
    name: "initial point with a string loss",
    make: req(["spec.initialPoints", [{ params: { layers: 2 }, loss: "low" }]]),
    expect: ["spec.initialPoints[0].loss", "must be of type number"],
  },
  {
    name: "unknown objective direction",
    make: req(["spec.objective", { direction: "up" }]),
    expect: ["spec.objective.direction", "Unsupported value"],
  },
  {
    name: "destination that is not /topic or /queue",
    make: req(["spec.notification", { destination: "hpo.points" }]),
    expect: ["spec.notification.destination", "should match"],
  },
  {
    name: "generator timeout 0",
    make: req(["spec.generator", { image: "x", timeoutSeconds: 0 }]),
    expect: ["spec.generator.timeoutSeconds", "should be greater than or equal to 1"],
  },
  {
    name: "relative generator workdir",
    make: req(["spec.generator", { image: "x", workdir: "data" }]),
    expect: ["spec.generator.workdir", "should match '^/'"],
  },
  {
    name: "suspend as a string",
    make: req(["spec.suspend", "true"]),
    expect: ["spec.suspend", "must be of type boolean"],
  },
  { name: "no spec at all", make: req(["spec", undefined]), expect: ["spec", "Required value"] },
];

const setWith = (path: string, value: unknown) => () => set(baseSet(), path, value);
const invalidSets: Invalid[] = [
  {
    name: "loss keyed by a name",
    make: setWith("spec.losses", { abc: 0.1 }),
    expect: ["spec.losses", "the keys of spec.losses are point ids, digits without leading zeros"],
  },
  {
    name: "loss keyed by a negative number",
    make: setWith("spec.losses", { "-1": 0.1 }),
    expect: ["the keys of spec.losses are point ids"],
  },
  {
    name: "loss given as a string",
    make: setWith("spec.losses", { "7": "0.12" }),
    expect: ["spec.losses.7", "must be of type number"],
  },
  {
    name: "failure keyed by a name",
    make: setWith("spec.failed", { x: "OOMKilled" }),
    expect: ["the keys of spec.failed are point ids, digits without leading zeros"],
  },
  {
    name: "no request",
    make: setWith("spec.request", undefined),
    expect: ["spec.request", "Required value"],
  },
];

describe("invalid HPORequests are rejected with a message that says what to fix", () => {
  it("has at least 25 cases", () =>
    expect(invalidRequests.length + invalidSets.length).toBeGreaterThanOrEqual(25));
  it.each(invalidRequests.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = create(c.make());
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain("is invalid");
    for (const s of c.expect) expect(r.stderr).toContain(s);
  });
});

describe("invalid HyperParameterSets are rejected", () => {
  it.each(invalidSets.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = create(c.make());
    expect(r.code, r.stdout).not.toBe(0);
    for (const s of c.expect) expect(r.stderr).toContain(s);
  });
});

describe("valid edge cases are accepted", () => {
  const valid: [string, () => Obj][] = [
    [
      "mixed-type categorical choices",
      req(space("c", { type: "categorical", choices: [1, "a", true, 2.5] })),
    ],
    ["an int on a log scale", req(space("n", { type: "int", low: 1, high: 1024, log: true }))],
    [
      "a float and an int with steps",
      req(
        space("x", { type: "float", low: 0, high: 1, step: 0.25 }),
        space("n", { type: "int", low: 0, high: 100, step: 5 }),
      ),
    ],
    ["negative bounds", req(space("x", { type: "float", low: -5, high: -1 }))],
    [
      "a container generator without a space",
      req(
        ["spec.method", "container"],
        ["spec.searchSpace", undefined],
        ["spec.generator", { image: "registry.example/gen:1" }],
      ),
    ],
    [
      "an iDDS nevergrad optSpace only",
      req(
        ["spec.method", "tpe"],
        ["spec.searchSpace", undefined],
        [
          "spec.optSpace",
          { A: { type: "Choice", params: { choices: [1, 2] } }, B: { type: "Scalar", bounds: [0, 5] } },
        ],
      ),
    ],
    [
      "initial points with and without losses",
      req(
        ["spec.maxPoints", 2],
        ["spec.initialPoints", [{ params: { layers: 2 }, loss: 0.4 }, { params: { layers: 3 } }]],
      ),
    ],
  ];
  it.each(valid)("%s", (_name, make) => {
    const r = create(make());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("fills the documented defaults", () => {
    const o = baseRequest();
    set(o, "spec.method", "container");
    set(o, "spec.generator", { image: "registry.example/gen:1" });
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(o));
    const got = JSON.parse(
      kubectlOk(["get", "-n", ns, "hpor", (o.metadata as Obj).name as string, "-o", "json"]),
    );
    expect(got.spec).toMatchObject({
      pointsPerGeneration: 10,
      minUnevaluatedPoints: 0,
      suspend: false,
      objective: { direction: "minimize" },
      generator: { outputFile: "output.json", workdir: "/data", timeoutSeconds: 600, retries: 3 },
    });
    expect(got.spec.maxPoints).toBeUndefined();
  });
});

describe("fields fixed at creation stay fixed; the budget stays editable", () => {
  let name = "";
  beforeAll(() => {
    const o = req(["spec.maxPoints", 20], ["spec.seed", 7])();
    name = (o.metadata as Obj).name as string;
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(o));
  });
  const patch = (p: unknown) =>
    kubectl(["patch", "-n", ns, "hpor", name, "--type", "merge", "-p", JSON.stringify(p)]);

  it.each([
    ["method", { spec: { method: "tpe" } }, "spec.method cannot be changed after creation"],
    [
      "a parameter's bounds",
      { spec: { searchSpace: { lr: { high: 0.5 } } } },
      "spec.searchSpace cannot be changed after creation",
    ],
    [
      "a new parameter",
      { spec: { searchSpace: { dropout: { type: "float", low: 0, high: 0.5 } } } },
      "spec.searchSpace cannot be changed",
    ],
    [
      "the objective",
      { spec: { objective: { direction: "maximize" } } },
      "spec.objective cannot be changed after creation",
    ],
    ["the seed", { spec: { seed: 8 } }, "spec.seed cannot be changed after creation"],
    ["removing the seed", { spec: { seed: null } }, "spec.seed cannot be added or removed after creation"],
    [
      "adding an optSpace",
      { spec: { optSpace: { a: [1, 2] } } },
      "spec.optSpace cannot be added or removed after creation",
    ],
    [
      "adding initial points",
      { spec: { initialPoints: [{ params: { layers: 1 } }] } },
      "spec.initialPoints cannot be added or removed",
    ],
  ])("rejects a change of %s", (_what, p, message) => {
    const r = patch(p);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it("accepts changes of maxPoints, pointsPerGeneration, minUnevaluatedPoints and suspend", () => {
    const r = patch({
      spec: { maxPoints: 50, pointsPerGeneration: 5, minUnevaluatedPoints: 2, suspend: true },
    });
    expect(r.stderr).toBe("");
    const got = JSON.parse(kubectlOk(["get", "-n", ns, "hpor", name, "-o", "json"]));
    expect(got.spec).toMatchObject({
      maxPoints: 50,
      pointsPerGeneration: 5,
      minUnevaluatedPoints: 2,
      suspend: true,
    });
  });

  it("keeps a HyperParameterSet's id range fixed", () => {
    const s = baseSet();
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(s));
    const name = (s.metadata as Obj).name as string;
    const r = kubectl(["patch", "-n", ns, "hps", name, "--type", "merge", "-p", '{"spec":{"lastId":20}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.firstId and spec.lastId are fixed");
  });

  it("keeps a HyperParameterSet's request fixed", () => {
    const s = baseSet();
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(s));
    const r = kubectl([
      "patch",
      "-n",
      ns,
      "hps",
      (s.metadata as Obj).name as string,
      "--type",
      "merge",
      "-p",
      '{"spec":{"request":"other"}}',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.request cannot be changed");
  });
});

describe("reporting losses with kubectl patch", () => {
  let name = "";
  beforeAll(() => {
    const s = baseSet();
    name = (s.metadata as Obj).name as string;
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(s));
    // The operator's part: the set holds points 1 to 8 (of its range 1 to 10).
    const points = Array.from({ length: 8 }, (_, i) => ({
      id: String(i + 1),
      params: { x: i },
      generation: 1,
    }));
    kubectlOk([
      "patch",
      "-n",
      ns,
      "hps",
      name,
      "--subresource=status",
      "--type",
      "merge",
      "-p",
      JSON.stringify({ status: { total: 8, points } }),
    ]);
  });
  const patch = (p: string) => kubectl(["patch", "-n", ns, "hps", name, "--type", "merge", "-p", p]);

  it("accepts the documented merge patch and keeps earlier losses", () => {
    expect(patch('{"spec":{"losses":{"7":0.12}}}').code).toBe(0);
    expect(patch('{"spec":{"losses":{"1":0.52}}}').code).toBe(0);
    expect(patch('{"spec":{"failed":{"3":"OOMKilled"}}}').code).toBe(0);
    const got = JSON.parse(kubectlOk(["get", "-n", ns, "hps", name, "-o", "json"]));
    expect(got.spec.losses).toEqual({ "7": 0.12, "1": 0.52 });
    expect(got.spec.failed).toEqual({ "3": "OOMKilled" });
  });

  it("rejects a string loss", () => {
    const r = patch('{"spec":{"losses":{"8":"0.1"}}}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("must be of type number");
  });

  it("rejects a key that is not a point id", () => {
    const r = patch('{"spec":{"losses":{"seven":0.1}}}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the keys of spec.losses are point ids");
  });

  it("keeps the first loss: the same loss again is fine, another is refused", () => {
    expect(patch('{"spec":{"losses":{"7":0.12}}}').code).toBe(0);
    const r = patch('{"spec":{"losses":{"7":0.5}}}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the first reported loss of a point stands");
  });

  it("refuses a loss for a point the set does not hold yet, or holds in another set", () => {
    const notYet = patch('{"spec":{"losses":{"9":0.1}}}');
    expect(notYet.code).not.toBe(0);
    expect(notYet.stderr).toContain("spec.losses names a point this set does not hold: it holds ids 1 to 8");
    const other = patch('{"spec":{"losses":{"11":0.1}}}');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("spec.losses names a point of another set");
    const failure = patch('{"spec":{"failed":{"9":"OOMKilled"}}}');
    expect(failure.code).not.toBe(0);
    expect(failure.stderr).toContain("spec.failed names a point this set does not hold");
  });

  it("refuses a second outcome of another kind, and the removal of outcomes", () => {
    const lossOnFailed = patch('{"spec":{"losses":{"3":0.2}}}');
    expect(lossOnFailed.code).not.toBe(0);
    expect(lossOnFailed.stderr).toContain("a point has one outcome");
    const failOnEvaluated = patch('{"spec":{"failed":{"1":"late"}}}');
    expect(failOnEvaluated.code).not.toBe(0);
    expect(failOnEvaluated.stderr).toContain("a point has one outcome");
    for (const [field, message] of [
      ["losses", "spec.losses cannot be removed"],
      ["failed", "spec.failed cannot be removed"],
    ]) {
      const r = patch(JSON.stringify({ spec: { [field as string]: null } }));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    const changedReason = patch('{"spec":{"failed":{"3":"Evicted"}}}');
    expect(changedReason.code).not.toBe(0);
    expect(changedReason.stderr).toContain("a recorded failure cannot be changed or removed");
  });
});

describe("the samples and the printer columns", () => {
  it("applies config/samples cleanly and shows the columns of both kinds", () => {
    expect(kubectl(["apply", "-n", ns, "-k", "config/samples"]).stderr).toBe("");
    const s = set(baseSet(), "metadata.name", "mnist-lr");
    kubectlOk(["create", "-n", ns, "-f", "-"], JSON.stringify(s));
    kubectlOk([
      "patch",
      "-n",
      ns,
      "hpor",
      "mnist-lr",
      "--subresource=status",
      "--type",
      "merge",
      "-p",
      JSON.stringify({
        status: { phase: "Waiting", points: { total: 30, evaluated: 20 }, best: { id: "17", loss: 0.125 } },
      }),
    ]);
    kubectlOk([
      "patch",
      "-n",
      ns,
      "hps",
      "mnist-lr",
      "--subresource=status",
      "--type",
      "merge",
      "-p",
      JSON.stringify({ status: { total: 10 } }),
    ]);

    const hpor = kubectlOk(["get", "-n", ns, "hpor"]).split("\n");
    expect(hpor[0]).toMatch(/^NAME\s+METHOD\s+PHASE\s+POINTS\s+EVALUATED\s+BEST LOSS\s+AGE$/);
    expect(hpor.find((l) => l.startsWith("mnist-lr "))).toMatch(
      /^mnist-lr\s+bayesian\s+Waiting\s+30\s+20\s+0.125\s+\d+s$/,
    );
    expect(hpor.some((l) => /^idds-style\s+tpe\s/.test(l))).toBe(true);
    expect(hpor.some((l) => /^my-steering\s+container\s/.test(l))).toBe(true);

    const hps = kubectlOk(["get", "-n", ns, "hps", "mnist-lr"]).split("\n");
    expect(hps[0]).toMatch(/^NAME\s+REQUEST\s+FIRST\s+LAST\s+POINTS\s+AGE$/);
    expect(hps[1]).toMatch(/^mnist-lr\s+mnist-lr\s+1\s+10\s+10\s+\d+s$/);

    const both = kubectlOk(["get", "-n", ns, "hpo"]);
    expect(both).toContain("hporequest.hpo.dev/mnist-lr");
    expect(both).toContain("hyperparameterset.hpo.dev/mnist-lr");
    const short = kubectlOk(["get", "-n", ns, "hpor,hps", "-o", "name"]);
    expect(short).toContain("hporequest.hpo.dev/idds-style");
  });
});

describe("kubectl explain", () => {
  it("explains the search space", () => {
    const out = kubectlOk(["explain", "hporequest.spec.searchSpace"]);
    expect(out).toContain("The typed search space used by the built-in methods");
    expect(out).toContain("GROUP:      hpo.dev");
  });
  it("explains a parameter's fields", () => {
    const out = kubectlOk(["explain", "hpor.spec.searchSpace.log"]).replace(/\s+/g, " ");
    expect(out).toContain("Search on a logarithmic scale");
  });
  it("explains how to report a loss", () => {
    const out = kubectlOk(["explain", "hps.spec.losses"]).replace(/\s+/g, " ");
    expect(out).toContain("a map from point id");
  });
  it("runs against the server the global setup reports", () => {
    expect(inject("serverVersion")).toMatch(/^v1\.\d+\.\d+/);
  });
});
