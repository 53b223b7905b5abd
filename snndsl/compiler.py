"""The compiler as calls: text → parse → resolve → infer → checks → a checked :class:`snndsl.ir.Program`, and
that program → the emitted module's text (:func:`compile_source`).

Parsing stops at the first syntax error; after that every phase reports what it finds and goes on, so one
call returns (or raises) every problem of the file and its imports at once. Errors raise
:class:`~snndsl.diagnostics.SnnError`; warnings alone do not, and come back in :attr:`Checked.warnings`.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from snndsl import checks, ir
from snndsl.diagnostics import ERROR, Diagnostic, SnnError
from snndsl.ir.infer import infer
from snndsl.resolve import Reader, resolve_source
from snndsl.source import SourceFile


@attrs.frozen
class Checked:
    """A valid program and the warnings found on the way: ``program`` is the checked IR with inferred
    facts (:class:`snndsl.ir.Program`), ``warnings`` the diagnostics of severity warning, ``source`` the
    file checked."""

    program: ir.Program
    warnings: tuple[Diagnostic, ...] = ()
    source: SourceFile | None = attrs.field(default=None, eq=False)


def check_source(source: SourceFile, read: Reader | None = None) -> Checked:
    """Check one source: resolve it (and its imports), run the inference pass, then every check rule.

    Raises :class:`SnnError` with every error (and warning) found, sorted by file, line, column and code;
    resolution keeps going after an error, so one run reports every problem. Imports are read relative to
    the source's directory with ``read`` (a path → its text; by default from disk): an editor passes one that
    returns the text of its open, perhaps unsaved, buffers. An unreadable import is a diagnostic, not an
    ``OSError``.
    """
    program, found = resolve_source(source, read)
    program = infer(program)
    found = list(found) + checks.run(program)
    if any(d.severity == ERROR for d in found):
        raise SnnError(sorted(found, key=lambda d: (d.file, d.line, d.column, d.code)))
    return Checked(program, tuple(found), source)


def check_text(text: str, path: str = "<string>") -> Checked:
    """Check model text reported under ``path``; imports are relative to the current directory. Raises
    :class:`SnnError` as :func:`check_source` does."""
    return check_source(SourceFile(path, text))


def check_file(path: str | Path) -> Checked:
    """Check a ``.snn`` file (imports relative to it); raises :class:`SnnError` as :func:`check_source` does,
    and ``OSError``/``UnicodeDecodeError`` when the file itself cannot be read (the CLI reports them)."""
    return check_source(SourceFile.read(path))


def compile_source(source: SourceFile) -> tuple[str, Checked]:
    """Check ``source`` and return ``(module text, checked)``: the text of the emitted Python module
    (:func:`snndsl.lower.emit_module`; source comments name ``source.path``) and the :class:`Checked`
    program with its warnings. Raises :class:`SnnError` when the model does not check."""
    from snndsl.lower import emit_module

    checked = check_source(source)
    return emit_module(checked.program, source.path), checked
