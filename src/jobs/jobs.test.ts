import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { HPORequest, Point } from "../api/index.ts";
import { frameOutput, unframeOutput } from "./frame.ts";
import { configMapFor, jobFor, jobName } from "./manifests.ts";
import { defaultPodPolicy, restricted } from "./policy.ts";
import { checkOutput, inputDocument, placeholdersFor, substitute, UNCAPPED } from "./protocol.ts";
import { describeFailure, type Pod, pullProblem } from "./status.ts";

const req = (spec: Partial<HPORequest["spec"]> = {}): HPORequest => ({
  apiVersion: "hpo.dev/v1alpha1",
  metadata: { name: "steer", namespace: "team-a", uid: "u-1" },
  spec: {
    method: "container",
    maxPoints: 50,
    generator: {
      image: "registry.example/steer:1",
      args: ["--max_points=%MAX_POINTS", "--num_points=%NUM_POINTS", "--input=/data/%IN", "--output=%OUT"],
    },
    ...spec,
  },
});
const settings = { operatorImage: "hpo-operator:test", ttlSecondsAfterFinished: 3600, gzipAboveBytes: 1000 };

describe("the output frame", () => {
  it("round-trips any JSON, large ones compressed", () => {
    const json = JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ x: i, pad: "p".repeat(50) })));
    const framed = frameOutput(json);
    expect(framed.length).toBeLessThan(json.length / 5);
    expect(unframeOutput(`some noise\n${framed}trailing`)).toEqual({ ok: true, json });
    // A line of the other stream (stderr) between the frame's lines changes nothing.
    const lines = framed.split("\n");
    lines.splice(3, 0, "stage-out: a warning on stderr");
    expect(unframeOutput(lines.join("\n"))).toEqual({ ok: true, json });
  });
  it("detects a missing, cut or corrupted frame", () => {
    const framed = frameOutput('[{"x":1}]');
    expect(unframeOutput("nothing here")).toMatchObject({
      ok: false,
      error: expect.stringContaining("no output frame"),
    });
    expect(unframeOutput(framed.split("\n").slice(0, 2).join("\n"))).toMatchObject({
      ok: false,
      error: expect.stringContaining("cut short"),
    });
    const lines = framed.split("\n");
    const header = (lines[0] as string).replace(/sha256=[0-9a-f]{64}/, `sha256=${"0".repeat(64)}`);
    expect(unframeOutput([header, ...lines.slice(1)].join("\n"))).toMatchObject({
      ok: false,
      error: expect.stringContaining("checksum"),
    });
    const wrongLength = (lines[0] as string).replace(/bytes=\d+/, "bytes=3");
    expect(unframeOutput([wrongLength, ...lines.slice(1)].join("\n"))).toMatchObject({
      ok: false,
      error: expect.stringContaining("header says 3"),
    });
  });
});

describe("reading the output frame under a limit", () => {
  const json = JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ x: i })));
  it("refuses an output over the limit by its header, naming the limit", () => {
    expect(unframeOutput(frameOutput(json), json.length)).toEqual({ ok: true, json });
    expect(unframeOutput(frameOutput(json), 1024)).toEqual({
      ok: false,
      error: `the generator's output is ${json.length} bytes, over the limit of 1 KiB (the operator's --generator-output-limit)`,
    });
  });
  it("stops decompressing at the limit when the header lies (a gzip bomb)", () => {
    const bomb = " ".repeat(50 * 1024 * 1024);
    const lines = frameOutput(bomb).split("\n");
    const lying = (lines[0] as string).replace(/bytes=\d+/, "bytes=10");
    expect(unframeOutput([lying, ...lines.slice(1)].join("\n"), 1024 * 1024)).toEqual({
      ok: false,
      error:
        "the generator's output is larger than the limit of 1 MiB (the operator's --generator-output-limit)",
    });
  });
});

