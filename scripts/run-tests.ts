/**
 * run-tests runs the unit and the integration tests with vitest (arguments pass through, such as
 * `--project unit`), then prints how many tests of each project ran, passed and failed. It fails when
 * any test was skipped or left as todo: a test that cannot run must fail and say why, not vanish.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** VitestJson is the part of vitest's JSON report that is summarised. */
interface VitestJson {
  testResults: { name: string; assertionResults: { status: string; fullName: string }[] }[];
}

/** Tally counts tests by outcome. */
export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** projectOf names the vitest project of a test file from its path. */
export function projectOf(file: string): string {
  if (file.startsWith("e2e/")) return "e2e";
  return file.startsWith("test/integration/") ? "integration" : "unit";
}

/** tally sums a vitest JSON report by project. */
export function tally(report: VitestJson, root: string): Map<string, Tally & { skippedNames: string[] }> {
  const out = new Map<string, Tally & { skippedNames: string[] }>();
  for (const file of report.testResults) {
    const project = projectOf(relative(root, file.name));
    const t = out.get(project) ?? { passed: 0, failed: 0, skipped: 0, skippedNames: [] };
    for (const a of file.assertionResults) {
      if (a.status === "passed") t.passed++;
      else if (a.status === "failed") t.failed++;
      else {
        t.skipped++;
        t.skippedNames.push(a.fullName);
      }
    }
    out.set(project, t);
  }
  return out;
}

function main(): number {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const outDir = join(root, "test-results");
  const outFile = join(outDir, "vitest.json");
  mkdirSync(outDir, { recursive: true });
  rmSync(outFile, { force: true });
  const vitest = join(root, "node_modules/vitest/vitest.mjs");
  const args = [vitest, "run", "--reporter=default", "--reporter=json", `--outputFile.json=${outFile}`];
  const r = spawnSync(process.execPath, [...args, ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
  let report: VitestJson;
  try {
    report = JSON.parse(readFileSync(outFile, "utf8")) as VitestJson;
  } catch {
    process.stderr.write(`vitest wrote no report (exit ${r.status}); see its output above\n`);
    return r.status || 1;
  }
  const byProject = tally(report, root);
  const total: Tally = { passed: 0, failed: 0, skipped: 0 };
  process.stdout.write("\n");
  for (const [project, t] of [...byProject].sort()) {
    process.stdout.write(`${project}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped\n`);
    total.passed += t.passed;
    total.failed += t.failed;
    total.skipped += t.skipped;
    for (const n of t.skippedNames) process.stderr.write(`  skipped: ${n}\n`);
  }
  let code = r.status ?? 1;
  if (total.skipped > 0) {
    process.stderr.write(
      `${total.skipped} test(s) were skipped or left as todo: a test that cannot run must fail and say why\n`,
    );
    code = code || 1;
  }
  if (total.passed + total.failed === 0) {
    process.stderr.write("no test ran\n");
    code = code || 1;
  }
  process.stdout.write(`tests: ${total.passed} passed, ${total.failed} failed\n`);
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(main());
