"""Render built syntax trees, with comments, through the canonical printer (``snndsl fmt``'s).

:func:`snndsl.syntax.printer.format_module` places comments by the source positions of the statements and
items, and keeps a blank line where the source had one. A tree built in memory has no source, so
:func:`render` lays one out: every item and statement gets a line of its own, a comment meant to stand above
something gets a line before it, a note gets the end of its statement's line, and a blank line follows the
file's header comments. The printer does the rest, so the text is canonical by construction (``snndsl fmt
--check`` passes on it).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import attrs

from snndsl.nir.astbuild import NOWHERE, ident
from snndsl.source import SourceFile, Span
from snndsl.syntax import ast, printer
from snndsl.syntax.parser import Comment

_INDENT = 4          # the column of a statement's first character, less one
_CODE = " " * _INDENT + "xx"


@attrs.frozen
class Item:
    """A top-level item to print: ``above`` comment lines stand before it, ``notes[i]`` ends body statement
    ``i``'s line (comment texts start with ``#``)."""

    node: ast.Item
    above: tuple[str, ...] = ()
    notes: dict[int, str] = attrs.field(factory=dict)


def block(kind: type, name: str, body: Iterable, above: Sequence[str] = ()) -> Item:
    """An :class:`Item` for a ``neuron``/``synapse``/``network`` block (``kind`` is its ast class); ``body``
    holds statements, or ``(statement, note)`` pairs where a note (``None`` for none) ends the line."""
    stmts, notes = [], {}
    for entry in body:
        stmt, note = entry if isinstance(entry, tuple) else (entry, None)
        if note:
            notes[len(stmts)] = note
        stmts.append(stmt)
    return Item(kind(ident(name), tuple(stmts), span=NOWHERE), tuple(above), notes)


@attrs.define
class _Sheet:
    """The synthetic source being laid out: one text per line, the comments, and each node's line."""

    rows: list[str] = attrs.Factory(list)
    comments: list[Comment] = attrs.Factory(list)

    def line(self, text: str = _CODE) -> int:
        self.rows.append(text)
        return len(self.rows)

    def comment(self, text: str) -> None:
        self.comments.append(Comment(self.line(text), 1, text, True))

    def note(self, line: int, text: str) -> None:
        self.comments.append(Comment(line, len(_CODE) + 2, text, False))


def _body(item: ast.Item) -> tuple:
    """The statements of a block item (a train block's settings); empty for an import."""
    return item.settings if isinstance(item, ast.TrainDef) else getattr(item, "body", ())


def _place(sheet: _Sheet, items: Sequence[Item]) -> list[tuple[int, list[int], int]]:
    """Give every item its lines: ``(header line, statement lines, closing line)`` per item.

    Lines are taken in order on ``sheet``: the item's comments above it, its header, one line per statement
    (with the item's note for that statement, if any, after it) and the closing brace; an import is one
    line, header and end at once.
    """
    where = []
    for item in items:
        for text in item.above:
            sheet.comment(text)
        head = sheet.line()
        if isinstance(item.node, ast.ImportStmt):
            where.append((head, [], head))
            continue
        lines = []
        for i, _ in enumerate(_body(item.node)):
            lines.append(sheet.line())
            if i in item.notes:
                sheet.note(lines[-1], item.notes[i])
        where.append((head, lines, sheet.line("}")))
    return where


def _on(source: SourceFile, offsets: list[int], line: int, first: int, last: int) -> Span:
    """The span of columns ``first`` to ``last`` (0-based, end excluded) of 1-based ``line``."""
    return source.span(offsets[line - 1] + first, offsets[line - 1] + last)


def _spanned(item: ast.Item, source: SourceFile, offsets: list[int], head: int, lines: list[int],
             close: int) -> ast.Item:
    """``item`` with spans at its planned lines: the header at ``head``, each statement at its line in
    ``lines``, the closing brace at ``close`` (so the printer places comments there)."""
    at = lambda line, a=_INDENT, b=len(_CODE): _on(source, offsets, line, a, b)   # noqa: E731
    whole = source.span(offsets[head - 1], offsets[close - 1] + 1)
    if isinstance(item, ast.ImportStmt):
        return attrs.evolve(item, span=at(head, 0))
    body = tuple(attrs.evolve(s, span=at(n)) for s, n in zip(_body(item), lines))
    name = item.network if isinstance(item, ast.TrainDef) else item.name
    name = attrs.evolve(name, span=at(head, 0, 1))
    if isinstance(item, ast.TrainDef):
        return attrs.evolve(item, network=name, settings=body, span=whole)
    return attrs.evolve(item, name=name, body=body, span=whole)


def render(items: Sequence[Item], header: Sequence[str] = ()) -> str:
    """The canonical text of a file made of ``items``, after the ``header`` comment lines and a blank line."""
    sheet = _Sheet()
    for text in header:
        sheet.comment(text)
    if header:
        sheet.line("")
    where = _place(sheet, items)
    source = SourceFile("<nir import>", "\n".join(sheet.rows) + "\n")
    offsets = [0]
    for row in sheet.rows:
        offsets.append(offsets[-1] + len(row) + 1)
    nodes = tuple(_spanned(it.node, source, offsets, *w) for it, w in zip(items, where))
    module = ast.Module(nodes, span=source.span(0, len(source.text)))
    return printer.format_module(module, sheet.comments)
