"""``snndsl fmt``: rewrite ``.snn`` files in the canonical style (:mod:`snndsl.syntax.format`), keeping
comments. A file is only written when its text changes, and then
atomically, with its permissions kept; a file with a syntax error is reported (exit 1) and left untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from snndsl.cli.common import read_error, report
from snndsl.diagnostics import SnnError
from snndsl.fileio import atomic_write


def _read(path: str) -> str:
    """The text of ``path`` with its line ends as written."""
    # as written ("\r\n", a byte-order mark kept), so such a file counts as changed (fmt writes "\n", no mark);
    # never blocks on a pipe or reads a device (snndsl.source.read_text)
    from snndsl.source import read_text
    return read_text(path)


def _write(path: str, text: str) -> None:
    """Replace ``path`` atomically, keeping its permission bits; a symlink is followed, not replaced."""
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777

    def write(f) -> None:
        os.fchmod(f.fileno(), mode)         # the temporary file is created 0600
        f.write(text.encode("utf-8"))

    atomic_write(target, write)


def cmd_fmt(args: argparse.Namespace) -> int:
    """``snndsl fmt FILE... [--check]``: rewrite each file in canonical form where it changes
    (``reformatted FILE`` on stderr), or with ``--check`` only list those that would change.

    Returns the worst status over the files: 1 for a syntax error (diagnostics on stderr, file untouched)
    or, with ``--check``, a file that would change; 2 for a file that cannot be read or written, or whose
    meaning or comments the formatter would have changed (a bug, :class:`~snndsl.syntax.format.FormatterError`,
    file untouched); else 0.
    """
    from snndsl.syntax.format import FormatterError, format_text   # not at import: `snndsl --help` needs no parser

    status = 0
    for path in args.files:
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            status = max(status, read_error(path, exc))
            continue
        try:
            formatted = format_text(text, path)
        except SnnError as err:
            status = max(status, report(err))
            continue
        except FormatterError as exc:
            print(f"snndsl: error: {exc}", file=sys.stderr)
            status = max(status, 2)
            continue
        if formatted == text:
            continue
        if args.check:
            print(path)
            status = max(status, 1)
            continue
        try:
            _write(path, formatted)
        except OSError as exc:
            print(f"snndsl: error: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            status = max(status, 2)
            continue
        print(f"reformatted {path}", file=sys.stderr)
    return status


def add_commands(sub) -> None:
    """Register ``fmt`` on the ``snndsl`` command's subparsers."""
    fmt = sub.add_parser("fmt", help="rewrite model files in the canonical style, keeping comments",
                         description="Rewrite .snn files in the canonical style (docs/tooling.md), in place and "
                         "only when they change. Exit 0 when done, 1 on a syntax error (that file is left "
                         "untouched) or, with --check, when a file would change; 2 when a file cannot be read "
                         "or written.")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; list the files that would change and exit 1 if there are any")
    fmt.set_defaults(run=cmd_fmt)
