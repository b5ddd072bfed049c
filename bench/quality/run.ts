/**
 * Quality of the built-in methods against Optuna, in the batch protocol a user runs: generations
 * of 10 points, evaluate all, report, next generation, 100 evaluations. Optuna's TPE and random
 * samplers run the same protocol (ask 10 / tell 10) in a Python virtualenv this script creates.
 *
 *   npm run bench:quality [-- --seeds=20 --methods=bayesian,tpe,random --functions=branin]
 *   npm run bench:quality -- --study=cap     (what the bayesian history caps cost: 200 and 500 evaluations)
 *   --results=DIR writes the results elsewhere (for exploratory runs).
 *
 * Writes bench/results/quality.json (or quality-cap.json), a Markdown table beside it, and the table
 * into docs/performance.md (sections generators-quality, generators-quality-cap).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { getMethod } from "../../src/generators/methods.ts";
import type { History, Method, Params, SearchSpace } from "../../src/generators/types.ts";
import { writeSection } from "../report.ts";
import { ackley5, hartmann6, type TestFunction, testFunctions } from "./functions.ts";
import { mannWhitneyP, type Summary, summarize } from "./stats.ts";
import { ensureVenv, OPTUNA_VERSION } from "./venv.ts";

const defaultResults = join(import.meta.dirname, "..", "results");
const batch = 10;

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

/** Optuna is one long-lived Python process answering JSON-lines requests. */
class Optuna {
  private readonly child;
  private readonly replies: Array<(line: string) => void> = [];

