/**
 * The cached virtualenvs of pinned PyPI packages that tests run Python in (hack/python-venv.sh builds
 * them; each setup script prints its python).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./controlplane.ts";

const pythons = new Map<string, string>();

/**
 * venvPython runs a setup script (a path from the repository's root) once, building its virtualenv
 * when it is missing (minutes when cold), and returns the python it prints; it throws with the
 * script's own error when the virtualenv cannot be built.
 */
export function venvPython(setupScript: string): string {
  const cached = pythons.get(setupScript);
  if (cached) return cached;
  const script = join(repoRoot, setupScript);
  const r = spawnSync("bash", [script], { encoding: "utf8", timeout: 600_000 });
  const path = r.stdout.trim().split("\n").pop();
  if (r.status !== 0 || !path) {
    throw new Error(`${script} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr.trim()}`);
  }
  pythons.set(setupScript, path);
  return path;
}
