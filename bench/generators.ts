/**
 * Speed of the built-in methods: wall and CPU time of one generation of 10 points on a 6-dimensional
 * space (Hartmann6's box) after n = 100, 500, 1000 and 2000 evaluated points.
 *
 *   npm run bench:generators [-- --sizes=100,500 --methods=bayesian,tpe --repeats=3]
 *
 * Writes bench/results/generators-speed.json and its table into docs/performance.md (section
 * generators-speed). bayesian is timed cold (no state) and warm (state from a call at the same n, as
 * the operator keeps it per request).
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { builtinMethodNames, getMethod } from "../src/generators/methods.ts";
import { createRng } from "../src/generators/rng.ts";
import type { History, Method, SearchSpace, SuggestInput } from "../src/generators/types.ts";
import { hartmann6 } from "./quality/functions.ts";
import { writeSection } from "./report.ts";

const resultsDir = join(import.meta.dirname, "results");

interface Row {
  method: string;
  n: number;
  variant: "cold" | "warm";
  wallMs: number;
  cpuMs: number;
  repeats: number;
}

function flag(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

function history(space: SearchSpace, n: number): History {
  const rng = createRng("bench-history", n);
  const evaluated = Array.from({ length: n }, () => {
    const params = Object.fromEntries(space.dims.map((d) => [d.name, rng.next()]));
    return { params, loss: hartmann6.f(space.dims.map((d) => params[d.name] as number)) };
  });
  return { evaluated, pending: [], failed: [] };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function time(method: Method, input: SuggestInput, repeats: number): { wallMs: number; cpuMs: number } {
  method.suggest(input); // warm-up: JIT and caches
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { points } = method.suggest(input);
    walls.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1000);
    if (points.length !== input.count) throw new Error(`${method.name} returned ${points.length} points`);
  }
  return { wallMs: median(walls), cpuMs: median(cpus) };
}

function table(rows: Row[], sizes: number[]): string {
  const keys = [...new Set(rows.map((r) => `${r.method}${r.variant === "warm" ? " (warm)" : ""}`))];
  const header = `| method | ${sizes.map((n) => `n = ${n}`).join(" | ")} |\n|---|${sizes.map(() => "---:").join("|")}|`;
  const lines = keys.map((key) => {
    const cells = sizes.map((n) => {
      const r = rows.find(
        (row) => `${row.method}${row.variant === "warm" ? " (warm)" : ""}` === key && row.n === n,
      );
      return r ? `${r.wallMs.toFixed(1)} (${r.cpuMs.toFixed(1)})` : "";
    });
    return `| ${key} | ${cells.join(" | ")} |`;
  });
  return [header, ...lines].join("\n");
}

function targets(rows: Row[]): string {
  const at = (method: string, n: number, variant: Row["variant"]) =>
    rows.find((r) => r.method === method && r.n === n && r.variant === variant);
  const check = (label: string, row: Row | undefined, limitMs: number, per = 1) =>
    row
      ? `- ${label}: ${(row.wallMs / per).toFixed(1)} ms wall, ${(row.cpuMs / per).toFixed(1)} ms CPU (target ${limitMs} ms): ` +
        `${row.wallMs / per <= limitMs ? "met" : row.cpuMs / per <= limitMs ? "met in CPU time, not in wall time on this loaded machine" : "missed"}`
      : "";
  return [
    "Targets:",
    check("bayesian, n = 500, cold", at("bayesian", 500, "cold"), 300),
    check("bayesian, n = 500, warm", at("bayesian", 500, "warm"), 300),
    check("bayesian, n = 1000, cold", at("bayesian", 1000, "cold"), 1000),
    check("tpe per point, n = 1000", at("tpe", 1000, "cold"), 10, 10),
  ]
    .filter(Boolean)
    .join("\n");
}

function main(): void {
  const sizes = flag("sizes", "100,500,1000,2000").split(",").map(Number);
  const methods = flag("methods", builtinMethodNames.join(",")).split(",");
  const repeats = Number(flag("repeats", "5"));
  const space: SearchSpace = {
    dims: Array.from({ length: 6 }, (_, i) => ({
      name: `x${i + 1}`,
      kind: "float" as const,
      low: 0,
      high: 1,
      log: false,
    })),
  };
  const loadBefore = loadavg();
  const rows: Row[] = [];
  for (const name of methods) {
    const method = getMethod(name) as Method;
    for (const n of sizes) {
      const input: SuggestInput = {
        space,
        history: history(space, n),
        count: 10,
        seed: 1,
        direction: "minimize",
      };
      const reps = name === "bayesian" && n >= 1000 ? Math.max(1, Math.ceil(repeats / 2)) : repeats;
      rows.push({ method: name, n, variant: "cold", ...time(method, input, reps), repeats: reps });
      if (name === "bayesian") {
        const state = method.suggest(input).state;
        rows.push({
          method: name,
          n,
          variant: "warm",
          ...time(method, { ...input, state }, reps),
          repeats: reps,
        });
      }
      const last = rows[rows.length - 1] as Row;
      process.stderr.write(
        `${name} n=${n}: ${last.wallMs.toFixed(1)} ms wall, ${last.cpuMs.toFixed(1)} ms cpu\n`,
      );
    }
  }
  const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, node: process.version };
  const result = {
    date: new Date().toISOString(),
    command: `npm run bench:generators${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    machine,
    loadBefore,
    loadAfter: loadavg(),
    pointsPerGeneration: 10,
    dimensions: 6,
    rows,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, "generators-speed.json"), `${JSON.stringify(result, null, 2)}\n`);
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  const md = [
    `Command: \`${result.command}\`, ${result.date.slice(0, 10)}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node};`,
    `load average ${load(loadBefore)} before, ${load(result.loadAfter)} after.`,
    "",
    table(rows, sizes),
    "",
    "Milliseconds per generation of 10 points on 6 float parameters after n evaluated points: median wall",
    "time, CPU time of the process in brackets (the wall time of a quiet machine).",
    "",
    targets(rows),
  ].join("\n");
  writeFileSync(join(resultsDir, "generators-speed.md"), `${md}\n`);
  writeSection("generators-speed", md);
  process.stdout.write(`${md}\n`);
}

main();
