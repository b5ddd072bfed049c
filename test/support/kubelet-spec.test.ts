/**
 * The test kubelet's pure rules: path translation, `$(VAR)` expansion, command lines, image lookup,
 * pod phases and log formatting.
 */
import { describe, expect, it } from "vitest";
import { Formatter, parseQuery, parseRecords, tail } from "./kubelet-logs.ts";
import { commandLine, expandVars, lookupImage, translatePaths } from "./kubelet-spec.ts";
import { newContainerRecord, type PodRecord, podPhase, podStatus } from "./kubelet-status.ts";
import type { ContainerState } from "./kubelet-types.ts";

describe("translatePaths", () => {
  const mapping: [string, string][] = [
    ["/data", "/tmp/pod/volumes/work"],
    ["/data/config", "/tmp/pod/volumes/cfg"],
    ["/opt/", "/repo/fixtures"],
  ];
  it.each([
    ["/data", "/tmp/pod/volumes/work"],
    ["/data/idds_input.json", "/tmp/pod/volumes/work/idds_input.json"],
    ["--input=/data/%IN", "--input=/tmp/pod/volumes/work/%IN"],
    ["/data/config/a.json", "/tmp/pod/volumes/cfg/a.json"],
    ["/opt/steer.py /data/out", "/repo/fixtures/steer.py /tmp/pod/volumes/work/out"],
    ["a:/data,b:/data/", "a:/tmp/pod/volumes/work,b:/tmp/pod/volumes/work/"],
    ["/database", "/database"],
    ["/data.json", "/data.json"],
    ["/x/data/y", "/x/data/y"],
    ["data/y", "data/y"],
    ["%IN", "%IN"],
  ])("%s → %s", (input, want) => {
    expect(translatePaths(input, mapping)).toBe(want);
  });
  it("translates each occurrence once, even when the host path looks like a mount path", () => {
    expect(translatePaths("/tmp/x", [["/tmp", "/tmp/pod/tmp"]])).toBe("/tmp/pod/tmp/x");
  });
});

describe("expandVars", () => {
  const vars = new Map([
    ["A", "1"],
    ["B", "two"],
  ]);
  it.each([
    ["$(A)", "1"],
    ["x-$(A)-$(B)", "x-1-two"],
    ["$(MISSING)", "$(MISSING)"],
    ["$$(A)", "$(A)"],
    ["$$", "$"],
    ["cost $5", "cost $5"],
    ["$(A", "$(A"],
    ["end$", "end$"],
  ])("%s → %s", (input, want) => {
    expect(expandVars(input, vars)).toBe(want);
  });
});

describe("commandLine", () => {
  const image = { entrypoint: ["/usr/bin/node", "/repo/main.ts"], cmd: ["--help"] };
  const id = (s: string) => s;
  it("runs the entrypoint with the image's CMD when the container sets nothing", () => {
    expect(commandLine({ name: "c" }, image, id)).toEqual(["/usr/bin/node", "/repo/main.ts", "--help"]);
  });
  it("replaces CMD with args", () => {
    expect(commandLine({ name: "c", args: ["run"] }, image, id)).toEqual([
      "/usr/bin/node",
      "/repo/main.ts",
      "run",
    ]);
  });
  it("replaces the entrypoint with command, and drops CMD", () => {
    expect(commandLine({ name: "c", command: ["python3"] }, image, id)).toEqual(["python3"]);
    expect(
      commandLine({ name: "c", command: ["python3"], args: ["/opt/x"] }, image, (s) => s.toUpperCase()),
    ).toEqual(["PYTHON3", "/OPT/X"]);
  });
});

describe("lookupImage", () => {
  const images = { "box:test": { entrypoint: ["a"] }, "busybox:latest": { entrypoint: ["b"] } };
  it("finds exact names, implicit :latest and docker.io names", () => {
    expect(lookupImage(images, "box:test")?.entrypoint).toEqual(["a"]);
    expect(lookupImage(images, "busybox")?.entrypoint).toEqual(["b"]);
    expect(lookupImage(images, "docker.io/library/busybox")?.entrypoint).toEqual(["b"]);
    expect(lookupImage(images, "box:other")).toBeUndefined();
    expect(lookupImage(images, "registry.example/box:test")).toBeUndefined();
  });
});

