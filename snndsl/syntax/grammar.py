"""The grammar (``grammars/snn.lark``, the language spec) and the LALR parser built from it, once per process.

Building the parser (Lark's grammar analysis) takes about 0.15 s of CPU, a good part of a short command such as
``snndsl fmt``; :func:`lalr` keeps the analysis on disk, in the user's cache folder, and later processes load it
(about 0.01 s).
"""

from __future__ import annotations

import hashlib
import os
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
    built once per process and cached; comments are ignored (see :func:`snndsl.syntax.larkparse.parse_with_comments_lark`
    for the variant that records them)."""
    return lalr("plain")


def lalr(variant: str, **options) -> lark.Lark:
    """``lark.Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
    **options)``, its analysis cached in ``$XDG_CACHE_HOME/snndsl/lark-VARIANT-HASH.cache`` (``~/.cache`` when
    unset; ``HASH`` from the grammar text and Lark's version, and Lark checks its own hash of grammar, options and
    version on loading, so a stale file is rebuilt). ``variant`` names the set of ``options`` (callbacks are not
    part of Lark's hash). Without a writable cache folder, or with ``SNNDSL_NO_COMPILE_CACHE`` set, it is built
    in memory as usual."""
    text = grammar_text()
    cache: str | bool = False
    if os.environ.get("SNNDSL_NO_COMPILE_CACHE", "") in ("", "0"):
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "snndsl"
        digest = hashlib.sha256((text + lark.__version__).encode("utf-8")).hexdigest()[:16]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            cache = str(folder / f"lark-{variant}-{digest}.cache")
        except OSError:
            cache = False
    return lark.Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
                     cache=cache, **options)
