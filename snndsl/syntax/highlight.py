"""Syntax highlighting for ``.snn`` files: a Pygments lexer.

Registered under the ``pygments.lexers`` entry point (``pyproject.toml``), so once snndsl is installed
``pygmentize -l snn model.snn`` works, and so do Markdown/Sphinx code blocks tagged ``snn``.
editors/snn.tmLanguage.json is the same highlighting for editors (VS Code, Sublime Text); keep the two in step.

A regular-expression lexer cannot know the parser's state, so a few choices are heuristics: ``dt`` is a
keyword only when ``=`` follows it (``dt = 1 ms``); ``dX/dt`` is a derivative only when ``=`` follows it; a call
``f(`` is a builtin when ``f`` is a registry name or a math function; a unit in type position is recognised
after ``param x:``, ``state x:``, ``input x:`` and after the ``]`` of a network input.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, default, include, words
from pygments.token import (Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace)

from snndsl.registry import REGISTRIES

__all__ = ["SnnLexer"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUM = r"(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
# grammars/snn.lark's QUANTITY, with the number, the gap and the unit as three groups.
_QUANTITY = (rf"({_NUM})(?![eE][+-]?\d|[\d.])([ \t]*)"
             r"((?!(?:trainable|scale|from|when|hard|soft)(?![A-Za-z_0-9]))"
             r"[A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?(?:[*/][A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?)*)"
             r"(?![A-Za-z_0-9(.^])(?![ \t]*=(?!=))")

_BUILTINS = sorted({name for reg in REGISTRIES.values() for name in reg.names()})

_STATEMENT_KEYWORDS = ("param", "state", "input", "let", "spike", "when", "scale", "crossing", "reset", "on_spike",
                       "refractory", "surrogate", "method", "output", "pop", "readout", "connect", "trainable",
                       "precision", "per", "on_pre", "on_post", "transmit", "duration")

#: Token types of each construct (docs/tooling.md lists them).
UNIT = Keyword.Type
DERIVATIVE = Name.Variable.Magic


class SnnLexer(RegexLexer):
    """Pygments lexer for snndsl ``.snn`` model files."""

    name = "snndsl"
    aliases = ["snn", "snndsl", "snn-fragment"]   # snn-fragment: excerpts in the docs
    filenames = ["*.snn"]
    mimetypes = ["text/x-snn"]

    tokens = {
        "root": [
            include("space"),
            (rf"\b(neuron|synapse|plasticity|network|train)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace,
                                                                          Name.Class)),
            (r"\b(import|from)\b", Keyword.Namespace),
            (r"\b(hard|soft|true|false)\b", Keyword.Constant),
            # declarations: the declared name, then (after a colon) a unit in type position
            (rf"\b(param|state|input)(\s+)({_NAME})(\s*)(:)", bygroups(Keyword, Whitespace, Name.Variable,
                                                                       Whitespace, Punctuation), "unit"),
            (rf"\b(param|state|let|pop|readout)(\s+)({_NAME})", bygroups(Keyword, Whitespace, Name.Variable)),
            (rf"\b(connect)(\s+)({_NAME})(\s*)(:)", bygroups(Keyword, Whitespace, Name.Label, Whitespace,
                                                             Punctuation)),
            (words(_STATEMENT_KEYWORDS, prefix=r"\b", suffix=r"\b"), Keyword),
            (r"\bdt\b(?=\s*=(?!=))", Keyword),
            (rf"d{_NAME}/dt(?![A-Za-z_0-9])(?=\s*=(?!=))", DERIVATIVE),
            include("expr"),
        ],
        "space": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
        ],
        "expr": [
            (_QUANTITY, bygroups(Number, Whitespace, UNIT)),
            (r"(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r'"[^"\n]*"', String.Double),
            (words(_BUILTINS, prefix=r"\b", suffix=r"(\s*)(?=\()"), bygroups(Name.Builtin, Whitespace)),
            (rf"({_NAME})(\s*)(?=\()", bygroups(Name.Function, Whitespace)),
            (_NAME, Name),
            (r"->|>=|<=|\+=|-=|[-+*/^=<>]", Operator),
            (r"[()\[\]{},:.]", Punctuation),
        ],
        # A unit in type position (`mV`, `1/ms`, `nS/mm^2`, `(mV)`); ends at anything else (`=`, newline, `}`).
        "unit": [
            (r"[ \t]+", Whitespace),
            (rf"({_NAME})(\s*)(\[)", bygroups(Name.Builtin, Whitespace, Punctuation), ("#pop", "size")),
            (rf"({_NAME})(\^)(-?\d+)", bygroups(UNIT, Operator, Number.Integer)),
            (_NAME, UNIT),
            (r"\d+", Number.Integer),
            (r"[*/^]", Operator),
            (r"[()]", Punctuation),
            default("#pop"),
        ],
        # The size of a network input, `spikes[100]`; the unit that may follow `]` is in type position.
        "size": [
            (r"\]", Punctuation, ("#pop", "unit")),
            include("space"),
            include("expr"),
        ],
    }
