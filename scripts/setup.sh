#!/usr/bin/env bash
# Set up the development environment: .venv in the repository root with snndsl installed editable,
# together with its test extra. Idempotent; a no-op (well under a second) when already set up.
#
# The Python is chosen by scripts/find-python.sh ($PYTHON, python3.13, python3.12, python3, pyenv).
# The pip install is skipped while .venv/.snndsl-setup-stamp is newer than pyproject.toml.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv="$root/.venv"
stamp="$venv/.snndsl-setup-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

# A usable venv: its python runs and is >= 3.12.
venv_ok() {
    [ -x "$venv/bin/python" ] &&
        "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

# snndsl installed editable from this checkout (checked without importing it, and without cwd on sys.path).
installed_ok() {
    [ -x "$venv/bin/snndsl" ] &&
        "$venv/bin/python" -I -c '
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("snndsl")
ok = spec is not None and spec.origin is not None and pathlib.Path(spec.origin).resolve().is_relative_to(pathlib.Path(sys.argv[1]).resolve())
sys.exit(not ok)' "$root/snndsl" >/dev/null 2>&1
}

if ! venv_ok; then
    python="$(bash "$root/scripts/find-python.sh")"
    if [ -e "$venv" ]; then
        echo "setup: $venv is broken or older than Python 3.12; recreating it" >&2
        rm -rf "$venv"
    fi
    echo "setup: creating .venv with $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))" >&2
    "$python" -m venv "$venv"
fi

if [ -f "$stamp" ] && [ "$stamp" -nt "$root/pyproject.toml" ] && installed_ok; then
    exit 0
fi

echo "setup: installing snndsl (editable) and its test dependencies into .venv; this can take a few minutes" >&2
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e "$root[test]"
touch "$stamp"
echo "setup: done" >&2
