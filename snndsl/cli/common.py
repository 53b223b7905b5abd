"""What every subcommand shares: reporting diagnostics and unreadable files, and argument types.

Exit codes: 0 success, 1 invalid model, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import sys

from snndsl.diagnostics import SnnError


def read_error(path: str, exc: Exception) -> int:
    """Say that ``path`` cannot be read (and why, in a few words); exit code 2."""
    reason = "not valid UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
        exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))
    print(f"snndsl: error: cannot read {path}: {reason}", file=sys.stderr)
    return 2


def report(err: SnnError) -> int:
    """Print every diagnostic of ``err`` on stderr; exit code 1."""
    for d in err.diagnostics:
        print(d.render(), file=sys.stderr)
    return 1


def devices(text: str) -> int | str:
    """``--devices``: a positive count or ``all``."""
    return "all" if text == "all" else positive(text)


def positive(text: str) -> int:
    """A positive integer argument."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
