/**
 * generate-manifests keeps the copies that the Helm chart and the kustomize config take from the
 * single sources, byte for byte:
 *
 *   crds/*.yaml                 -> charts/hpo-operator/crds/, config/crd/bases/
 *   config/rbac/<rules>.yaml    -> charts/hpo-operator/files/rbac/ (the chart reads their rules)
 *
 *   node scripts/generate-manifests.ts           # write the copies
 *   node scripts/generate-manifests.ts --check   # exit 1 when a copy is stale, missing or extra
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Copy is one folder whose YAML files are exact copies of some source files. */
export interface Copy {
  /** to is the folder of the copies; every .yaml file in it is one of ours. */
  to: string;
  /** from lists the source files. */
  from: string[];
}

/** RBAC_RULE_FILES are the config/rbac files whose rules the chart uses. */
export const RBAC_RULE_FILES = [
  "role.yaml",
  "leader_election_role.yaml",
  "hporequest_editor_role.yaml",
  "hporequest_viewer_role.yaml",
  "api_role.yaml",
];

/** copies lists every copy the project keeps, relative to base (the repository). */
export function copies(base = root): Copy[] {
  const crdDir = join(base, "crds");
  const crds = readdirSync(crdDir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(crdDir, f));
  const rbac = RBAC_RULE_FILES.map((f) => join(base, "config/rbac", f));
  return [
    { to: join(base, "charts/hpo-operator/crds"), from: crds },
    { to: join(base, "config/crd/bases"), from: crds },
    { to: join(base, "charts/hpo-operator/files/rbac"), from: rbac },
  ];
}

/** stale lists what is wrong with the copies (empty when they are current), relative to base. */
export function stale(list: Copy[], base = root): string[] {
  const problems: string[] = [];
  for (const c of list) {
    const want = new Map(c.from.map((f) => [f.split("/").pop() as string, f]));
    let present: string[] = [];
    try {
      present = readdirSync(c.to).filter((f) => f.endsWith(".yaml"));
    } catch {
      // a missing folder: every copy is missing
    }
    for (const f of present)
      if (!want.has(f)) problems.push(`${relative(base, join(c.to, f))} has no source any more`);
    for (const [name, src] of want) {
      const dst = join(c.to, name);
      let current: string | undefined;
      try {
        current = readFileSync(dst, "utf8");
      } catch {
        problems.push(`${relative(base, dst)} is missing (copy of ${relative(base, src)})`);
        continue;
      }
      if (current !== readFileSync(src, "utf8"))
        problems.push(`${relative(base, dst)} differs from ${relative(base, src)}`);
    }
  }
  return problems;
}

/** write makes every copy current, removing copies whose source is gone. */
export function write(list: Copy[]): void {
  for (const c of list) {
    mkdirSync(c.to, { recursive: true });
    const names = new Set(c.from.map((f) => f.split("/").pop() as string));
    for (const f of readdirSync(c.to)) if (f.endsWith(".yaml") && !names.has(f)) rmSync(join(c.to, f));
    for (const src of c.from) writeFileSync(join(c.to, src.split("/").pop() as string), readFileSync(src));
  }
}

function main(): void {
  const list = copies();
  if (process.argv.includes("--check")) {
    const problems = stale(list);
    if (problems.length) {
      process.stderr.write(
        `copies of crds/ and config/rbac/ are stale:\n${problems.map((p) => `  ${p}\n`).join("")}` +
          "Run `npm run generate` and commit the result (edit the sources, never the copies).\n",
      );
      process.exit(1);
    }
    process.stdout.write("chart and kustomize copies are up to date\n");
    return;
  }
  write(list);
  process.stdout.write(`wrote ${list.map((c) => relative(root, c.to)).join(", ")}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
