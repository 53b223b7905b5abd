#!/usr/bin/env bash
# Print the path of a working Python >= 3.12 interpreter, or fail with one clear message on stderr.
#
# Order: $PYTHON (if set, it must work), python3.13, python3.12, python3 on PATH, then pyenv's installed
# versions, newest first. Every candidate is actually run: pyenv shims sit on PATH even when the version
# they name is not selected, and then they fail.
#
# Written in POSIX sh (no arrays, no process substitution) so it also runs under `sh`/dash.
set -eu
# shellcheck disable=SC3040
(set -o pipefail) 2>/dev/null && set -o pipefail

MIN_MAJOR=3
MIN_MINOR=12

# ok CMD: succeeds, printing the interpreter's absolute path, if CMD runs and is new enough.
ok() {
    "$1" -c "import sys
if sys.version_info < ($MIN_MAJOR, $MIN_MINOR):
    raise SystemExit(1)
print(sys.executable)" 2>/dev/null
}

if [ -n "${PYTHON:-}" ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        echo "error: \$PYTHON='$PYTHON' is not an executable" >&2
        exit 1
    fi
    if ! ok "$PYTHON"; then
        echo "error: \$PYTHON='$PYTHON' does not run or is older than Python $MIN_MAJOR.$MIN_MINOR" >&2
        exit 1
    fi
    exit 0
fi

for cand in python3.13 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1 && ok "$cand"; then
        exit 0
    fi
done

# pyenv: its installed versions, newest first, whether or not one is selected.
pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root 2>/dev/null || true)"
fi
for r in "$pyenv_root" "${PYENV_ROOT:-}" "${HOME:-/nonexistent}/.pyenv"; do
    [ -n "$r" ] && [ -d "$r/versions" ] || continue
    # Names like 3.13.0 or 3.12.1; sort -V orders versions, -r puts the newest first.
    versions="$(ls -1 "$r/versions" 2>/dev/null | grep -E '^3\.[0-9]+' | sort -rV || true)"
    for v in $versions; do
        for exe in "$r/versions/$v/bin/python3" "$r/versions/$v/bin/python"; do
            if [ -x "$exe" ] && ok "$exe"; then
                exit 0
            fi
        done
    done
done

echo "error: no working Python >= $MIN_MAJOR.$MIN_MINOR found (tried \$PYTHON, python3.13, python3.12, python3 and pyenv);" \
     "install Python $MIN_MAJOR.$MIN_MINOR+ or set \$PYTHON to its path" >&2
exit 1
