import { describe, expect, it } from "vitest";
import type { Point } from "../api/index.ts";
import type { RequestStatus, RequestSummary } from "../client/model.ts";
import {
  commandUsage,
  formatPoints,
  formatValue,
  parseCommandLine,
  parseLoss,
  pointsTable,
  progressBar,
  sparkline,
  statusText,
  UsageError,
  usage,
  watchLine,
} from "./hpo-plugin.ts";

describe("parseCommandLine", () => {
  it("reads each command, with kubectl's flags anywhere on the line", () => {
    expect(
      parseCommandLine(["get", "mnist", "-n", "team-a", "--status", "new", "--limit=3", "-ojson"]),
    ).toEqual({
      command: { name: "get", request: "mnist", status: "new", limit: 3, output: "json" },
      namespace: "team-a",
      context: undefined,
      kubeconfig: undefined,
    });
    expect(parseCommandLine(["--context", "prod", "--namespace=x", "get", "mnist"])).toMatchObject({
      command: { name: "get", output: "table" },
      context: "prod",
      namespace: "x",
    });
    expect(parseCommandLine(["report", "mnist", "7", "0.12", "--kubeconfig", "/k"])).toEqual({
      command: { name: "report", request: "mnist", id: "7", loss: 0.12 },
      namespace: undefined,
      context: undefined,
      kubeconfig: "/k",
    });
    expect(parseCommandLine(["fail", "mnist", "007", "OOMKilled", "at", "epoch", "3"]).command).toEqual({
      name: "fail",
      request: "mnist",
      id: "7",
      reason: "OOMKilled at epoch 3",
    });
    expect(parseCommandLine(["status", "mnist", "-o", "yaml"]).command).toEqual({
      name: "status",
      request: "mnist",
      output: "yaml",
    });
    expect(parseCommandLine(["watch", "mnist"]).command).toEqual({ name: "watch", request: "mnist" });
    expect(parseCommandLine(["dashboard"]).command).toEqual({ name: "dashboard", port: 8484 });
    expect(parseCommandLine(["dashboard", "--port", "0"]).command).toEqual({ name: "dashboard", port: 0 });
  });

  it("takes negative losses as numbers, not flags", () => {
    expect(parseCommandLine(["report", "mnist", "7", "-0.5", "-n", "a"])).toMatchObject({
      command: { loss: -0.5 },
      namespace: "a",
    });
    expect(parseCommandLine(["report", "mnist", "7", "-.5"]).command).toMatchObject({ loss: -0.5 });
  });

  it("shows help for no command, help, -h and --help", () => {
    for (const argv of [[], ["help"], ["-h"], ["--bogus", "-h"]]) {
      expect(parseCommandLine(argv).command).toEqual({ name: "help" });
    }
    expect(parseCommandLine(["get", "--help"]).command).toEqual({ name: "help", topic: "get" });
    expect(parseCommandLine(["help", "watch"]).command).toEqual({ name: "help", topic: "watch" });
  });

  it("gives each command its own usage, and the plugin's for an unknown one", () => {
    expect(commandUsage("get")).toContain("kubectl hpo get REQUEST");
    expect(commandUsage("get")).not.toContain("kubectl hpo watch");
    expect(commandUsage("validate")).toContain("kubectl hpo validate [-q] FILE...");
    expect(commandUsage("frob")).toBe(usage);
    expect(commandUsage(undefined)).toBe(usage);
  });

  it("reads validate's files, - for standard input", () => {
    expect(parseCommandLine(["validate", "a.yaml", "-", "b.json"]).command).toEqual({
      name: "validate",
      files: ["a.yaml", "-", "b.json"],
      quiet: false,
    });
    expect(parseCommandLine(["validate", "-q", "a.yaml"]).command).toMatchObject({ quiet: true });
  });

  it("says what is wrong with a command line", () => {
    const wrong: [string[], string][] = [
      [["frob"], 'unknown command "frob"'],
      [["get"], "get needs REQUEST"],
      [["get", "a", "b"], 'get: unexpected argument "b"'],
      [["get", "a", "--status", "ok"], 'unknown --status "ok": use one of new, evaluated, failed'],
      [["get", "a", "--limit", "-1"], 'the --limit must be a whole number, not "-1"'],
      [["get", "a", "--limit", "1.5"], '--limit must be a whole number, not "1.5"'],
      [["get", "a", "-o", "wide"], 'unknown output format "wide": use one of table, json, yaml'],
      [["status", "a", "-o", "table"], 'unknown output format "table": use one of text, json, yaml'],
      [["report", "a", "1", "0.1", "--limit", "2"], "report takes no --limit"],
      [["watch", "a", "-o", "json"], "watch takes no --output"],
      [["report", "a", "1"], "report needs REQUEST, ID and LOSS (kubectl hpo report mnist 7 0.12)"],
      [["report", "a", "x", "1"], 'ID must be a point id (digits, such as 7), not "x"'],
      [["fail", "a", "1"], "fail needs REQUEST, ID and REASON"],
      [["get", "a", "--frob"], "unknown flag --frob"],
      [["get", "a", "-x"], "unknown flag -x"],
      [["get", "a", "-n"], "flag -n needs a value"],
      [["validate"], "validate needs FILE"],
      [["validate", "a.yaml", "-o", "json"], "validate takes no --output"],
      [["get", "a", "-q"], "get takes no --quiet"],
      [["dashboard", "--port", "http"], '--port must be a port number from 0 to 65535, not "http"'],
      [["dashboard", "--port", "70000"], '--port must be a port number from 0 to 65535, not "70000"'],
      [["dashboard", "mnist"], 'dashboard: unexpected argument "mnist"'],
      [["get", "a", "--port", "1"], "get takes no --port"],
    ];
    for (const [argv, message] of wrong) {
      let caught: unknown;
      try {
        parseCommandLine(argv);
      } catch (e) {
        caught = e;
      }
      expect(caught, argv.join(" ")).toBeInstanceOf(UsageError);
      expect((caught as Error).message, argv.join(" ")).toContain(message.replace(/^the /, ""));
    }
  });
});

