#!/usr/bin/env bash
# Prints the path of a Python with the nevergrad generator's pinned packages (requirements-test.txt,
# which includes requirements.txt), building the cached virtualenv first when it is missing (see
# hack/python-venv.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../../hack/python-venv.sh" nevergrad "$here/requirements-test.txt" "nevergrad, pytest" "$here/requirements.txt"
