#!/usr/bin/env bash
# Prints the path of a Python with the nevergrad generator's pinned packages (requirements-test.txt),
# building the virtualenv first when it is missing: it lives in the cache folder
# (HPO_CACHE_DIR, default ~/.cache/hpo-operator) as nevergrad-venv-<hash>, the hash covering the
# requirement files and the Python version, so a change of pins builds a new one. Idempotent and
# safe to run concurrently (a lock); a half-built virtualenv is rebuilt. Packages come from PyPI as
# wheels. Progress goes to stderr; stdout is only the path. Any failure exits non-zero with pip's error.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${HPO_PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup-venv: $python not found (Python 3.11 is needed)" >&2; exit 1; }
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
hash=$( { echo "python $pyver"; cat "$here/requirements.txt" "$here/requirements-test.txt"; } | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
venv="$cache_root/nevergrad-venv-$hash"
stamp="$venv/.complete"

if [[ ! -f "$stamp" ]]; then
  mkdir -p "$cache_root"
  exec 9>"$venv.lock"
  flock 9
  if [[ ! -f "$stamp" ]]; then
    echo "setup-venv: building $venv (Python $pyver, pinned packages from PyPI)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --only-binary=:all: -r "$here/requirements-test.txt" >&2
    "$venv/bin/python" -m pip check >&2
    "$venv/bin/python" -c 'import nevergrad, pytest' >&2
    date -u +%FT%TZ >"$stamp"
  fi
  flock -u 9
fi
echo "$venv/bin/python"
