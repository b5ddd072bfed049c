import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { copies, RBAC_RULE_FILES, stale, write } from "./generate-manifests.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** fakeRepo makes a folder with the sources that copies() reads. */
function fakeRepo(): string {
  const base = mkdtempSync(join(tmpdir(), "hpo-genmanifests-"));
  dirs.push(base);
  mkdirSync(join(base, "crds"));
  mkdirSync(join(base, "config/rbac"), { recursive: true });
  writeFileSync(join(base, "crds/a.yaml"), "kind: CustomResourceDefinition # a\n");
  writeFileSync(join(base, "crds/b.yaml"), "kind: CustomResourceDefinition # b\n");
  for (const f of RBAC_RULE_FILES) writeFileSync(join(base, "config/rbac", f), `# ${f}\nrules: []\n`);
  return base;
}

describe("generate-manifests", () => {
  it("the committed copies in charts/ and config/ are current (run `npm run generate` if not)", () => {
    expect(stale(copies())).toEqual([]);
  });

  it("copies the CRDs into the chart and config/crd/bases, and the RBAC rules into the chart", () => {
    const base = fakeRepo();
    expect(stale(copies(base), base).length).toBeGreaterThan(0);
    write(copies(base));
    expect(stale(copies(base), base)).toEqual([]);
    expect(readFileSync(join(base, "charts/hpo-operator/crds/b.yaml"), "utf8")).toBe(
      "kind: CustomResourceDefinition # b\n",
    );
    expect(readFileSync(join(base, "config/crd/bases/a.yaml"), "utf8")).toBe(
      "kind: CustomResourceDefinition # a\n",
    );
    expect(readFileSync(join(base, "charts/hpo-operator/files/rbac/role.yaml"), "utf8")).toBe(
      "# role.yaml\nrules: []\n",
    );
  });

  it("reports an edited copy, a changed source, a missing copy and a copy without a source", () => {
    const base = fakeRepo();
    write(copies(base));
    writeFileSync(join(base, "charts/hpo-operator/crds/a.yaml"), "edited by hand\n");
    writeFileSync(join(base, "config/rbac/role.yaml"), "rules: [changed]\n");
    rmSync(join(base, "config/crd/bases/b.yaml"));
    writeFileSync(join(base, "config/crd/bases/old.yaml"), "kind: CustomResourceDefinition\n");
    expect(stale(copies(base), base).sort()).toEqual(
      [
        "charts/hpo-operator/crds/a.yaml differs from crds/a.yaml",
        "charts/hpo-operator/files/rbac/role.yaml differs from config/rbac/role.yaml",
        "config/crd/bases/b.yaml is missing (copy of crds/b.yaml)",
        "config/crd/bases/old.yaml has no source any more",
      ].sort(),
    );
    write(copies(base));
    expect(stale(copies(base), base)).toEqual([]);
  });
});
