/**
 * The Python environment of the quality benchmark: a virtualenv under the cache folder
 * (HPO_CACHE_DIR, default ~/.cache/hpo-operator) with a pinned Optuna from PyPI, created on first use.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** OPTUNA_VERSION is the Optuna release the references are measured with. */
export const OPTUNA_VERSION = "5.0.0";

/** ensureVenv returns the path of a Python with optuna==OPTUNA_VERSION, creating the virtualenv if needed. */
export function ensureVenv(): string {
  const root = process.env.HPO_CACHE_DIR ?? join(homedir(), ".cache", "hpo-operator");
  const venv = join(root, "bench-venv");
  const python = join(venv, "bin", "python");
  if (existsSync(python) && installedVersion(python) === OPTUNA_VERSION) return python;
  process.stderr.write(`creating ${venv} with optuna==${OPTUNA_VERSION}\n`);
  if (!existsSync(python)) execFileSync("python3", ["-m", "venv", venv], { stdio: "inherit" });
  execFileSync(python, ["-m", "pip", "install", "--quiet", `optuna==${OPTUNA_VERSION}`], {
    stdio: "inherit",
  });
  return python;
}

function installedVersion(python: string): string | undefined {
  try {
    return execFileSync(python, ["-c", "import optuna; print(optuna.__version__)"], {
      encoding: "utf8",
    }).trim();
  } catch {
    return undefined;
  }
}
