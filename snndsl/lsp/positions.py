"""Positions and places: spans → LSP ranges and locations (columns in the negotiated code units, UTF-16 unless
the client asked for another), LSP positions → character offsets, and document URIs ↔ paths (the standard
library's ``<std>/NAME.snn`` included)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp

from snndsl.resolve import stdlib_path
from snndsl.source import SourceFile, Span


def to_range(span: Span, encoding: str = "utf-16") -> lsp.Range:
    """The LSP range of ``span`` (0-based; ``character`` in code units of ``encoding``)."""
    r = span.lsp_range(encoding)
    return lsp.Range(lsp.Position(**r["start"]), lsp.Position(**r["end"]))


def whole_start() -> lsp.Range:
    """The empty range at the start of a file: where a problem with the whole file is shown."""
    return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))


def offset_of(source: SourceFile, position: lsp.Position, encoding: str = "utf-16") -> int:
    """The character offset in ``source`` of an LSP ``position`` (clamped to the text)."""
    return source.offset_at(position.line, position.character, encoding)


def uri_to_path(uri: str) -> str | None:
    """The file path of a ``file:`` URI (percent-escapes decoded), or ``None`` for any other scheme (an
    editor's unsaved ``untitled:`` buffer)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and len(path) > 2 and path[0] == "/" and path[2] == ":":
        path = path[1:]
    return f"//{parsed.netloc}{path}" if parsed.netloc else path


def path_to_uri(path: str) -> str | None:
    """The ``file:`` URI of a source's path: the installed file for ``<std>/NAME.snn``, ``None`` for paths that
    are no file (``<string>``)."""
    if path.startswith("<"):
        path = stdlib_path(path) or ""
        if not path:
            return None
    return Path(os.path.abspath(path)).as_uri()


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (symlinks and ``..`` resolved)."""
    return os.path.realpath(a) == os.path.realpath(b)


def location(span: Span, encoding: str = "utf-16", uri: str | None = None) -> lsp.Location | None:
    """Where ``span`` is, as an LSP location (``uri`` given for the document being edited, whose path may be
    no file); ``None`` when its file has no URI."""
    uri = uri or path_to_uri(span.source.path)
    return None if uri is None else lsp.Location(uri, to_range(span, encoding))