describe("podPhase", () => {
  const terminated = (exitCode: number): ContainerState => ({ terminated: { exitCode } });
  const record = (
    policy: "Never" | "OnFailure" | "Always",
    init: ContainerState[],
    main: ContainerState[],
  ) => {
    const r: PodRecord = {
      pod: {
        metadata: { name: "p", namespace: "ns", generation: 1 },
        spec: { restartPolicy: policy, containers: main.map((_, i) => ({ name: `c${i}` })) },
      },
      init: init.map((s, i) => ({
        ...newContainerRecord(`i${i}`, "img", true, "PodInitializing"),
        state: s,
      })),
      main: main.map((s, i) => ({
        ...newContainerRecord(`c${i}`, "img", false, "PodInitializing"),
        state: s,
      })),
      startTime: "2026-01-01T00:00:00Z",
      sandboxReady: true,
      terminal: false,
    };
    return r;
  };
  const waiting: ContainerState = { waiting: { reason: "PodInitializing" } };
  const running: ContainerState = { running: { startedAt: "2026-01-01T00:00:01Z" } };
  it.each([
    ["Never", [waiting], [waiting], "Pending"],
    ["Never", [running], [waiting], "Pending"],
    ["Never", [terminated(0)], [waiting], "Pending"],
    ["Never", [terminated(2)], [waiting], "Failed"],
    ["OnFailure", [terminated(2)], [waiting], "Pending"],
    ["Never", [terminated(0)], [running], "Running"],
    ["Never", [], [terminated(0), running], "Running"],
    ["Never", [], [terminated(0), terminated(0)], "Succeeded"],
    ["Never", [], [terminated(0), terminated(3)], "Failed"],
    ["OnFailure", [], [terminated(0)], "Succeeded"],
    ["Always", [], [terminated(0)], "Running"],
  ] as const)("%s, init %j, containers %j → %s", (policy, init, main, want) => {
    expect(podPhase(record(policy, [...init], [...main]))).toBe(want);
  });
  it("reports a terminated pod that never finished as Failed, with kubelet conditions", () => {
    const r = { ...record("Never", [terminated(0)], [terminated(137)]), terminal: true };
    const s = podStatus(r, "127.0.0.1", "2026-01-01T00:00:05Z");
    expect(s.phase).toBe("Failed");
    expect(s.podIP).toBe("127.0.0.1");
    expect(s.conditions?.map((c) => [c.type, c.status])).toEqual([
      ["PodReadyToStartContainers", "False"],
      ["Initialized", "True"],
      ["Ready", "False"],
      ["ContainersReady", "False"],
      ["PodScheduled", "True"],
    ]);
  });
  it("keeps a condition's lastTransitionTime while its status holds", () => {
    const r = record("Never", [], [running]);
    const first = podStatus(r, "127.0.0.1", "2026-01-01T00:00:05Z");
    const second = podStatus(r, "127.0.0.1", "2026-01-01T00:00:09Z", first.conditions);
    expect(second.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime).toBe(
      "2026-01-01T00:00:05Z",
    );
  });
});

describe("container logs", () => {
  const text = [
    "2026-01-01T00:00:01.000000000Z stdout F one",
    "2026-01-01T00:00:02.000000000Z stderr F two",
    "2026-01-01T00:00:03.000000000Z stdout P thr",
    "2026-01-01T00:00:03.000000000Z stdout F ee",
    "2026-01-01T00:00:04.000000000Z stdout F four",
    "",
  ].join("\n");
  const records = parseRecords(text);
  const out = (q: URLSearchParams, n?: number) =>
    new Formatter(parseQuery(q, Date.parse("2026-01-01T00:00:05Z"))).format(tail(records, n)).toString();
  it("joins partial records and keeps both streams in order", () => {
    expect(out(new URLSearchParams())).toBe("one\ntwo\nthree\nfour\n");
  });
  it("tails whole lines", () => {
    expect(out(new URLSearchParams(), 2)).toBe("three\nfour\n");
    expect(out(new URLSearchParams(), 0)).toBe("");
    expect(out(new URLSearchParams(), 10)).toBe("one\ntwo\nthree\nfour\n");
  });
  it("filters by stream and time, prefixes timestamps and cuts at limitBytes", () => {
    expect(out(new URLSearchParams("stream=Stderr"))).toBe("two\n");
    expect(out(new URLSearchParams("sinceSeconds=2"))).toBe("three\nfour\n");
    expect(out(new URLSearchParams("timestamps=true"))).toContain("2026-01-01T00:00:03.000000000Z three\n");
    expect(out(new URLSearchParams("limitBytes=6"))).toBe("one\ntw");
  });
  it("refuses invalid options", () => {
    expect(() => parseQuery(new URLSearchParams("tailLines=-1"))).toThrow(/tailLines/);
    expect(() => parseQuery(new URLSearchParams("stream=Both"))).toThrow(/stream/);
  });
});
