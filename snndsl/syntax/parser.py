"""Parsing a ``.snn`` file: text → :class:`snndsl.syntax.ast.Module` (and, for the formatter, its comments).

The fast reader (:mod:`snndsl.syntax.fastparse`) reads every file it is certain of; otherwise Lark decides
(:mod:`snndsl.syntax.larkparse`, imported only then: Lark itself is about 0.1 s of start-up that ``check`` and
``fmt`` of a valid file do not pay). Parsing fails fast: the first syntax error raises
:class:`~snndsl.diagnostics.SnnError` (SNN1xx), always from Lark's reading, so every error is reported alike.
"""

from __future__ import annotations

import re

from snndsl.source import SourceFile
from snndsl.syntax import ast
from snndsl.syntax.ast import MAX_DEPTH, Comment  # noqa: F401  (part of this module's interface)
from snndsl.syntax.fastparse import parse_fast


def parse(source: SourceFile) -> ast.Module:
    """Parse one file into its syntax tree (comments dropped; spans point into ``source``).

    Raises :class:`SnnError` with a single diagnostic on the first problem: SNN101 (unexpected token),
    SNN102 (unexpected character), SNN103 (file ended early), SNN104 (a number that overflows a float),
    SNN105 (nesting deeper than :data:`MAX_DEPTH`) or SNN209 (a number other than 1 in a unit).
    """
    module = parse_fast(source, MAX_DEPTH)
    if module is not None:
        return module
    return parse_lark(source)


def parse_lark(source: SourceFile) -> ast.Module:
    """:func:`parse` by the Lark parser alone (the reference: :func:`parse` uses it whenever the fast reader of
    :mod:`snndsl.syntax.fastparse` is not certain, and for every syntax error)."""
    from snndsl.syntax.larkparse import parse_lark as by_lark

    return by_lark(source)


def parse_text(text: str, path: str = "<string>") -> ast.Module:
    """:func:`parse` of ``text``, reported under ``path``; raises :class:`SnnError` as :func:`parse` does."""
    return parse(SourceFile(path, text))


#: A string or a comment: in a file that parses, ``"`` outside a comment only opens a string (which has no
#: escapes and ends on its line) and ``#`` outside a string only opens a comment (to the end of the line).
_STRING_OR_COMMENT = re.compile(r'"[^"\n]*"|#[^\n]*')


def parse_with_comments(source: SourceFile) -> tuple[ast.Module, list[Comment]]:
    """:func:`parse`, and the file's comments in source order (for the formatter, which must keep them).

    Raises :class:`SnnError` exactly as :func:`parse` does. When the fast reader reads the file, the comments
    come from one scan of its text (:data:`_STRING_OR_COMMENT`), the same tokens Lark's lexer gives (tests
    compare them); otherwise from Lark's lexer. Thread-safe.
    """
    module = parse_fast(source, MAX_DEPTH)
    if module is None:
        from snndsl.syntax.larkparse import parse_with_comments_lark

        return parse_with_comments_lark(source)
    return module, scan_comments(source.text)


def scan_comments(text: str) -> list[Comment]:
    """The comments of ``text`` (a file that parses) in source order, as :class:`Comment`: the 1-based line
    and column of the ``#``, the text to the end of the line without trailing whitespace, and whether only
    whitespace precedes it on its line."""
    comments, line, line_start, seen = [], 1, 0, 0
    for m in _STRING_OR_COMMENT.finditer(text):
        start = m.start()
        if text[start] != "#":
            continue
        line += text.count("\n", seen, start)
        line_start, seen = text.rfind("\n", 0, start) + 1, start
        own_line = not text[line_start:start].strip()
        comments.append(Comment(line, start - line_start + 1, m.group().rstrip(), own_line))
    return comments
