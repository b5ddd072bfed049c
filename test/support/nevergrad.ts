/**
 * The nevergrad generator image for the test kubelet: the virtualenv of
 * generators/nevergrad/setup-venv.sh (pinned packages from PyPI, cached) and an image-table entry
 * that runs the checkout's generators/nevergrad/main.py where the image has /app/main.py.
 */
import { dirname, join } from "node:path";
import { parseConfig } from "../../src/operator/config.ts";
import { repoRoot } from "./controlplane.ts";
import type { LocalImage } from "./kubelet.ts";
import { venvPython } from "./python-venv.ts";

/** NEVERGRAD_IMAGE is the operator's default --nevergrad-image, the image of method: nevergrad. */
export const NEVERGRAD_IMAGE = parseConfig([], {}).nevergradImage;

/** nevergradPython builds the virtualenv once (minutes when cold) and returns its python; it throws
 * with the script's own error when the virtualenv cannot be built. */
export function nevergradPython(): string {
  return venvPython("generators/nevergrad/setup-venv.sh");
}

/** nevergradImage is the image-table entry: `python` is the virtualenv's, /app is generators/nevergrad,
 * and the environment is the Dockerfile's. */
export function nevergradImage(): LocalImage {
  const py = nevergradPython();
  return {
    entrypoint: [py, join(repoRoot, "generators/nevergrad/main.py")],
    pathMap: { "/app": join(repoRoot, "generators/nevergrad") },
    env: {
      PATH: `${dirname(py)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
    },
  };
}
