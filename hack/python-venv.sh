#!/usr/bin/env bash
# Usage: python-venv.sh NAME REQUIREMENTS IMPORTS [HASHED_FILE...]
# Prints the path of a Python whose virtualenv holds the pinned packages of REQUIREMENTS, building it
# first when it is missing: it lives in the cache folder (HPO_CACHE_DIR, default ~/.cache/hpo-operator)
# as NAME-venv-<hash>, the hash covering REQUIREMENTS, the HASHED_FILEs and the Python version, so a
# change of pins builds a new one. IMPORTS ("a, b.c") is imported once as a check. Idempotent and
# safe to run concurrently (a lock); a half-built virtualenv is rebuilt. Packages come from PyPI as
# wheels. Progress goes to stderr; stdout is only the path. Any failure exits non-zero with pip's error.
set -euo pipefail
name=$1 requirements=$2 imports=$3
shift 3
python=${HPO_PYTHON:-python3}
command -v "$python" >/dev/null || { echo "$name venv: $python not found (Python 3.11 is needed)" >&2; exit 1; }
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
hash=$( { echo "python $pyver"; cat "$requirements" "$@"; } | sha256sum | cut -c1-12)
cache_root=${HPO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hpo-operator}
venv="$cache_root/$name-venv-$hash"
stamp="$venv/.complete"

if [[ ! -f "$stamp" ]]; then
  mkdir -p "$cache_root"
  exec 9>"$venv.lock"
  flock 9
  if [[ ! -f "$stamp" ]]; then
    echo "$name venv: building $venv (Python $pyver, pinned packages from PyPI)" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      --only-binary=:all: -r "$requirements" >&2
    "$venv/bin/python" -m pip check >&2
    "$venv/bin/python" -c "import $imports" >&2
    date -u +%FT%TZ >"$stamp"
  fi
  flock -u 9
fi
echo "$venv/bin/python"
