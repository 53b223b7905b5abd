"""Canonical formatting of ``.snn`` text (:mod:`snndsl.syntax.printer`), verified before it is used.

Every result must parse to the same tree as the input and keep every comment in order, and formatting it
again must change nothing; otherwise :class:`FormatterError` (a bug in snndsl) is raised.
"""

from __future__ import annotations

from snndsl.source import SourceFile
from snndsl.syntax import printer
from snndsl.syntax.parser import parse_with_comments


class FormatterError(Exception):
    """The formatter would have changed the meaning of a file or lost a comment (a bug in snndsl)."""


def format_source(source: SourceFile, verify: bool = True) -> str:
    """The canonical text of ``source`` (:func:`snndsl.syntax.printer.format_module`), comments kept.

    Raises :class:`SnnError` on a syntax error. With ``verify`` (the default) the result is re-parsed and must
    give an equal tree, the same comments in the same order, and the same text when formatted again;
    otherwise :class:`FormatterError` is raised. ``verify=False`` skips that (tests of the printer alone).
    """
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
    """The canonical text of ``text`` (a whole ``.snn`` file), verified as :func:`format_source` does.

    ``path`` only names the file in diagnostics. Raises :class:`SnnError` on a syntax error and
    :class:`FormatterError` if verification fails.
    """
    return format_source(SourceFile(str(path), text))
