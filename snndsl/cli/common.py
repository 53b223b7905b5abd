"""What every subcommand shares: reporting diagnostics and unreadable files, and argument types (each refuses a
bad value with one line, exit 2, before anything runs).

Exit codes: 0 success, 1 invalid model, 2 usage or I/O error, 3 internal error (a bug in snndsl).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from snndsl.diagnostics import SnnError
from snndsl.source import visible


def read_error(path: str, exc: Exception) -> int:
    """Say that ``path`` cannot be read (and why, in a few words); exit code 2."""
    reason = "not valid UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
        exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))
    print(f"snndsl: error: cannot read {visible(str(path))}: {visible(reason)}", file=sys.stderr)
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
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


#: Seeds are what JAX and NumPy take: 0 to 2^32 - 1.
MAX_SEED = 2 ** 32 - 1


def seed(text: str) -> int:
    """``--seed``: an integer from 0 to :data:`MAX_SEED`."""
    value = _int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_SEED}, not {text}")
    return value


def rate(text: str) -> float:
    """``--rate``: a finite, non-negative number of hertz."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of hertz, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite rate of at least 0 Hz, not {text}")
    return value


def _blocking_file(path: Path) -> Path | None:
    """The nearest of ``path``'s parent folders that exists but is not a folder (nothing could be written under
    it), if any."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def out_dir(text: str) -> str:
    """``--out DIR``: a folder that exists or can be created (not an existing file, not under a file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    block = _blocking_file(path)
    if block is not None:
        raise argparse.ArgumentTypeError(f"cannot create a folder under {block}: it is a file")
    return text


def out_file(text: str) -> str:
    """``-o FILE``: a file that can be written (not an existing folder, not under a file; missing folders
    are created)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; name a file")
    block = _blocking_file(path)
    if block is not None:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {block} is a file, not a folder")
    return text


#: Where an internal error should be reported.
REPORT_TO = "the snndsl maintainers (the issue tracker of the repository snndsl came from)"


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says memory ran out (Python's ``MemoryError``, or XLA's RESOURCE_EXHAUSTED)."""
    text = str(exc)
    return isinstance(exc, MemoryError) or "RESOURCE_EXHAUSTED" in text or "Out of memory" in text


def internal_error(exc: BaseException, argv=None) -> int:
    """Report an exception no subcommand expected: one line on stderr naming the file (in the temporary
    folder) that holds the traceback; exit code 3. Running out of memory is the user's to fix, not a bug:
    one line, exit code 2."""
    import datetime
    import os
    import platform
    import tempfile
    import traceback

    if out_of_memory(exc):
        print("snndsl: error: out of memory: the model or run is too large for this machine (reduce the "
              "population sizes, --steps or --batch)", file=sys.stderr)
        return 2
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (f"snndsl {__import__('snndsl').__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}\nargv: {list(sys.argv[1:] if argv is None else argv)!r}\n\n"
            + "".join(traceback.format_exception(exc)))
    try:
        fd, path = tempfile.mkstemp(prefix=f"snndsl-internal-error-{stamp}-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        where = f"the traceback is in {path}"
    except OSError as err:
        where = f"the traceback could not be saved ({err.strerror or err})"
    what = visible(f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__)
    print(f"snndsl: internal error (a bug in snndsl, not in your model): {what[:200]}; {where}; please "
          f"report it to {REPORT_TO}", file=sys.stderr)
    return 3
