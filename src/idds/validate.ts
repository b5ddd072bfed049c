/**
 * Where a problem that validation finds in a translated HPORequest came from in the iDDS request:
 * spec.maxPoints is request_metadata.max_points, spec.initialPoints[2].params is
 * request_metadata.initial_points[2][0], and so on. Pure.
 */
import type { Segment } from "../validation/manifest.ts";

/** specFields maps the HPORequest's spec fields to the iDDS request_metadata fields they come from. */
const specFields: Record<string, string> = {
  method: "method",
  optSpace: "opt_space",
  searchSpace: "opt_space",
  maxPoints: "max_points",
  pointsPerGeneration: "num_points_per_generation",
  minUnevaluatedPoints: "min_unevaluated_points",
  initialPoints: "initial_points",
};

/** generatorFields maps spec.generator's fields to the docker method's fields. */
const generatorFields: Record<string, string> = {
  image: "sandbox",
  args: "arguments",
  workdir: "workdir",
  outputFile: "output_json",
};

/** fieldInIdds names the iDDS field behind a path into the translated HPORequest. */
export function fieldInIdds(path: readonly Segment[]): string {
  const [top, field, ...rest] = path;
  if (top === "metadata") return field === "annotations" ? "workload_id" : "name (the HPORequest's name)";
  if (top !== "spec" || field === undefined) return "request_metadata";
  if (field === "generator") {
    const inner = generatorFields[String(rest[0])];
    return inner ? `request_metadata.${inner}` : "request_metadata";
  }
  const base = specFields[String(field)];
  if (!base) return "request_metadata";
  if (field === "initialPoints" && typeof rest[0] === "number") {
    const part = rest[1] === "params" ? "[0]" : rest[1] === "loss" ? "[1]" : "";
    return `request_metadata.${base}[${rest[0]}]${part}`;
  }
  if (field === "optSpace" && rest.length > 0) return `request_metadata.${base}.${rest.join(".")}`;
  return `request_metadata.${base}`;
}
