#!/usr/bin/env bash
# Prints the path of a Python with the real iDDS client and stomp.py pinned in requirements.txt
# (building the cached virtualenv first when it is missing; see hack/python-venv.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec bash "$here/../python-venv.sh" idds "$here/requirements.txt" "idds.client.client, stomp"
