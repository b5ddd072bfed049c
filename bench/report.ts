/**
 * Helpers shared by the benchmarks: percentiles, and writing a benchmark's table into its own
 * marked section of docs/performance.md (other sections are left as they are).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../test/support/controlplane.ts";

/** percentile returns the p-th percentile (nearest rank) of values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** writeSection replaces the text between <!-- bench:NAME:begin --> and <!-- bench:NAME:end -->. */
export function writeSection(name: string, body: string, file = join(repoRoot, "docs/performance.md")): void {
  const begin = `<!-- bench:${name}:begin -->`;
  const end = `<!-- bench:${name}:end -->`;
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n";
  const block = `${begin}\n${body.trim()}\n${end}`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  const next =
    a >= 0 && b > a
      ? text.slice(0, a) + block + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