describe("parseLoss", () => {
  it("reads decimal numbers", () => {
    expect(["0.12", "-3", "+2", ".5", "1e-3", "1E+2", " 7 ", "-0"].map(parseLoss)).toEqual([
      0.12, -3, 2, 0.5, 0.001, 100, 7, -0,
    ]);
  });
  it("refuses what is not a finite number", () => {
    for (const bad of ["abc", "", "0x10", "1,5", "1.2.3", "NaN", "inf", "-Infinity", "1e999"]) {
      expect(() => parseLoss(bad), bad).toThrow(UsageError);
    }
    expect(() => parseLoss("inf")).toThrow('LOSS must be a finite number, not "inf"');
  });
});

const pts: Point[] = [
  {
    id: "1",
    params: { lr: 0.000061, opt: "adam" },
    generation: 1,
    state: "Evaluated",
    loss: 0.52,
    set: "r-1",
  },
  {
    id: "2",
    params: { lr: 0.0123456789, opt: "sgd" },
    generation: 1,
    state: "Failed",
    reason: "OOMKilled",
    set: "r-1",
  },
  { id: "10", params: { lr: 0.05, opt: "sgd", extra: true }, generation: 2, state: "New", set: "r-1" },
];

describe("output", () => {
  it("formatValue keeps numbers short", () => {
    expect([0.0123456789, 0.000061, 3, "adam", true, 123456.789].map(formatValue)).toEqual([
      "0.0123457",
      "6.1e-5",
      "3",
      "adam",
      "true",
      "123457",
    ]);
  });

  it("pointsTable aligns columns as kubectl does, parameters by name, a reason when one failed", () => {
    expect(pointsTable(pts)).toBe(
      [
        "ID   STATE       LOSS     GENERATION   extra   lr          opt    REASON",
        "1    Evaluated   0.52     1                    6.1e-5      adam",
        "2    Failed      <none>   1                    0.0123457   sgd    OOMKilled",
        "10   New         <none>   2            true    0.05        sgd",
        "",
      ].join("\n"),
    );
  });

  it("json and yaml print the points as stored", () => {
    expect(JSON.parse(formatPoints(pts, "json"))).toEqual(pts);
    expect(formatPoints(pts.slice(0, 1), "yaml")).toContain('- id: "1"\n  params:\n    lr: 0.000061');
  });

  it("sparkline scales values to eight blocks and samples long series", () => {
    expect(sparkline([])).toBe("");
    expect(sparkline([0.3, 0.3])).toBe("▁▁");
    expect(sparkline([1, 0.5, 0])).toBe("█▅▁");
    const long = Array.from({ length: 200 }, (_, i) => 200 - i);
    const s = sparkline(long, 20);
    expect([...s]).toHaveLength(20);
    expect(s.startsWith("█")).toBe(true);
    expect(s.endsWith("▁")).toBe(true);
  });

  const summary = (over: Partial<RequestSummary> = {}): RequestSummary => ({
    namespace: "team-a",
    name: "mnist",
    method: "tpe",
    direction: "minimize",
    phase: "Waiting",
    message: "8 points, 3 evaluated",
    observed: true,
    ended: false,
    points: { total: 8, evaluated: 3, unevaluated: 4, failed: 1 },
    maxPoints: 20,
    best: { id: "3", params: { lr: 0.01, opt: "adam" }, loss: 0.12 },
    generations: 2,
    conditions: [],
    ...over,
  });

  it("progressBar counts outcomes towards maxPoints, or the points so far", () => {
    expect(progressBar(summary(), 10)).toBe("██░░░░░░░░  20% 4/20 done · Waiting · best 0.12 (point 3)");
    expect(progressBar(summary({ maxPoints: undefined, best: undefined }), 10)).toBe(
      "█████░░░░░  50% 4/8 done · Waiting · best none yet",
    );
    expect(progressBar(summary({ phase: "SubFinished", ended: true }), 4)).toMatch(/^████ 100% /);
    expect(
      progressBar(
        summary({
          phase: undefined,
          best: undefined,
          points: { total: 0, evaluated: 0, unevaluated: 0, failed: 0 },
        }),
        4,
      ),
    ).toBe("░░░░   0% 0/20 done · Pending · best none yet");
  });

  it("watchLine is one line with the time", () => {
    expect(watchLine(summary(), new Date("2026-01-02T03:04:05Z"))).toBe(
      "03:04:05 Waiting: 8 of 20 points, 3 evaluated, 1 failed, 4 waiting; best 0.12 (point 3)",
    );
  });

  it("statusText shows phase, counts, best point, convergence and conditions", () => {
    const s: RequestStatus = {
      ...summary({
        conditions: [
          { type: "Ready", status: "True", reason: "Waiting", message: "", lastTransitionTime: "" },
          { type: "Complete", status: "False", reason: "InProgress", message: "", lastTransitionTime: "" },
        ],
      }),
      convergence: [0.5, 0.3, 0.12],
    };
    expect(statusText(s)).toBe(
      [
        "Request:     team-a/mnist (tpe, minimize)",
        "Phase:       Waiting",
        "Message:     8 points, 3 evaluated",
        "Points:      8 (maxPoints 20): 3 evaluated, 1 failed, 4 waiting for a loss",
        "Generations: 2",
        "Best:        loss 0.12 (point 3) lr=0.01 opt=adam",
        "Convergence: █▄▁  best so far over 3 evaluated: 0.5 → 0.12",
        "Conditions:  Ready=True (Waiting), Complete=False (InProgress)",
        "",
      ].join("\n"),
    );
    expect(statusText({ ...s, phase: "Waiting", observed: false })).toContain(
      "(the operator has not yet seen the latest spec change)",
    );
  });
});