describe("the iDDS protocol", () => {
  it("substitutes the placeholders as iDDS does", () => {
    const p = placeholdersFor(req(), 7);
    expect(
      ["--max_points=%MAX_POINTS", "%NUM_POINTS", "--input=/data/%IN", "%OUT"].map((a) => substitute(a, p)),
    ).toEqual(["--max_points=50", "7", "--input=/data/idds_input.json", "output.json"]);
    expect(placeholdersFor(req({ maxPoints: undefined }), 1).maxPoints).toBe(UNCAPPED);
  });
  it("writes every point with its loss or null, and the space as opt_space", () => {
    const points: Point[] = [
      { id: "1", params: { x: 1 }, generation: 1, state: "Evaluated", loss: 0.5, set: "r-1" },
      { id: "2", params: { x: 2 }, generation: 1, state: "New", set: "r-1" },
      { id: "3", params: { x: 3 }, generation: 1, state: "Failed", reason: "OOM", set: "r-1" },
    ];
    const space = { x: { type: "float" as const, low: 0, high: 5 } };
    expect(JSON.parse(inputDocument(req({ searchSpace: space }), points))).toEqual({
      points: [
        [{ x: 1 }, 0.5],
        [{ x: 2 }, null],
        [{ x: 3 }, null],
      ],
      opt_space: space,
    });
    expect(
      JSON.parse(inputDocument(req({ searchSpace: space, optSpace: { x: [0, 5] } }), [])).opt_space,
    ).toEqual({ x: [0, 5] });
    expect(JSON.parse(inputDocument(req(), [])).opt_space).toBeNull();
  });
  it("accepts a list of objects and says what is wrong with anything else", () => {
    expect(checkOutput("[]")).toEqual({ ok: true, points: [] });
    expect(checkOutput('[{"x":1}]')).toEqual({ ok: true, points: [{ x: 1 }] });
    expect(checkOutput("{")).toMatchObject({ ok: false, error: expect.stringContaining("not valid JSON") });
    expect(checkOutput('{"x":1}')).toMatchObject({
      ok: false,
      error: "the output must be a JSON list of points, got object",
    });
    expect(checkOutput('[{"x":1}, 5]')).toMatchObject({
      ok: false,
      error: expect.stringContaining("point 2 of the output"),
    });
  });
});

describe("the Job", () => {
  it("has a deterministic name of at most 63 characters", () => {
    expect(jobName("steer", 3, 1)).toBe("steer-gen-3");
    expect(jobName("steer", 3, 2)).toBe("steer-gen-3-r1");
    const long = jobName("a".repeat(80), 12, 4);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/-gen-12-r3$/);
    expect(jobName("a".repeat(80), 12, 4)).toBe(long);
    expect(jobName(`${"a".repeat(79)}b`, 12, 4)).not.toBe(long);
  });
  it("runs stage-in, the generator and stage-out around one emptyDir, safe by default", () => {
    const job = jobFor(req(), "steer-gen-1", 1, placeholdersFor(req(), 5), settings);
    const pod = job.spec.template.spec as Record<string, unknown> & {
      initContainers: Record<string, unknown>[];
      containers: Record<string, unknown>[];
    };
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      activeDeadlineSeconds: 600,
      ttlSecondsAfterFinished: 3600,
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.initContainers.map((c) => c.name)).toEqual(["stage-in", "generator"]);
    expect(pod.containers.map((c) => c.name)).toEqual(["stage-out"]);
    const [stageIn, gen] = pod.initContainers as [Record<string, unknown>, Record<string, unknown>];
    expect(stageIn).toMatchObject({
      image: "hpo-operator:test",
      args: ["stage-in", "--from=/hpo-input", "--to=/data"],
    });
    expect(stageIn.securityContext).toMatchObject({ ...restricted, readOnlyRootFilesystem: true });
    expect(gen).toMatchObject({
      image: "registry.example/steer:1",
      workingDir: "/data",
      args: ["--max_points=50", "--num_points=5", "--input=/data/idds_input.json", "--output=output.json"],
      securityContext: { ...restricted, readOnlyRootFilesystem: true },
      resources: defaultPodPolicy.defaultResources,
      volumeMounts: [
        { name: "work", mountPath: "/data" },
        { name: "tmp", mountPath: "/tmp" },
      ],
    });
    expect(pod.volumes).toEqual([
      { name: "work", emptyDir: { sizeLimit: "1Gi" } },
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "input", configMap: { name: "steer-gen-1" } },
    ]);
    expect(pod.containers[0]).toMatchObject({
      args: ["stage-out", "--file=/data/output.json", "--input=/data/idds_input.json"],
    });
    expect(job.metadata.ownerReferences[0]).toMatchObject({
      kind: "HPORequest",
      name: "steer",
      uid: "u-1",
      controller: true,
    });
  });
  it("gives the generator the user's settings", () => {
    const r = req({
      generator: {
        image: "x",
        workdir: "/work",
        outputFile: "out.json",
        timeoutSeconds: 30,
        serviceAccountName: "steer",
        securityContext: { runAsUser: 0 },
        env: [{ name: "A", value: "1" }],
        nodeSelector: { gpu: "yes" },
        resources: { limits: { memory: "1Gi" } },
      },
    });
    expect(() => jobFor(r, "n", 1, placeholdersFor(r, 1), settings)).toThrow(
      /the generator pod policy refuses this request: spec.generator.securityContext.runAsUser: 0/,
    );
    const policy = { ...defaultPodPolicy, allowRoot: true, serviceAccounts: ["steer"] };
    const job = jobFor(r, "n", 1, placeholdersFor(r, 1), { ...settings, policy, outputLimitBytes: 1000 });
    const pod = job.spec.template.spec as Record<string, unknown> & {
      initContainers: Record<string, unknown>[];
      containers: Record<string, unknown>[];
    };
    expect(job.spec.activeDeadlineSeconds).toBe(30);
    expect(pod).toMatchObject({
      serviceAccountName: "steer",
      automountServiceAccountToken: true,
      nodeSelector: { gpu: "yes" },
    });
    expect(pod.initContainers[1]).toMatchObject({
      workingDir: "/work",
      securityContext: { ...restricted, readOnlyRootFilesystem: true, runAsUser: 0, runAsNonRoot: false },
      env: [{ name: "A", value: "1" }],
      resources: { limits: { memory: "1Gi" } },
    });
    expect(pod.containers[0]).toMatchObject({
      args: ["stage-out", "--file=/work/out.json", "--input=/work/idds_input.json", "--max-bytes=1000"],
    });
  });
  it("needs no /tmp volume for a generator that works in /tmp", () => {
    const r = req({ generator: { image: "x", workdir: "/tmp" } });
    const pod = jobFor(r, "n", 1, placeholdersFor(r, 1), settings).spec.template.spec as {
      volumes: { name: string }[];
    };
    expect(pod.volumes.map((v) => v.name)).toEqual(["work", "input"]);
  });
  it("lets stage-out check the points against opt_space only when that is the operator's space", () => {
    const both = req({
      searchSpace: { x: { type: "float", low: 0, high: 1 } },
      optSpace: { x: { type: "Scalar", bounds: [0, 1] } },
    });
    const job = jobFor(both, "n", 1, placeholdersFor(both, 1), settings);
    const pod = job.spec.template.spec as { containers: Record<string, unknown>[] };
    expect(pod.containers[0]).toMatchObject({ args: ["stage-out", "--file=/data/output.json"] });
  });
  it("stores a large input gzip-compressed in binaryData", () => {
    const small = configMapFor(req(), "n", 1, "[]", settings);
    expect(small).toMatchObject({ data: { "idds_input.json": "[]" } });
    const big = JSON.stringify({ points: Array.from({ length: 500 }, (_, i) => [{ x: i }, null]) });
    const cm = configMapFor(req(), "n", 1, big, settings) as { binaryData: Record<string, string> };
    expect(gunzipSync(Buffer.from(cm.binaryData["idds_input.json.gz"] as string, "base64")).toString()).toBe(
      big,
    );
  });
});

