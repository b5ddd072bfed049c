import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateObject } from "../validation/manifest.ts";
import { convertIddsRequest, IddsConversionError, translateIddsRequest } from "./convert.ts";

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, "../../test/fixtures/idds", `${name}.json`), "utf8"));

/** withMeta is a fixture with request_metadata changed. */
function withMeta(name: string, change: Record<string, unknown>): Record<string, unknown> {
  const body = fixture(name);
  body.request_metadata = { ...(body.request_metadata as object), ...change };
  return body;
}

/** failure is the IddsConversionError that converting body throws. */
function failure(body: unknown, options = {}): IddsConversionError {
  try {
    convertIddsRequest(body, options);
  } catch (e) {
    if (e instanceof IddsConversionError) return e;
    throw e;
  }
  throw new Error("the conversion did not fail");
}

describe("iDDS's own example requests", () => {
  it("bayesian: bayes_opt bound pairs, (params, loss) pairs, budget and workload_id", () => {
    const { request, notes } = translateIddsRequest(fixture("bayesian"), { namespace: "team-a" });
    expect(request).toEqual({
      apiVersion: "hpo.dev/v1alpha1",
      kind: "HPORequest",
      metadata: {
        name: "hpo-20525134",
        namespace: "team-a",
        annotations: { "hpo.dev/workload-id": "20525134" },
      },
      spec: {
        method: "bayesian",
        optSpace: { A: [1, 4], B: [1, 10] },
        maxPoints: 20,
        pointsPerGeneration: 10,
        initialPoints: [{ params: { A: 1, B: 2 }, loss: 0.3 }, { params: { A: 1, B: 3 } }],
      },
    });
    expect(notes).toEqual([
      "lifetime (30) is dropped: HPORequests do not expire; delete the HPORequest when it is no longer needed",
    ]);
  });

  it("nevergrad: Choice and Scalar verbatim, iDDS's optimiser by default, another by option", () => {
    const request = convertIddsRequest(fixture("nevergrad"), { name: "ng" });
    expect(request.metadata?.name).toBe("ng");
    expect(request.spec).toMatchObject({
      method: "nevergrad",
      optSpace: { A: { type: "Choice", params: { choices: [1, 4] } }, B: { type: "Scalar", bounds: [0, 5] } },
    });
    expect(request.spec.generator).toBeUndefined();
    const ngopt = convertIddsRequest(fixture("nevergrad"), { nevergradOptimizer: "NGOpt" });
    expect(ngopt.spec.generator?.args).toEqual([
      "--max_points=%MAX_POINTS",
      "--num_points=%NUM_POINTS",
      "--input=%IN",
      "--output=%OUT",
      "--optimizer=NGOpt",
    ]);
  });

  it("docker: sandbox, arguments split into args, workdir and output_json", () => {
    const request = convertIddsRequest(fixture("docker"));
    expect(request.spec.method).toBe("container");
    expect(request.spec.generator).toEqual({
      image: "wguanicedew/idds_hpo_nevergrad",
      args: [
        "python",
        "/opt/hyperparameteropt_nevergrad.py",
        "--max_points=%MAX_POINTS",
        "--num_points=%NUM_POINTS",
        "--input=/data/%IN",
        "--output=/data/%OUT",
      ],
      workdir: "/data",
      outputFile: "output.json",
    });
  });

  it("docker with a free-form opt_space of the steering code's own", () => {
    const request = convertIddsRequest(fixture("docker-toymc"));
    expect(request.spec.optSpace).toEqual({ A: {} });
    expect(request.spec.initialPoints).toBeUndefined();
  });

  it("every translation passes hpo-operator validate", () => {
    for (const name of ["bayesian", "nevergrad", "docker", "docker-toymc"]) {
      const verdict = validateObject(convertIddsRequest(fixture(name)));
      expect(verdict).toMatchObject({ checked: true, problems: [] });
    }
  });
});

describe("the forms clients send", () => {
  it("takes request_metadata alone, request_type as a number or a name, and no name at all", () => {
    const meta = fixture("bayesian").request_metadata as Record<string, unknown>;
    expect(convertIddsRequest(meta).spec.method).toBe("bayesian");
    expect(convertIddsRequest({ request_type: 4, request_metadata: meta }).spec.maxPoints).toBe(20);
    const anonymous = { request_type: "HyperParameterOpt", request_metadata: { ...meta, workload_id: null } };
    expect(convertIddsRequest(anonymous).metadata).toEqual({ generateName: "hpo-" });
  });
  it("a top-level workload_id wins over request_metadata's, as in iDDS", () => {
    const body = { ...fixture("bayesian"), workload_id: 7 };
    expect(convertIddsRequest(body).metadata?.annotations).toEqual({ "hpo.dev/workload-id": "7" });
  });
  it("num_points_per_iteration (what iDDS's server reads) counts when num_points_per_generation is absent", () => {
    const body = withMeta("bayesian", { num_points_per_generation: null, num_points_per_iteration: 4 });
    expect(convertIddsRequest(body).spec.pointsPerGeneration).toBe(4);
  });
  it("no method but executable docker is the docker method, as in iDDS", () => {
    expect(convertIddsRequest(withMeta("docker", { method: null })).spec.method).toBe("container");
  });
  it("notes a nevergrad optimizer given for another method", () => {
    const { notes } = translateIddsRequest(fixture("docker"), { nevergradOptimizer: "NGOpt" });
    expect(notes).toContain("the nevergrad optimizer NGOpt is not used: the method is container");
  });
  it("notes the fields a built-in method ignores", () => {
    const { notes } = translateIddsRequest(withMeta("bayesian", { sandbox: "img:1" }));
    expect(notes).toContain(
      'request_metadata.sandbox ("img:1") is dropped: method bayesian does not run your container',
    );
  });
});

