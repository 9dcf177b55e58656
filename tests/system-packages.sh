#!/usr/bin/env bash
# The Debian packages the tests run for real: varnishd (the edge), redis-server
# (the Redis store), chromium (the JS loader, headless) and npm (installs the
# locked axe-core of tests/a11y; any npm on PATH will do). Installs only what
# is missing, so a second run costs nothing. Needs root (CI is root).
set -euo pipefail
packages=(varnish redis-server chromium)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
