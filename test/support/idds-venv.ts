/**
 * The pinned virtualenv of the real idds-client and stomp.py (hack/idds-venv/setup-venv.sh, cached),
 * for tests that run iDDS's own Python code: its JSON encoding and decoding, and stomp.py consumers.
 */
import { venvPython } from "./python-venv.ts";

/** iddsVenvPython builds the virtualenv once and returns its python; it throws with the script's error. */
export function iddsVenvPython(): string {
  return venvPython("hack/idds-venv/setup-venv.sh");
}
