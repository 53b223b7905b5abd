"""The grammar (``grammars/snn.lark``, the language spec) and the LALR parser built from it, once per process."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import lark


def grammar_text() -> str:
    """The grammar: shipped inside the package (wheel) or, in a source checkout, at grammars/snn.lark."""
    packaged = resources.files("snndsl").joinpath("grammars/snn.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammars" / "snn.lark").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def parser() -> lark.Lark:
    """The LALR parser, built once per process."""
    return lark.Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                     maybe_placeholders=True)
