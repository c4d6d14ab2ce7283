#!/bin/bash
# The project's test command: installs what the tests need (Debian packages
# for the User-Mode Linux lab and shellcheck, tox from PyPI), then runs the
# unit tests, style checks, sample config, docs, release notes, the lab
# functional tests, the CLI smoke against real Keystone, Cinder and
# Manila services (tox -e stack) and the Tempest subset of
# tests/tempest/ci.txt on that stack (tox -e tempest-ci). Needs root (the
# lab boots UML guests inside a private network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/lab-install.sh
if ! command -v shellcheck >/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck
fi
python3 -m pip install -q 'tox>=4'
python3 -m tox -e py3,pep8,genconfig,docs,releasenotes,functional,functional-cinder,functional-manila "$@"
# Of the HA pair's suite, the drivers' takeover (a kill, fencing, the pool
# moved, both drivers carrying on unrestarted); each HA test boots a pair
# of its own (minutes), so the rest (takeovers under load and failback,
# split brain, active/active, the write cost of mirroring) is left to
# `tox -e functional-ha`, to keep this command within CI's time.
python3 -m tox -e functional-ha "$@" -- test_drivers_after_takeover
python3 -m tox -e stack "$@"
exec python3 -m tox -e tempest-ci "$@"