describe("what cannot be translated names the iDDS field", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["a sandbox tarball", { method: "sandbox" }, "request_metadata.method", /build an image/],
    [
      "a host program",
      { method: "docker", executable: "python3" },
      "request_metadata.executable",
      /iDDS host/,
    ],
    ["no image", { sandbox: null }, "request_metadata.sandbox", /needs the container image/],
    ["a pipe", { arguments: "python x.py | tee log" }, "request_metadata.arguments", /"\|" .* sh -c/],
    [
      "$(pwd)",
      { arguments: 'python x.py --out "$(pwd)"' },
      "request_metadata.arguments",
      /"\$\(" .*expansion/,
    ],
    [
      "an X.509 proxy",
      { arguments: "run.sh %X509_USER_PROXY_FULLNAME" },
      "request_metadata.arguments",
      /X\.509/,
    ],
    ["a relative workdir", { workdir: "data" }, "request_metadata.workdir", /absolute path/],
    ["an output path", { output_json: "/data/out.json" }, "request_metadata.output_json", /file name/],
    ["no method", { executable: "python3" }, "request_metadata.method", /is missing; set it to bayesian/],
    ["an unknown method", { method: "hyperopt" }, "request_metadata.method", /bayesian, nevergrad or docker/],
    ["zero points", { max_points: 0 }, "request_metadata.max_points", /from 1 to 1000000/],
    ["an unknown field", { max_point: 3 }, "request_metadata.max_point", /not a field hpo-operator knows/],
    [
      "a bad pair",
      { initial_points: [[1, 2]] },
      "request_metadata.initial_points[0]",
      /\(params, loss\) pair/,
    ],
    [
      "a text loss",
      { initial_points: [[{ A: 1, B: 2 }, "low"]] },
      "request_metadata.initial_points[0][1]",
      /loss/,
    ],
    [
      "two batch sizes",
      { num_points_per_iteration: 5 },
      "request_metadata.num_points_per_iteration",
      /differs/,
    ],
  ];
  it.each(cases)("%s", (_what, change, field, message) => {
    const e = failure(withMeta("docker", change));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it("problems the validation finds are named by their iDDS field", () => {
    const space = failure(withMeta("bayesian", { opt_space: { A: [4, 1] } }));
    expect(space.field).toBe("request_metadata.opt_space");
    expect(space.message).toMatch(/bounds \[4, 1\] must be given as \[low, high\]/);
    const outside = failure(withMeta("bayesian", { initial_points: [[{ A: 9, B: 2 }, 0.1]] }));
    expect(outside.field).toBe("request_metadata.initial_points[0]");
    const budget = failure(withMeta("bayesian", { max_points: 1 }));
    expect(budget.field).toBe("request_metadata.max_points");
    expect(budget.message).toMatch(/at least the number of spec.initialPoints/);
    const noSpace = failure(withMeta("bayesian", { opt_space: null }));
    expect(noSpace.field).toBe("request_metadata");
    expect(noSpace.message).toMatch(/search space is required/);
    expect(failure(fixture("nevergrad"), { nevergradOptimizer: "a;b" }).message).toMatch(
      /the nevergrad optimizer "a;b" is not a name of nevergrad's registry/,
    );
    const badName = failure(fixture("bayesian"), { name: "Not_A_Name" });
    expect(badName.field).toBe("name (the HPORequest's name)");
  });

  it("refuses other request types and iDDS workflows", () => {
    expect(failure({ ...fixture("bayesian"), request_type: 2 }).message).toMatch(
      /^request_type: StageIn \(2\)/,
    );
    expect(failure({ ...fixture("bayesian"), request_type: "Tape" }).field).toBe("request_type");
    expect(failure(withMeta("bayesian", { workflow: {} })).field).toBe("request_metadata.workflow");
    expect(failure([1, 2]).message).toMatch(/must be an iDDS request/);
    expect(failure({ ...fixture("bayesian"), request_metadata: 3 }).field).toBe("request_metadata");
    expect(failure({ ...fixture("bayesian"), owner: "me" }).field).toBe("owner");
  });
});
