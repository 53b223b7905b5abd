"""Source text and spans: where every piece of a model came from.

A :class:`Span` is a half-open character range ``[start, end)`` in one :class:`SourceFile`, with the 1-based
line and column of both ends. Every AST and IR node carries one, and every diagnostic points at one.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import attrs


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

    Compared by identity: two loads of the same path are two sources.
    """

    path: str
    text: str
    _starts: tuple[int, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        object.__setattr__(self, "_starts", tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> "SourceFile":
        """Read ``path`` as UTF-8; ``OSError`` and ``UnicodeDecodeError`` propagate to the caller."""
        p = Path(path)
        return cls(str(path), p.read_text(encoding="utf-8"))

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


@attrs.frozen(eq=False, repr=False)
class Span:
    """Characters ``[start, end)`` of ``source``; ``line``/``column`` are 1-based, ``end_*`` is exclusive.

    Spans never take part in node equality (``eq=False`` on the field in every node class), so two models
    that differ only in layout compare equal.
    """

    source: SourceFile
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

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

    def excerpt(self) -> str:
        """The first covered line and a caret line under the culprit (``^`` then ``~`` to its end).

        A span running past its first line is underlined to the end of that line; tabs before the caret are
        kept so the caret lines up in a terminal. At least one ``^`` is always drawn.
        """
        text = self.source.line_text(self.line)
        width = (self.end_column if self.end_line == self.line else len(text) + 1) - self.column
        width = max(1, width)
        pad = "".join("\t" if c == "\t" else " " for c in text[: self.column - 1])
        return f"{text}\n{pad}^{'~' * (width - 1)}"
