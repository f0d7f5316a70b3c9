#!/usr/bin/env bash
# Runs the integration tests with Debian's pytest (python3-pytest), whatever
# python3 is first on PATH. Usage: scripts/pytest.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
