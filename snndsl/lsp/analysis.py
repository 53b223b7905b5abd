"""One document through the front end: ``snndsl check``'s diagnostics as LSP diagnostics, and what the
document sees (its tree and the models visible in it) for hover, definition and completion.

The document's own problems keep ``snndsl check``'s codes, messages and ranges (the hint, which ``check``
prints on a line of its own, follows the message on a line of its own). A problem located in an imported
file is reported for that file, and summed up on the ``import`` statement that brings the file in, with
links to each place.
"""

from __future__ import annotations

import os
import time

import attrs
from lsprotocol import types as lsp

from snndsl.compiler import check_source
from snndsl.diagnostics import ERROR, Diagnostic, SnnError
from snndsl.lsp.positions import location, to_range, whole_start
from snndsl.resolve import FileView, Reader, file_key, view_source
from snndsl.source import SourceFile

SOURCE = "snndsl"


def to_lsp(d: Diagnostic, encoding: str = "utf-16") -> lsp.Diagnostic:
    """``d`` as an LSP diagnostic: its code, its message (and hint), its span's range (the file's start when it
    has none)."""
    message = d.message if not d.hint else f"{d.message}\nhint: {d.hint}"
    return lsp.Diagnostic(
        range=to_range(d.span, encoding) if d.span is not None else whole_start(),
        message=message, code=d.code, source=SOURCE,
        severity=lsp.DiagnosticSeverity.Error if d.severity == ERROR else lsp.DiagnosticSeverity.Warning)


@attrs.frozen
class Analysis:
    """The front end's verdict on one version of a document.

    ``own``: diagnostics located in the document (with the summaries on its imports); ``elsewhere``: the
    diagnostics located in other files, by the path they are reported under; ``view``: what the document sees
    (``None`` when it does not parse); ``files``: every file its imports load (by :func:`file_key`);
    ``seconds``: how long the front end took.
    """

    source: SourceFile
    own: tuple[lsp.Diagnostic, ...]
    elsewhere: dict[str, tuple[lsp.Diagnostic, ...]]
    view: FileView | None
    files: frozenset[str]
    seconds: float


def analyse(source: SourceFile, read: Reader | None = None, encoding: str = "utf-16") -> Analysis:
    """Check ``source`` as ``snndsl check`` does (imported files read with ``read``) and view it for the
    editor features."""
    start = time.perf_counter()
    try:
        found = check_source(source, read).warnings
    except SnnError as err:
        found = err.diagnostics
    try:
        view = view_source(source, read)
    except SnnError:
        view = None
    own: list[lsp.Diagnostic] = []
    elsewhere: dict[str, list[lsp.Diagnostic]] = {}
    foreign: list[Diagnostic] = []
    for d in found:
        if d.span is None or d.span.source is source:
            own.append(to_lsp(d, encoding))
        else:
            elsewhere.setdefault(d.span.source.path, []).append(to_lsp(d, encoding))
            foreign.append(d)
    if view is not None and foreign:
        own.extend(_import_summaries(source, view, foreign, encoding))
    return Analysis(source, tuple(own), {k: tuple(v) for k, v in elsewhere.items()}, view,
                    view.files if view is not None else frozenset(), time.perf_counter() - start)


def _import_summaries(source: SourceFile, view: FileView, foreign: list[Diagnostic],
                      encoding: str) -> list[lsp.Diagnostic]:
    """One diagnostic on each import that brings in a file with problems: the first problem, how many there
    are, and a link to each."""
    out = []
    for stmt, keys in view.imports:
        mine = [d for d in foreign if file_key(d.span.source) in keys]
        if not mine:
            continue
        first = mine[0]
        where = _shown(first, source)
        more = f" (and {len(mine) - 1} more problem{'s' if len(mine) > 2 else ''})" if len(mine) > 1 else ""
        related = [lsp.DiagnosticRelatedInformation(loc, f"{d.severity}[{d.code}]: {d.message}")
                   for d in mine if (loc := location(d.span, encoding)) is not None]
        severity = ERROR if any(d.severity == ERROR for d in mine) else first.severity
        out.append(lsp.Diagnostic(
            range=to_range(stmt.span, encoding), code=first.code, source=SOURCE, related_information=related or None,
            message=f"in imported file {where}: {first.severity}[{first.code}]: {first.message}{more}",
            severity=lsp.DiagnosticSeverity.Error if severity == ERROR else lsp.DiagnosticSeverity.Warning))
    return out


def _shown(d: Diagnostic, importer: SourceFile) -> str:
    """``FILE:LINE:COL`` of ``d``, the file relative to the importing file's folder where that is shorter."""
    path = d.file
    if not path.startswith("<") and not importer.path.startswith("<"):
        try:
            rel = os.path.relpath(path, os.path.dirname(os.path.abspath(importer.path)))
            path = rel if len(rel) < len(path) else path
        except ValueError:
            pass
    return f"{path}:{d.line}:{d.column}"
