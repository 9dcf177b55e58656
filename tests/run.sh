#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run): install the Debian
# packages the tests use, a venv with the locked versions (locks/test.txt,
# hashes checked), then lint, format check, type check and the whole suite.
# Arguments go to pytest: bash tests/run.sh -m 'not slow'
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/system-packages.sh
# axe-core for the accessibility audit, exactly as tests/a11y/package-lock.json
# locks it (integrity checked); skipped when that lock is already installed.
if ! cmp -s tests/a11y/package-lock.json tests/a11y/node_modules/.sitegen-lock; then
    (cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund && cp package-lock.json node_modules/.sitegen-lock)
fi
python3 -m venv .venv
pip=(.venv/bin/pip install -q --disable-pip-version-check)
"${pip[@]}" --require-hashes --no-deps -r locks/test.txt
"${pip[@]}" --no-deps --no-build-isolation -e .
.venv/bin/ruff check sitegen tests bench
.venv/bin/ruff format --check sitegen tests bench
.venv/bin/mypy sitegen
.venv/bin/pytest "$@"
