#!/usr/bin/env bash
# Refresh the locks: the exact, hashed versions that the README's commands and
# CI install (pip --require-hashes). Run it after changing dependencies in
# pyproject.toml or tests/pretalx-requirements.txt, then run the tests
# (bash tests/run.sh) and commit locks/.
#   bash locks/refresh.sh                       # newest versions the ranges allow
#   bash locks/refresh.sh --upgrade-package X   # move X only, keep the rest
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check 'uv>=0.4'
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(--upgrade)
compile() { python3 -m uv pip compile --quiet --generate-hashes --python-version 3.11 "${options[@]}" "$@"; }
compile pyproject.toml --extra setup -o locks/run.txt
compile pyproject.toml --extra setup --extra test -o locks/test.txt
compile tests/pretalx-requirements.txt -o locks/pretalx.txt
