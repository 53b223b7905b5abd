"""The compiler as calls: text → parse → resolve → infer → checks → a checked :class:`snndsl.ir.Program`, and
that program → the emitted module's text (:func:`compile_source`)."""

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
    """A valid program and the warnings found on the way."""

    program: ir.Program
    warnings: tuple[Diagnostic, ...] = ()
    source: SourceFile | None = attrs.field(default=None, eq=False)


def check_source(source: SourceFile, read: Reader | None = None) -> Checked:
    """Check one source. Raises :class:`SnnError` with every error (and warning) found.

    Imported files are read with ``read`` (a path → its text; by default from disk): an editor passes one that
    returns the text of its open, perhaps unsaved, buffers."""
    program, found = resolve_source(source, read)
    program = infer(program)
    found = list(found) + checks.run(program)
    if any(d.severity == ERROR for d in found):
        raise SnnError(sorted(found, key=lambda d: (d.file, d.line, d.column, d.code)))
    return Checked(program, tuple(found), source)


def check_text(text: str, path: str = "<string>") -> Checked:
    """Check model text; imports are relative to the current directory."""
    return check_source(SourceFile(path, text))


def check_file(path: str | Path) -> Checked:
    """Check a ``.snn`` file; ``OSError``/``UnicodeDecodeError`` propagate (the CLI reports them)."""
    return check_source(SourceFile.read(path))


def compile_source(source: SourceFile) -> tuple[str, Checked]:
    """Check ``source`` and return the emitted module text (raises :class:`SnnError` when invalid)."""
    from snndsl.lower import emit_module

    checked = check_source(source)
    return emit_module(checked.program, source.path), checked