describe("reading a failed Job", () => {
  const pod = (statuses: Pod["status"]): Pod => ({ metadata: { name: "p1" }, status: statuses });
  const tail = async (_pod: string, container: string) =>
    container === "stage-out"
      ? "hpo-operator stage-out: the generator wrote no output file /data/output.json\n"
      : "Traceback...\nValueError: boom\n";
  it("names the generator's exit code and log tail", async () => {
    const msg = await describeFailure(
      { status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] } },
      [
        pod({
          initContainerStatuses: [
            { name: "stage-in", state: { terminated: { exitCode: 0 } } },
            { name: "generator", state: { terminated: { exitCode: 3, reason: "Error" } } },
          ],
        }),
      ],
      tail,
    );
    expect(msg).toBe(
      "the generator exited with code 3 (Error); the last lines of its log:\n  | Traceback...\n  | ValueError: boom",
    );
  });
  it("passes on stage-out's reason", async () => {
    const msg = await describeFailure(
      { status: { conditions: [{ type: "Failed", status: "True" }] } },
      [pod({ containerStatuses: [{ name: "stage-out", state: { terminated: { exitCode: 1 } } }] })],
      tail,
    );
    expect(msg).toBe("the generator wrote no output file /data/output.json");
  });
  it("says a timeout is a timeout, and a lost pod is lost", async () => {
    const deadline = {
      spec: { activeDeadlineSeconds: 30 },
      status: { conditions: [{ type: "Failed", status: "True", reason: "DeadlineExceeded" }] },
    };
    expect(await describeFailure(deadline, [], tail)).toBe(
      "timed out after 30 s (spec.generator.timeoutSeconds)",
    );
    expect(
      await describeFailure(
        { status: { conditions: [{ type: "Failed", status: "True", reason: "PodFailurePolicy" }] } },
        [],
        tail,
      ),
    ).toContain("the generator's pod was lost");
  });
  it("fails on an image that cannot be pulled once the grace has passed", () => {
    const pulling = [
      pod({
        startTime: "2026-01-01T00:00:00Z",
        initContainerStatuses: [
          { name: "generator", state: { waiting: { reason: "ImagePullBackOff", message: "not found" } } },
        ],
      }),
    ];
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    expect(pullProblem(pulling, t0 + 1000, 5000)).toBeUndefined();
    expect(pullProblem(pulling, t0 + 6000, 5000)).toBe(
      "container generator cannot start: ImagePullBackOff (not found)",
    );
    const invalid = [
      pod({
        startTime: "2026-01-01T00:00:00Z",
        initContainerStatuses: [{ name: "generator", state: { waiting: { reason: "InvalidImageName" } } }],
      }),
    ];
    expect(pullProblem(invalid, t0, 5000)).toBe("container generator cannot start: InvalidImageName");
  });
});
