#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and run the test suite; arguments go to pytest.
# pytest's exit code is this script's, except that "no tests collected" (5) counts as a failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh

rc=0
.venv/bin/python -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
