#!/bin/bash
# The project's test command: installs what the tests need (Debian packages
# for the User-Mode Linux lab, tox from PyPI), then runs the unit tests,
# style checks, sample-config generation and the lab functional tests.
# Needs root (the lab boots UML guests inside a private network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/lab-install.sh
python3 -m pip install -q 'tox>=4'
exec python3 -m tox -e py3,pep8,genconfig,functional "$@"
