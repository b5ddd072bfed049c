/**
 * The API as a user meets it: the CRDs of crds/ on the real kube-apiserver, driven with the real
 * kubectl. Valid manifests are accepted, invalid ones are rejected with a message that says what to
 * fix, immutable fields stay immutable, and `kubectl explain` explains. `hpo-operator validate`
 * gives the same verdict offline on the same manifests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  baseRequest,
  baseSet,
  invalidRequests,
  invalidSets,
  type Obj,
  req,
  set,
  validRequests,
} from "../fixtures/manifests.ts";
import { repoRoot } from "../support/controlplane.ts";
import { deleteNamespace, kubectl, kubectlOk, newNamespace } from "../support/kubectl.ts";

let ns = "";
beforeAll(() => {
  ns = newNamespace("crds");
});
afterAll(() => deleteNamespace(ns));

/** create sends JSON, not YAML: kubectl reads YAML 1.1, where an unquoted yes is a boolean. */
function create(obj: Obj) {
  return kubectl(["create", "-n", ns, "-f", "-"], JSON.stringify(obj));
}

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

describe("hpo-operator validate gives the API server's verdict offline", () => {
  const all = [...invalidRequests, ...invalidSets];
  const dir = mkdtempSync(join(tmpdir(), "hpo-validate-"));
  const fileOf = (name: string) => join(dir, `${name.replace(/[^A-Za-z0-9]+/g, "-")}.json`);
  /** lines holds validate's output lines per file: one run of the real command for every manifest. */
  const lines = new Map<string, string[]>();
  let code: number | null = null;
  beforeAll(() => {
    const files = [
      ...all.map((c) => [c.name, c.make()] as const),
      ...validRequests.map(([n, make]) => [n, make()] as const),
    ].map(([name, obj]) => {
      writeFileSync(fileOf(name), JSON.stringify(obj, null, 2));
      return fileOf(name);
    });
    const r = spawnSync(process.execPath, [join(repoRoot, "src/cli/main.ts"), "validate", ...files], {
      encoding: "utf8",
      timeout: 60_000,
    });
    code = r.status;
    for (const line of r.stdout.split("\n").filter(Boolean)) {
      const file = line.slice(0, line.indexOf(":"));
      lines.set(file, [...(lines.get(file) ?? []), line]);
    }
  });

  it("exits 1: some manifests are invalid", () => expect(code).toBe(1));

  it.each(all.map((c) => [c.name, c] as const))("%s: both refuse it, naming the same field", (_n, c) => {
    const server = kubectl(["apply", "--dry-run=server", "-n", ns, "-f", fileOf(c.name)]);
    expect(server.code, server.stdout).not.toBe(0);
    expect(server.stderr).toContain(`${c.field}: `);
    const offline = (lines.get(fileOf(c.name)) ?? []).join("\n");
    expect(offline).toContain(`: ${c.field}: `);
    for (const s of c.expect) expect(offline).toContain(s);
  });

  it.each(validRequests.map(([name]) => [name] as const))(
    "%s: both accept it (but for the operator's checks)",
    (name) => {
      const server = kubectl(["apply", "--dry-run=server", "-n", ns, "-f", fileOf(name)]);
      expect(server.stderr).toBe("");
      expect(server.code).toBe(0);
      for (const l of lines.get(fileOf(name)) ?? [])
        expect(l).toContain("the operator's check: the API server accepts this");
    },
  );
});

describe("invalid HyperParameterSets are rejected", () => {
  it.each(invalidSets.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = create(c.make());
    expect(r.code, r.stdout).not.toBe(0);
    for (const s of c.expect) expect(r.stderr).toContain(s);
  });
});

describe("valid edge cases are accepted", () => {
  it.each(validRequests)("%s", (_name, make) => {
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
