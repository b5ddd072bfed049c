/**
 * stage-in and stage-out, run as the real CLI on real files.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const main = join(import.meta.dirname, "main.ts");

function run(args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** folder writes files into a new temp folder and returns its path. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "hpo-stage-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe.concurrent("stage-in and stage-out", { timeout: 60_000 }, () => {
  it("stage-in refuses an input that is not an idds_input.json, and copies one that is", () => {
    const to = folder({});
    const bad = run(["stage-in", `--from=${folder({ "idds_input.json": '{"points": {}}' })}`, `--to=${to}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'hpo-operator stage-in: idds_input.json: "points" must be a list of [point, loss] pairs\n',
    );
    const good = run(["stage-in", `--from=${folder({ "idds_input.json": '{"points": []}' })}`, `--to=${to}`]);
    expect(good.code).toBe(0);
  });

  it("stage-out with --input refuses a point outside opt_space, naming it", () => {
    const dir = folder({
      "idds_input.json": JSON.stringify({
        points: [],
        opt_space: { x: [0, 1], n: { type: "int", low: 1, high: 4 } },
      }),
      "ok.json": '[{"x": 0.5, "n": 2}]',
      "out.json": '[{"x": 0.5, "n": 2}, {"x": 3, "n": 2}]',
    });
    const input = `--input=${join(dir, "idds_input.json")}`;
    expect(run(["stage-out", `--file=${join(dir, "ok.json")}`, input]).code).toBe(0);
    const r = run(["stage-out", `--file=${join(dir, "out.json")}`, input]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(
      'point 2 of the batch is not in the search space: parameter "x": 3 is not in float [0, 1]',
    );
  });

  it("stage-out refuses an output over --max-bytes without reading it, naming the limit", () => {
    const dir = folder({ "out.json": JSON.stringify([{ pad: "p".repeat(3000) }]) });
    const file = join(dir, "out.json");
    expect(run(["stage-out", `--file=${file}`, "--max-bytes=4Ki"]).code).toBe(0);
    const r = run(["stage-out", `--file=${file}`, "--max-bytes=2Ki"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `hpo-operator stage-out: ${file}: the generator's output is 3012 bytes, over the limit of 2 KiB (the operator's --generator-output-limit)\n`,
    );
  });

  it("stage-out checks shape only when the space is not one the operator reads", () => {
    const dir = folder({
      "idds_input.json": JSON.stringify({ points: [], opt_space: { x: { type: "MyOwnForm" } } }),
      "out.json": '[{"anything": 1}]',
    });
    const r = run([
      "stage-out",
      `--file=${join(dir, "out.json")}`,
      `--input=${join(dir, "idds_input.json")}`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("stage-out: 1 points");
  });
});
