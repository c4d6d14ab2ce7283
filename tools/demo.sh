#!/bin/bash
# The lab demo: installs what it needs, boots a storage node and a client
# node in User-Mode Linux and walks the Arca flow end to end. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/lab-install.sh
python3 -m pip install -q 'tox>=4'
exec python3 -m tox -e demo -- "$@"
