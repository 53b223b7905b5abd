"""Source text and spans: where every piece of a model came from.

A :class:`Span` is a half-open character range ``[start, end)`` in one :class:`SourceFile`, with the 1-based
line and column of both ends. Every AST and IR node carries one, and every diagnostic points at one.
"""

from __future__ import annotations

import bisect
import errno
import os
import re
import stat
from pathlib import Path

import attrs

#: The largest model file snndsl reads, in bytes (8 MiB); a larger file or import is refused before it is
#: read (``snndsl check`` of a 5 MB file takes a few seconds).
MAX_SOURCE_BYTES = 8 * 1024 * 1024


class UnreadableSource(OSError):
    """A path that is not a regular file (a directory, device or named pipe), or a file larger than
    :data:`MAX_SOURCE_BYTES`: refused without reading it (``strerror`` says which)."""


def read_text(path: str | Path) -> str:
    """The UTF-8 text of the regular file ``path``, read without blocking on a named pipe or device.

    Raises :class:`UnreadableSource` for anything but a regular file of at most :data:`MAX_SOURCE_BYTES`,
    and ``OSError`` / ``UnicodeDecodeError`` as reading and decoding do.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))   # opening a pipe must not wait for a writer
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise UnreadableSource(errno.EINVAL, f"not a regular file ({kind})")
        too_big = UnreadableSource(errno.EFBIG, f"larger than the {MAX_SOURCE_BYTES // 2 ** 20} MiB limit for "
                                                "model files")
        if info.st_size > MAX_SOURCE_BYTES:
            raise too_big
        with os.fdopen(fd, "rb") as f:
            fd = -1
            data = f.read(MAX_SOURCE_BYTES + 1)     # the size may have been wrong (a growing file, /proc)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_SOURCE_BYTES:
        raise too_big
    return data.decode("utf-8")


def normalize(text: str) -> str:
    """Model text as every tool reads it: a leading byte-order mark dropped, ``\\r\\n`` and a lone ``\\r``
    read as ``\\n`` (so line numbers agree with editors, whatever the line ends)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def code_units(text: str, encoding: str = "utf-16") -> int:
    """How many code units ``text`` takes in ``encoding`` (``utf-16``, ``utf-8`` or ``utf-32``): the unit LSP
    positions count columns in."""
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


