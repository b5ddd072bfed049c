/**
 * The pinned virtualenv of the real idds-client and stomp.py (hack/idds-venv/setup-venv.sh, cached),
 * for tests that run iDDS's own Python code: its JSON encoding and decoding, and stomp.py consumers.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./controlplane.ts";

let python: string | undefined;

/** iddsVenvPython builds the virtualenv once and returns its python; it throws with the script's error. */
export function iddsVenvPython(): string {
  if (python) return python;
  const script = join(repoRoot, "hack/idds-venv/setup-venv.sh");
  const r = spawnSync("bash", [script], { encoding: "utf8", timeout: 600_000 });
  const path = r.stdout.trim().split("\n").pop();
  if (r.status !== 0 || !path) {
    throw new Error(`${script} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr.trim()}`);
  }
  python = path;
  return path;
}
