/**
 * hpo-operator generate, run as the real CLI on real files.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMaxPoints } from "./generate.ts";

const main = join(import.meta.dirname, "main.ts");
const dir = mkdtempSync(join(tmpdir(), "hpo-generate-"));

interface Run {
  code: number | null;
  stderr: string;
  output: unknown;
}

async function generate(input: string | undefined, flags: string[]): Promise<Run> {
  const name = `${Math.random().toString(36).slice(2)}`;
  const inputPath = join(dir, `${name}.json`);
  const outputPath = join(dir, `${name}.out.json`);
  if (input !== undefined) writeFileSync(inputPath, input);
  const child = spawn(process.execPath, [
    main,
    "generate",
    `--input=${inputPath}`,
    `--output=${outputPath}`,
    ...flags,
  ]);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  let output: unknown;
  try {
    output = JSON.parse(readFileSync(outputPath, "utf8"));
  } catch {
    output = undefined;
  }
  return { code, stderr, output };
}

const nevergrad = JSON.stringify({
  points: [
    [{ A: 1, B: 2 }, 0.3],
    [{ A: 1, B: 3 }, null],
  ],
  opt_space: { A: { type: "Choice", params: { choices: [1, 4] } }, B: { type: "Scalar", bounds: [0, 5] } },
});

// Each case spawns the CLI (Node start-up and the module graph), so allow for a loaded machine.
describe.concurrent("hpo-operator generate", { timeout: 60_000 }, () => {
  it.each(["random", "sobol", "grid", "tpe", "cmaes", "bayesian"])(
    "writes new points in the space with --method %s",
    async (method) => {
      const run = await generate(nevergrad, [
        `--method=${method}`,
        "--max_points=10",
        "--num_points=5",
        "--seed=7",
      ]);
      expect(run.stderr).toContain("wrote 5 point(s)");
      expect(run.code).toBe(0);
      const points = run.output as Array<{ A: number; B: number }>;
      expect(points).toHaveLength(5);
      for (const p of points) {
        expect([1, 4]).toContain(p.A);
        expect(p.B).toBeGreaterThanOrEqual(0);
        expect(p.B).toBeLessThanOrEqual(5);
      }
    },
  );

  it("reads the canonical space as opt_space and is reproducible", async () => {
    const input = JSON.stringify({
      points: [],
      opt_space: { n: { type: "int", low: 1, high: 3 }, c: { type: "categorical", choices: ["x"] } },
    });
    const flags = ["--method", "tpe", "--max_points", "100", "--num_points", "2", "--seed", "3"];
    const a = await generate(input, flags);
    const b = await generate(input, flags);
    expect(a.code).toBe(0);
    expect(a.output).toEqual(b.output);
  });

  it("caps at max_points: asks for fewer near the cap, writes [] at it", async () => {
    const near = await generate(nevergrad, ["--method=random", "--max_points=3", "--num_points=5"]);
    expect(near.output).toHaveLength(1);
    const at = await generate(nevergrad, ["--method=random", "--max_points=2", "--num_points=5"]);
    expect(at.code).toBe(0);
    expect(at.output).toEqual([]);
  });

  it("treats max_points None (iDDS without a cap) as no cap", async () => {
    const run = await generate(nevergrad, ["--method=sobol", "--max_points=None", "--num_points=4"]);
    expect(run.output).toHaveLength(4);
  });

  it("writes [] when the method is exhausted", async () => {
    const input = JSON.stringify({ points: [[{ c: "x" }, 1]], opt_space: { c: ["x", "y"] } });
    expect((await generate(input, ["--method=grid", "--num_points=3"])).output).toEqual([{ c: "y" }]);
    const done = JSON.stringify({
      points: [
        [{ c: "x" }, 1],
        [{ c: "y" }, null],
      ],
      opt_space: { c: ["x", "y"] },
    });
    const run = await generate(done, ["--method=grid", "--num_points=3"]);
    expect(run.code).toBe(0);
    expect(run.output).toEqual([]);
  });

  it.each([
    [undefined, ["--method=tpe", "--num_points=2"], 1, "cannot read input file"],
    ["{not json", ["--method=tpe", "--num_points=2"], 1, "is not valid JSON"],
    ['{"points": {}, "opt_space": {"a": [0, 1]}}', ["--method=tpe", "--num_points=2"], 1, '"points"'],
    [
      '{"points": [[1, 2]], "opt_space": {"a": [0, 1]}}',
      ["--method=tpe", "--num_points=2"],
      1,
      '"points"[0]',
    ],
    ['{"points": []}', ["--method=tpe", "--num_points=2"], 1, "no search space"],
    [
      '{"points": [], "opt_space": {"lr": {"type": "Log", "bounds": [0, 1]}}}',
      ["--method=tpe", "--num_points=2"],
      1,
      'parameter "lr"',
    ],
    [
      nevergrad,
      ["--method=hyperband", "--num_points=2"],
      2,
      "valid: bayesian, cmaes, grid, random, sobol, tpe",
    ],
    [nevergrad, ["--method=tpe"], 2, "missing required flag --num_points"],
    [nevergrad, ["--method=tpe", "--num_points=two"], 2, "--num_points must be a whole number"],
    [nevergrad, ["--method=tpe", "--num_points=2", "--max_points=%MAX_POINTS"], 2, "not substituted"],
    [
      nevergrad,
      ["--method=tpe", "--num_points=2", "--direction=up"],
      2,
      "--direction must be minimize or maximize",
    ],
    [nevergrad, ["--method=tpe", "--num_points=2", "--colour=red"], 2, "unknown flag --colour"],
  ])("fails clearly on bad input %#", async (input, flags, code, message) => {
    const run = await generate(input, flags);
    expect(run.code).toBe(code);
    expect(run.stderr).toContain(message);
    expect(run.output).toBeUndefined();
  });

  it("marks a point with a non-numeric loss failed: never proposed again", async () => {
    const input = JSON.stringify({ points: [[{ c: "x" }, "failed"]], opt_space: { c: ["x", "y"] } });
    expect((await generate(input, ["--method=random", "--num_points=5"])).output).toEqual([{ c: "y" }]);
  });
});

describe("parseMaxPoints", () => {
  it.each([
    ["10", 10],
    ["1e3", 1000],
    ["-1", Number.POSITIVE_INFINITY],
    ["None", Number.POSITIVE_INFINITY],
    ["unlimited", Number.POSITIVE_INFINITY],
    ["", Number.POSITIVE_INFINITY],
  ])("reads %j", (text, value) => {
    expect(parseMaxPoints(text)).toEqual({ ok: true, value });
  });

  it("rejects words it does not know", () => {
    expect(parseMaxPoints("lots").ok).toBe(false);
  });
});
