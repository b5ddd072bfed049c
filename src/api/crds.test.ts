/**
 * Static checks of the CRDs in crds/: what `kubectl explain`, `kubectl get` and the rest of the code
 * rely on, checked without a server (the integration tests check the same files on a real one).
 */
import { describe, expect, it } from "vitest";
import { type Crd, readCrds, type Schema } from "../../scripts/generate-types.ts";
import { Group, HPORequestResource, HyperParameterSetResource, Version } from "./index.ts";

const crds = readCrds() as (Crd & {
  metadata: { name: string };
  spec: Crd["spec"] & {
    names: { categories?: string[] };
    versions: {
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; jsonPath: string }[];
    }[];
  };
})[];
const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));

/** undocumented lists the paths of fields without a description, below a schema. */
function undocumented(s: Schema, path: string): string[] {
  const out: string[] = [];
  for (const [name, f] of Object.entries(s.properties ?? {})) {
    const p = `${path}.${name}`;
    if (name !== "metadata" && !f.description) out.push(p);
    out.push(...undocumented(f, p));
    if (f.items) out.push(...undocumented(f.items, `${p}[]`));
    if (typeof f.additionalProperties === "object")
      out.push(...undocumented(f.additionalProperties, `${p}{}`));
  }
  return out;
}

describe("the CRDs", () => {
  it("define exactly HPORequest and HyperParameterSet in hpo.dev/v1alpha1", () => {
    expect([...byKind.keys()].sort()).toEqual(["HPORequest", "HyperParameterSet"]);
    for (const c of crds) {
      expect(c.spec.group).toBe(Group);
      expect(c.spec.versions.map((v) => v.name)).toEqual([Version]);
      expect(c.metadata.name).toBe(`${c.spec.names.plural}.${Group}`);
    }
    expect(HPORequestResource.plural).toBe("hporequests");
    expect(HyperParameterSetResource.plural).toBe("hyperparametersets");
  });

  it.each(["HPORequest", "HyperParameterSet"])("%s has a description on every field", (kind) => {
    const schema = byKind.get(kind)?.spec.versions[0]?.schema.openAPIV3Schema;
    expect(schema?.description).toBeTruthy();
    expect(undocumented(schema as Schema, kind)).toEqual([]);
  });

  it("have the short names, the category and the status subresource", () => {
    expect(byKind.get("HPORequest")?.spec.names.shortNames).toEqual(["hpor"]);
    expect(byKind.get("HyperParameterSet")?.spec.names.shortNames).toEqual(["hps"]);
    for (const c of crds) {
      expect(c.spec.names.categories).toEqual(["hpo"]);
      expect(c.spec.versions[0]?.subresources?.status).toEqual({});
    }
  });

  it("have the printer columns users expect", () => {
    const cols = (kind: string) =>
      byKind.get(kind)?.spec.versions[0]?.additionalPrinterColumns?.map((c) => c.name);
    expect(cols("HPORequest")).toEqual(["Method", "Phase", "Points", "Evaluated", "Best loss", "Age"]);
    expect(cols("HyperParameterSet")).toEqual(["Request", "First", "Last", "Points", "Age"]);
  });
});
