#!/bin/sh
# sitegen vs Hugo vs Pelican: full build and one-session rebuild, N=10,000 and N=100,000.
# A thin wrapper; every option is bench/compare.py's (--sizes, --runs, --skip, --sitegen-rev, ...).
# Run from anywhere; the project venv (.venv, see README.md) must exist.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
exec "$root/.venv/bin/python" "$root/bench/compare.py" "$@"