@attrs.frozen(eq=False)
class SourceFile:
    """The text of one ``.snn`` file and the name it is reported under.

    Compared by identity: two loads of the same path are two sources. The text is normalized (:func:`normalize`).
    """

    path: str
    text: str = attrs.field(converter=normalize)
    _starts: tuple[int, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        object.__setattr__(self, "_starts", tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> "SourceFile":
        """Read ``path`` with :func:`read_text`; ``OSError`` (:class:`UnreadableSource` for a path that is not a
        regular file, or too large) and ``UnicodeDecodeError`` propagate to the caller."""
        return cls(str(path), read_text(path))

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline (empty past the end)."""
        if not 0 < line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self._starts[line] - 1 if line < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based ``(line, column)`` of character ``offset`` (clamped to ``[0, len(text)]``); the column
        counts characters, so a tab is one column."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1

    def lsp_position(self, offset: int, encoding: str = "utf-16") -> dict:
        """The 0-based Language Server Protocol position of character ``offset``: ``{"line", "character"}``,
        where ``character`` counts code units of ``encoding`` (``utf-16``, the protocol's default, counts a
        character outside the Basic Multilingual Plane as two; ``utf-8`` counts bytes; ``utf-32`` characters).
        """
        line, column = self.position(offset)
        start = self._starts[line - 1]
        return {"line": line - 1, "character": code_units(self.text[start:start + column - 1], encoding)}

    def offset_at(self, line: int, character: int, encoding: str = "utf-16") -> int:
        """The character offset of the 0-based LSP position ``(line, character)`` (``character`` in code units of
        ``encoding``); positions past the end of a line or of the file are clamped to it, and one inside a
        character (half of a UTF-16 surrogate pair) is moved to that character's start."""
        if line < 0:
            return 0
        if line >= len(self._starts):
            return len(self.text)
        start = self._starts[line]
        end = len(self.text) if line + 1 >= len(self._starts) else self._starts[line + 1] - 1
        units = 0
        for i in range(start, end):
            units += code_units(self.text[i], encoding)
            if units > character:
                return i
        return end

    def span(self, start: int, end: int) -> "Span":
        """The span of characters ``[start, end)``, with the line and column of both ends filled in."""
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(self, start, end, line, col, end_line, end_col)


class Span:
    """Characters ``[start, end)`` of ``source``; ``line``/``column`` are 1-based, ``end_*`` is exclusive.

    Immutable by convention (a plain slotted class, not an attrs class: the parser makes one per node, and
    this is three times cheaper to build). Compared by identity, and spans never take part in node equality
    (``eq=False`` on the field in every node class), so two models that differ only in layout compare equal.
    """

    __slots__ = ("source", "start", "end", "line", "column", "end_line", "end_column")

    def __init__(self, source: SourceFile, start: int, end: int, line: int, column: int, end_line: int,
                 end_column: int):
        self.source, self.start, self.end = source, start, end
        self.line, self.column, self.end_line, self.end_column = line, column, end_line, end_column

    def __repr__(self) -> str:
        return f"<{self.source.path}:{self.line}:{self.column}>"

    @property
    def text(self) -> str:
        """The covered source text."""
        return self.source.text[self.start:self.end]

    def to(self, other: "Span") -> "Span":
        """The smallest span covering ``self`` and ``other``; ``other`` must be in the same source (not
        checked: its offsets are taken as offsets into ``self.source``)."""
        return self.source.span(min(self.start, other.start), max(self.end, other.end))

    def lsp_range(self, encoding: str = "utf-16") -> dict:
        """The span as a 0-based Language Server Protocol range: ``{"start": {"line", "character"},
        "end": {...}}`` with ``end`` exclusive and characters counted in code units of ``encoding`` (UTF-16 by
        default, as the protocol requires; see :meth:`SourceFile.lsp_position`)."""
        return {"start": self.source.lsp_position(self.start, encoding),
                "end": self.source.lsp_position(self.end, encoding)}

    def _utf16(self, line: int, column: int) -> int:
        prefix = self.source.line_text(line)[:column - 1]
        return column - 1 + sum(1 for c in prefix if ord(c) > 0xFFFF)

    def excerpt(self) -> str:
        """The first covered line and a caret line under the culprit (``^`` then ``~`` to its end).

        A span running past its first line is underlined to the end of that line; tabs before the caret are
        kept so the caret lines up in a terminal. At least one ``^`` is always drawn. Characters a terminal
        would act on (escape sequences, control and bidirectional-override characters) are shown escaped
        (:func:`visible`), and a line longer than :data:`EXCERPT_WIDTH` is clipped around the caret, with
        ``...`` where it was cut.
        """
        text = self.source.line_text(self.line)
        start = self.column - 1
        end = max(start + 1, self.end_column - 1 if self.end_line == self.line else len(text))
        lo, hi = 0, len(text)
        if len(text) > EXCERPT_WIDTH:
            lo = max(0, min(start - EXCERPT_WIDTH // 3, len(text) - EXCERPT_WIDTH))
            hi = min(len(text), lo + EXCERPT_WIDTH)
        head, tail = ("..." if lo > 0 else ""), ("..." if hi < len(text) else "")
        shown = head + visible(text[lo:hi]) + tail
        pad = " " * len(head) + "".join("\t" if c == "\t" else " " * len(visible(c)) for c in text[lo:start])
        width = max(1, len(visible(text[start:min(end, hi)])))
        return f"{shown}\n{pad}^{'~' * (width - 1)}"


#: The widest source line a diagnostic shows; longer lines are clipped around the caret.
EXCERPT_WIDTH = 160


def visible(text: str) -> str:
    """``text`` safe to print on a terminal: every character that is not printable (control characters, the
    escape that starts terminal sequences, line and paragraph separators, bidirectional overrides) is
    written as its Python escape (``\\x1b``, ``\\u202e``); tabs are kept."""
    if text.isprintable():
        return text
    return "".join(c if c == "\t" or c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
