"""The grammar (``grammars/snn.lark``, the language spec) and the LALR parser built from it, once per process."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark


def grammar_text() -> str:
    """The text of the grammar: shipped inside the package (wheel) or, in a source checkout, at
    grammars/snn.lark. Raises ``OSError`` (``FileNotFoundError``) when neither exists."""
    packaged = resources.files("snndsl").joinpath("grammars/snn.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammars" / "snn.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def parser() -> lark.Lark:
    """The LALR(1) parser (contextual lexer, positions propagated, ``[...]`` placeholders kept as ``None``),
    built once per process and cached; comments are ignored (see :func:`snndsl.syntax.parser.parse_with_comments`
    for the variant that records them)."""
    return lark.Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                     maybe_placeholders=True)