  constructor(python: string) {
    this.child = spawn(python, [join(import.meta.dirname, "optuna_worker.py")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => this.replies.shift()?.(line));
  }

  request<T>(msg: Record<string, unknown>): Promise<T> {
    return new Promise((resolve) => {
      this.replies.push((line) => resolve(JSON.parse(line) as T));
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }
}

function spaceOf(fn: TestFunction): SearchSpace {
  return {
    dims: fn.low.map((low, i) => ({
      name: `x${i}`,
      kind: "float" as const,
      low,
      high: fn.high[i] as number,
      log: false,
    })),
  };
}

/** bestSoFar turns losses in evaluation order into the running minimum's regret. */
function regretTrace(fn: TestFunction, losses: number[]): number[] {
  let best = Number.POSITIVE_INFINITY;
  return losses.map((v) => {
    best = Math.min(best, v);
    return best - fn.optimum;
  });
}

function runOurs(
  method: Method,
  fn: TestFunction,
  seed: number,
  evaluations: number,
  options?: Record<string, unknown>,
) {
  const space = spaceOf(fn);
  const history: History = { evaluated: [], pending: [], failed: [] };
  let state: unknown;
  const started = performance.now();
  while (history.evaluated.length < evaluations) {
    const count = Math.min(batch, evaluations - history.evaluated.length);
    const result = method.suggest({ space, history, count, seed, direction: "minimize", state, options });
    state = result.state;
    if (result.points.length === 0) break;
    for (const params of result.points) {
      history.evaluated.push({
        params,
        loss: fn.f(space.dims.map((d) => (params as Params)[d.name] as number)),
      });
    }
  }
  const generations = Math.ceil(evaluations / batch);
  return {
    trace: regretTrace(
      fn,
      history.evaluated.map((o) => o.loss),
    ),
    msPerGeneration: (performance.now() - started) / generations,
  };
}

async function runOptuna(
  optuna: Optuna,
  sampler: string,
  fn: TestFunction,
  seed: number,
  evaluations: number,
) {
  await optuna.request({ op: "new", sampler, seed, low: fn.low, high: fn.high });
  const losses: number[] = [];
  const started = performance.now();
  while (losses.length < evaluations) {
    const { points } = await optuna.request<{ points: number[][] }>({
      op: "ask",
      n: Math.min(batch, evaluations - losses.length),
    });
    const values = points.map((x) => fn.f(x));
    await optuna.request({ op: "tell", values });
    losses.push(...values);
  }
  return {
    trace: regretTrace(fn, losses),
    msPerGeneration: (performance.now() - started) / Math.ceil(evaluations / batch),
  };
}

interface Cell {
  function: string;
  method: string;
  seeds: number;
  at: Record<string, Summary>;
  raw: Record<string, number[]>;
  msPerGeneration: number;
}

function cell(
  fn: TestFunction,
  method: string,
  runs: Array<{ trace: number[]; msPerGeneration: number }>,
  checkpoints: number[],
): Cell {
  const raw: Record<string, number[]> = {};
  const at: Record<string, Summary> = {};
  for (const c of checkpoints) {
    raw[c] = runs.map((r) => r.trace[c - 1] as number);
    at[c] = summarize(raw[c] as number[]);
  }
  const ms = runs.reduce((s, r) => s + r.msPerGeneration, 0) / runs.length;
  return { function: fn.name, method, seeds: runs.length, at, raw, msPerGeneration: ms };
}

function fmt(x: number): string {
  if (x === 0) return "0";
  return Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2);
}

function summaryText(s: Summary | undefined): string {
  return s ? `${fmt(s.median)} [${fmt(s.q25)}, ${fmt(s.q75)}]` : "";
}

async function runStudy(
  fns: TestFunction[],
  variants: Array<{ label: string; ours?: string; optuna?: string; options?: Record<string, unknown> }>,
  seeds: number,
  evaluations: number,
  checkpoints: number[],
): Promise<Cell[]> {
  const needsOptuna = variants.some((v) => v.optuna);
  const optuna = needsOptuna ? new Optuna(ensureVenv()) : undefined;
  if (optuna) {
    const { version } = await optuna.request<{ version: string }>({ op: "version" });
    if (version !== OPTUNA_VERSION) throw new Error(`optuna ${version} found, ${OPTUNA_VERSION} expected`);
  }
  const cells: Cell[] = [];
  for (const fn of fns) {
    for (const v of variants) {
      const runs = [];
      for (let seed = 0; seed < seeds; seed++) {
        if (v.ours) runs.push(runOurs(getMethod(v.ours) as Method, fn, seed, evaluations, v.options));
        else runs.push(await runOptuna(optuna as Optuna, v.optuna as string, fn, seed, evaluations));
      }
      const c = cell(fn, v.label, runs, checkpoints);
      cells.push(c);
      const last = checkpoints[checkpoints.length - 1] as number;
      process.stderr.write(
        `${fn.name} ${v.label}: regret@${last} ${summaryText(c.at[last])}, ${c.msPerGeneration.toFixed(1)} ms/generation\n`,
      );
    }
  }
  optuna?.close();
  return cells;
}

function find(cells: Cell[], fn: string, method: string): Cell | undefined {
  return cells.find((c) => c.function === fn && c.method === method);
}

function goalsTable(cells: Cell[], fns: TestFunction[]): string {
  const lines = [
    "| function | bayesian regret@100 | optuna tpe regret@100 | bayesian <= optuna tpe | tpe / optuna tpe (median@100) | random vs optuna random, p@50 / p@100 |",
    "|---|---:|---:|:---:|---:|---:|",
  ];
  for (const fn of fns) {
    const b = find(cells, fn.name, "bayesian")?.at[100]?.median;
    const o = find(cells, fn.name, "optuna tpe")?.at[100]?.median;
    const t = find(cells, fn.name, "tpe")?.at[100]?.median;
    const r = find(cells, fn.name, "random");
    const ro = find(cells, fn.name, "optuna random");
    const p = (c: string) =>
      r && ro ? mannWhitneyP(r.raw[c] as number[], ro.raw[c] as number[]).toFixed(2) : "";
    const ratio = t !== undefined && o !== undefined ? (o === 0 ? "" : (t / o).toFixed(2)) : "";
    const ok = b !== undefined && o !== undefined ? (b <= o ? "yes" : "no") : "";
    lines.push(
      `| ${fn.name} | ${b === undefined ? "" : fmt(b)} | ${o === undefined ? "" : fmt(o)} | ${ok} | ${ratio} | ${p("50")} / ${p("100")} |`,
    );
  }
  return lines.join("\n");
}

function resultsTable(cells: Cell[], checkpoints: number[]): string {
  const head = `| function | method | ${checkpoints.map((c) => `regret@${c} median [q25, q75]`).join(" | ")} | ms / generation |`;
  const rule = `|---|---|${checkpoints.map(() => "---:").join("|")}|---:|`;
  const rows = cells.map(
    (c) =>
      `| ${c.function} | ${c.method} | ${checkpoints.map((k) => summaryText(c.at[k])).join(" | ")} | ${c.msPerGeneration.toFixed(1)} |`,
  );
  return [head, rule, ...rows].join("\n");
}

/** save writes the results as JSON and Markdown and, unless --results points elsewhere, into docs/performance.md. */
function save(
  name: string,
  result: { date: string; command: string; loadBefore: number[]; [key: string]: unknown },
  md: string,
): void {
  const resultsDir = flag("results", defaultResults);
  mkdirSync(resultsDir, { recursive: true });
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  const header = `Command: \`${result.command}\`, ${result.date.slice(0, 10)}, load average ${load(result.loadBefore)} at the start.`;
  const body = `${header}\n\n${md}`;
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${name}.md`), `${body}\n`);
  if (resultsDir === defaultResults) writeSection(`generators-${name}`, body);
  process.stdout.write(`${body}\n`);
}

async function main(): Promise<void> {
  const study = flag("study", "main");
  const seeds = Number(flag("seeds", study === "cap" ? "10" : "20"));
  const loadBefore = loadavg();
  const command = `npm run bench:quality${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  if (study === "cap") {
    // The fitting cap binds from 100 observations on, the model cap from 300: one experiment each.
    const fit = await runStudy(
      [hartmann6, ackley5],
      [
        { label: "bayesian (defaults: fit on 100)", ours: "bayesian" },
        { label: "bayesian (fit on all)", ours: "bayesian", options: { fitPoints: 1e9 } },
        {
          label: "bayesian (model 100, fit 50)",
          ours: "bayesian",
          options: { maxModelPoints: 100, fitPoints: 50 },
        },
      ],
      seeds,
      200,
      [100, 200],
    );
    const model = await runStudy(
      [hartmann6, ackley5],
      [
        { label: "bayesian (defaults: model on 300)", ours: "bayesian" },
        { label: "bayesian (model on all)", ours: "bayesian", options: { maxModelPoints: 1e9 } },
      ],
      seeds,
      500,
      [300, 500],
    );
    const md = `${resultsTable(fit, [100, 200])}\n\n${resultsTable(model, [300, 500])}`;
    save(
      "quality-cap",
      { date: new Date().toISOString(), command, seeds, loadBefore, loadAfter: loadavg(), fit, model },
      md,
    );
    return;
  }
  const wanted = flag("functions", "").split(",").filter(Boolean);
  const fns = wanted.length
    ? testFunctions.filter((f) => wanted.some((w) => f.name.startsWith(w)))
    : testFunctions;
  const methods = flag("methods", "bayesian,tpe,cmaes,sobol,random").split(",");
  const variants = [
    ...methods.map((m) => ({ label: m, ours: m })),
    { label: "optuna tpe", optuna: "tpe" },
    { label: "optuna random", optuna: "random" },
  ];
  const cells = await runStudy(fns, variants, seeds, 100, [50, 100]);
  const md = `${resultsTable(cells, [50, 100])}\n\n${goalsTable(cells, fns)}`;
  save(
    "quality",
    {
      date: new Date().toISOString(),
      command,
      optuna: OPTUNA_VERSION,
      seeds,
      loadBefore,
      loadAfter: loadavg(),
      cells,
    },
    md,
  );
}

await main();
