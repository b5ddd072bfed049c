/**
 * The image table of the test kubelet for container generators: the operator's own image (stage-in
 * and stage-out) and the toy steering container of test/fixtures/steering.mjs.
 */
import { join } from "node:path";
import { repoRoot } from "./controlplane.ts";
import type { ImageTable } from "./kubelet.ts";

/** STAGE_IMAGE is the operator image the tests pass as --operator-image. */
export const STAGE_IMAGE = "hpo-operator:test";

/** steeringImages maps hpo-operator:test to src/cli/main.ts and steering:test to the toy steering script. */
export function steeringImages(): ImageTable {
  return {
    [STAGE_IMAGE]: { entrypoint: [process.execPath, join(repoRoot, "src/cli/main.ts")] },
    "steering:test": { entrypoint: [process.execPath, join(repoRoot, "test/fixtures/steering.mjs")] },
  };
}
