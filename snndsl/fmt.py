"""``snndsl fmt``: rewrite ``.snn`` files in the canonical style (:mod:`snndsl.printer`), keeping comments.

Every result is checked before it is used: it must parse to the same tree as the input and keep every comment
in order, and formatting it again must change nothing. A file is only written when its text changes, and then
atomically, with its permissions kept; a file with a syntax error is reported (exit 1) and left untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import printer
from .errors import SnnError
from .fileio import atomic_write
from .parse import parse_with_comments
from .source import SourceFile


class FormatterError(Exception):
    """The formatter would have changed the meaning of a file or lost a comment (a bug in snndsl)."""


def format_source(source: SourceFile, verify: bool = True) -> str:
    """The canonical text of ``source``. Raises :class:`SnnError` on a syntax error."""
    module, comments = parse_with_comments(source)
    text = printer.format_module(module, comments)
    if verify:
        again, again_comments = parse_with_comments(SourceFile(source.path, text))
        if again != module:
            raise FormatterError(f"{source.path}: formatting would change the model (please report this bug)")
        if [c.text for c in again_comments] != [c.text for c in comments]:
            raise FormatterError(f"{source.path}: formatting would lose or reorder a comment "
                                 "(please report this bug)")
        if printer.format_module(again, again_comments) != text:
            raise FormatterError(f"{source.path}: formatting is not stable (please report this bug)")
    return text


def format_text(text: str, path: str = "<string>") -> str:
    """The canonical text of ``text`` (a whole ``.snn`` file). Raises :class:`SnnError` on a syntax error."""
    return format_source(SourceFile(str(path), text))


def _read(path: str) -> str:
    # newline="": keep "\r\n" as written, so a file with Windows line ends counts as changed (fmt writes "\n").
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _write(path: str, text: str) -> None:
    """Replace ``path`` atomically, keeping its permission bits; a symlink is followed, not replaced."""
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777

    def write(f) -> None:
        os.fchmod(f.fileno(), mode)         # the temporary file is created 0600
        f.write(text.encode("utf-8"))

    atomic_write(target, write)


def cmd_fmt(args: argparse.Namespace) -> int:
    from .cli import _read_error, _report

    status = 0
    for path in args.files:
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            status = max(status, _read_error(path, exc))
            continue
        try:
            formatted = format_text(text, path)
        except SnnError as err:
            status = max(status, _report(err))
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
