"""The Lark side of parsing: text → Lark tree → :class:`snndsl.syntax.ast.Module`, with syntax errors rewritten in
the user's words, and the comments Lark's lexer sees (for the formatter).

:mod:`snndsl.syntax.parser` is the front door: it reads a file with the fast reader
(:mod:`snndsl.syntax.fastparse`) and imports this module (and Lark) only when that reader is not certain, which
includes every syntax error. The tree is built without recursion and its depth is bounded (SNN105), so no input
makes the front end overflow the stack.
"""

from __future__ import annotations

import math
import re
import threading
from functools import lru_cache
from typing import Any

import lark

from snndsl.syntax import ast
from snndsl.diagnostics import Diagnostic, SnnError
from snndsl.source import SourceFile, Span
from snndsl.syntax.ast import MAX_DEPTH, Comment
from snndsl.syntax.grammar import lalr, parser

# Terminal names as the user wrote them, for "expected ..." hints.
_LITERALS = {
    "LBRACE": "{", "RBRACE": "}", "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "COMMA": ",",
    "COLON": ":", "EQUAL": "=", "PLUS": "+", "MINUS": "-", "STAR": "*", "SLASH": "/", "CIRCUMFLEX": "^",
    "DOT": ".", "__ANON_0": "->", "NAME": "a name", "NUMBER": "a number", "QUANTITY": "a quantity",
    "INT": "an integer", "SIGNED_INT": "an integer", "STRING": 'a "string"', "DERIV": "dX/dt",
    "COMPARE": "a comparison (>=, >, <=, <)", "RESET_MODE": "`hard` or `soft`",
    "ASSIGN_OP": "`=`, `+=` or `-=`",
    "SCOPE": "`connection`, `pre` or `post`", "HANDLER": "`on_pre` or `on_post`", "TRAINABLE": "trainable", "$END": "end of file",
}


def parse_lark(source: SourceFile) -> ast.Module:
    """:func:`~snndsl.syntax.parser.parse` by the Lark parser alone (the reference: ``parse`` uses it whenever
    the fast reader of :mod:`snndsl.syntax.fastparse` is not certain, and for every syntax error)."""
    try:
        tree = parser().parse(source.text)
    except lark.exceptions.UnexpectedInput as exc:
        raise SnnError([_syntax_diagnostic(source, exc)]) from None
    return _ToAst(source).build(tree)


# The comments of the parse in progress, per thread; the lexer callback of _comment_parser() appends to it.
_comment_sink = threading.local()


def _collect_comment(tok: lark.Token) -> lark.Token:
    """The lexer callback: record a comment token for the parse in progress on this thread; returns it."""
    sink = getattr(_comment_sink, "tokens", None)
    if sink is not None:
        sink.append(tok)
    return tok


@lru_cache(maxsize=1)
def _comment_parser() -> lark.Lark:
    """The same parser as :func:`parser`, with a lexer callback that records the (still ignored) comments."""
    return lalr("comments", lexer_callbacks={"COMMENT": _collect_comment})


def parse_with_comments_lark(source: SourceFile) -> tuple[ast.Module, list[Comment]]:
    """:func:`parse_lark`, and the file's comments in source order, as Lark's lexer sees them.

    Raises :class:`SnnError` exactly as :func:`parse` does. Thread-safe: each thread collects its own
    comments.
    """
    _comment_sink.tokens = tokens = []
    try:
        try:
            tree = _comment_parser().parse(source.text)
        except lark.exceptions.UnexpectedInput as exc:
            raise SnnError([_syntax_diagnostic(source, exc)]) from None
    finally:
        _comment_sink.tokens = None
    module = _ToAst(source).build(tree)
    comments = []
    for tok in tokens:
        line_start = source.text.rfind("\n", 0, tok.start_pos) + 1
        own_line = not source.text[line_start:tok.start_pos].strip()
        comments.append(Comment(tok.line, tok.column, str(tok).rstrip(), own_line))
    return module, comments


def _expected(tokens) -> str | None:
    """``expected `:`, `=`, `}``` from Lark terminal names; keywords are dropped when the list is long."""
    names = sorted({_LITERALS.get(t, t.lower() if t.isupper() else t) for t in tokens})
    statement = False
    if len(names) > 8:
        statement = any(n.replace("_", "").isalpha() for n in names)
        names = [n for n in names if not n.replace("_", "").isalpha() and n != "dX/dt"]
    if not names or len(names) > 8:
        return None
    if statement:
        names = ["a statement"] + [n for n in names if n != "`}`" and n != "}"] + (["`}`"] if "}" in names else [])
    names = [n if n.startswith(("a ", "an ", "`", "end", "dX")) else f"`{n}`" for n in names]
    return "expected " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1])


def _syntax_diagnostic(source: SourceFile, exc: lark.exceptions.UnexpectedInput) -> Diagnostic:
    """Lark's error as a diagnostic in the user's words: SNN102 for a character no token starts with (with a
    hint for ``'``, ``;``, ``=``/``!``), SNN103 when the file ends early, SNN101 for an unexpected token, with
    what was expected (:func:`_expected`) or a hint for ``**``."""
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        start = exc.pos_in_stream
        ch = source.text[start]
        return Diagnostic("SNN102", f"unexpected character {ch!r}", source.span(start, start + 1),
                          _char_hint(ch))
    expected = set(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
    if isinstance(exc, lark.exceptions.UnexpectedEOF) or (
            isinstance(exc, lark.exceptions.UnexpectedToken) and exc.token.type == "$END"):
        end = len(source.text.rstrip())
        hint = "a closing `}` is missing" if "RBRACE" in expected else _expected(expected)
        return Diagnostic("SNN103", "file ended unexpectedly", source.span(max(0, end - 1), max(end, 1)), hint)
    tok = exc.token
    start = tok.start_pos if tok.start_pos is not None else 0
    end = tok.end_pos if tok.end_pos is not None else start + 1
    kind = {"NAME": "name ", "NUMBER": "number ", "QUANTITY": "quantity ", "STRING": "string "}.get(tok.type, "")
    hint = _expected(expected)
    if tok.type == "STAR" and source.text[start - 1:start] == "*":
        hint = "write powers as `x^2`, not `x**2`"
    return Diagnostic("SNN101", f"unexpected {kind}`{tok}`", source.span(start, max(end, start + 1)), hint)


def _char_hint(ch: str) -> str | None:
    """A hint for a character people type from other languages (``'``, ``;``, ``=``, ``!``), else ``None``."""
    if ch == "'":
        return 'strings use double quotes: "std"'
    if ch == ";":
        return "statements need no terminator: put each on its own line"
    if ch in "=!":
        return "spike conditions compare with >=, >, <= or <"
    return None


_QUANTITY = re.compile(r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[ \t]*(.*)", re.S)


class _ToAst:
    """One method per grammar rule, ``(meta, children) -> node``; each builds the AST class of the same
    (CamelCase) name. :meth:`build` applies them bottom-up without recursion, checking the depth on the way."""

    def __init__(self, source: SourceFile):
        self.source = source

    def build(self, tree: lark.Tree) -> ast.Module:
        """The AST of ``tree``: one pass down (the depth bound, SNN105) and one up (the nodes), no recursion."""
        order: list[lark.Tree] = []
        stack = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                meta = node.meta
                span = self._span(meta) if not meta.empty else None
                raise SnnError([Diagnostic("SNN105", f"expression nested more than {MAX_DEPTH} levels deep",
                                           span, "split it with `let` definitions (each operator of a chain such "
                                           "as `a + b + c` and each call counts as a level)")])
            order.append(node)
            stack.extend((c, depth + 1) for c in node.children if isinstance(c, lark.Tree))
        rules: dict[str, Any] = {}
        done: dict[int, Any] = {}
        Tree = lark.Tree
        for node in reversed(order):        # every node after its children
            fn = rules.get(node.data)
            if fn is None:
                fn = rules[node.data] = getattr(self, node.data)
            done[id(node)] = fn(node.meta, [done.pop(id(c)) if type(c) is Tree else c for c in node.children])
        return done[id(tree)]

    # ---- helpers
    def _span(self, meta) -> Span:
        """The span of a rule, from the line and column Lark computed (no search in the line table)."""
        if meta.empty:
            return self.source.span(0, 0)
        return Span(self.source, meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line,
                    meta.end_column)

    def _ident(self, tok: lark.Token, skip: int = 0, cut: int = 0) -> ast.Ident:
        """An identifier from a token, dropping ``skip`` leading and ``cut`` trailing characters
        (``dV/dt`` → ``V``)."""
        return ast.Ident(str(tok)[skip:len(tok) - cut],
                         span=Span(self.source, tok.start_pos + skip, tok.end_pos - cut, tok.line,
                                   tok.column + skip, tok.end_line, tok.end_column - cut))

    def _number(self, text: str, span: Span) -> str:
        """``text`` when it is a finite float; SNN104 for a number that overflows (``1e999``)."""
        if not math.isfinite(float(text)):
            raise SnnError([Diagnostic("SNN104", f"number {text} is too large to represent", span,
                                       "use a larger unit, e.g. `5 s` instead of `5e3 ms`")])
        return text

    # ---- files and imports
    def start(self, meta, items):
        return ast.Module(tuple(items), span=self._span(meta))

    def import_stmt(self, meta, ch):
        names, path = ch
        return ast.ImportStmt(str(path)[1:-1], tuple(names or ()), span=self._span(meta))

    def name_list(self, meta, toks):
        return tuple(self._ident(t) for t in toks)

    # ---- models
    def neuron_def(self, meta, ch):
        return ast.NeuronDef(self._ident(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def synapse_def(self, meta, ch):
        return ast.SynapseDef(self._ident(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def plasticity_def(self, meta, ch):
        return ast.PlasticityDef(self._ident(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def plastic_state(self, meta, ch):
        return ast.PlasticState(self._ident(ch[0]), ch[1], str(ch[2]), ch[3], span=self._span(meta))

    def handler(self, meta, ch):
        return ast.Handler(str(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def assign_stmt(self, meta, ch):
        return ast.AssignStmt(self._ident(ch[0]), str(ch[1]), ch[2], span=self._span(meta))

    def transmit_stmt(self, meta, ch):
        return ast.TransmitStmt(ch[0], span=self._span(meta))

    def param_decl(self, meta, ch):
        return ast.ParamDecl(self._ident(ch[0]), ch[1], ch[2], span=self._span(meta))

    def state_decl(self, meta, ch):
        return ast.StateDecl(self._ident(ch[0]), ch[1], ch[2], span=self._span(meta))

    def input_decl(self, meta, ch):
        return ast.InputDecl(self._ident(ch[0]), ch[1], span=self._span(meta))

    def let_decl(self, meta, ch):
        return ast.LetDecl(self._ident(ch[0]), ch[1], span=self._span(meta))

    def ode(self, meta, ch):
        return ast.Ode(self._ident(ch[0], skip=1, cut=3), ch[1], span=self._span(meta))

    def spike_stmt(self, meta, ch):
        return ast.SpikeStmt(ch[0], str(ch[1]), ch[2], ch[3], ch[4] is not None, span=self._span(meta))

    def reset_stmt(self, meta, ch):
        return ast.ResetStmt(str(ch[0]), self._ident(ch[1]), ch[2], span=self._span(meta))

    def on_spike(self, meta, ch):
        return ast.OnSpike(self._ident(ch[0]), str(ch[1]), ch[2], span=self._span(meta))

    def refractory_stmt(self, meta, ch):
        return ast.RefractoryStmt(ch[0], span=self._span(meta))

    def surrogate_stmt(self, meta, ch):
        call = ch[0]
        if isinstance(call, lark.Token):   # `surrogate arctan` means `surrogate arctan()`
            call = ast.Call(self._ident(call), (), span=self._span(meta))
        return ast.SurrogateStmt(call, span=self._span(meta))

    def method_stmt(self, meta, ch):
        return ast.MethodStmt(self._ident(ch[0]), span=self._span(meta))

    def output_stmt(self, meta, ch):
        return ast.OutputStmt(ch[0], span=self._span(meta))

    # ---- units
    def unit_name(self, meta, ch):
        return ast.UnitName(self._ident(ch[0]), span=self._span(meta))

    def unit_pow(self, meta, ch):
        return ast.UnitPow(self._ident(ch[0]), int(ch[1]), span=self._span(meta))

    def unit_one(self, meta, ch):
        """The integer in a unit: only ``1`` (as in ``1/ms``) is one; any other is SNN209."""
        span = self._span(meta)
        if str(ch[0]) != "1":
            raise SnnError([Diagnostic("SNN209", f"`{ch[0]}` is not a unit", span,
                                       "the only number allowed in a unit is 1, as in `1/ms`")])
        return ast.UnitOne(span=span)

    def unit_mul(self, meta, ch):
        return ast.UnitOp("*", ch[0], ch[1], span=self._span(meta))

    def unit_div(self, meta, ch):
        return ast.UnitOp("/", ch[0], ch[1], span=self._span(meta))

    # ---- networks
    def network_def(self, meta, ch):
        return ast.NetworkDef(self._ident(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def precision_stmt(self, meta, ch):
        return ast.PrecisionStmt(self._ident(ch[0]), span=self._span(meta))

    def dt_stmt(self, meta, ch):
        return ast.DtStmt(ch[0], span=self._span(meta))

    def duration_stmt(self, meta, ch):
        return ast.DurationStmt(ch[0], span=self._span(meta))

    def net_input(self, meta, ch):
        return ast.NetInput(self._ident(ch[0]), self._ident(ch[1]), ch[2], ch[3], ch[4], span=self._span(meta))

    def pop_decl(self, meta, ch):
        return ast.PopDecl(self._ident(ch[0]), ch[1], span=self._span(meta))

    def readout_decl(self, meta, ch):
        return ast.ReadoutDecl(self._ident(ch[0]), ch[1], span=self._span(meta))

    def connect_stmt(self, meta, ch):
        label = self._ident(ch[0]) if ch[0] is not None else None
        return ast.ConnectStmt(label, self._ident(ch[1]), self._ident(ch[2]), ch[3], tuple(ch[4:]),
                               span=self._span(meta))

    def net_output(self, meta, ch):
        return ast.NetOutput(ch[0], span=self._span(meta))

    # ---- training
    def train_def(self, meta, ch):
        return ast.TrainDef(self._ident(ch[0]), tuple(ch[1:]), span=self._span(meta))

    def setting(self, meta, ch):
        return ast.Setting(self._ident(ch[0]), ch[1], span=self._span(meta))

    # ---- expressions
    def _binop(op):
        def build(self, meta, ch):
            return ast.BinOp(op, ch[0], ch[1], span=self._span(meta))
        return build

    add, sub, mul, div, pow = _binop("+"), _binop("-"), _binop("*"), _binop("/"), _binop("^")
    del _binop

    def neg(self, meta, ch):
        return ast.Neg(ch[0], span=self._span(meta))

    def number(self, meta, ch):
        span = self._span(meta)
        return ast.Number(self._number(str(ch[0]), span), span=span)

    def quantity(self, meta, ch):
        """A QUANTITY token (``20 ms``, ``5Hz``, ``0.5 nS/mm^2``) split into its number and unit text."""
        span = self._span(meta)
        num, unit = _QUANTITY.fullmatch(str(ch[0])).groups()
        return ast.Quantity(self._number(num, span), unit, span=span)

    def string(self, meta, ch):
        return ast.String(str(ch[0])[1:-1], span=self._span(meta))

    def name(self, meta, ch):
        return ast.Name(self._ident(ch[0]), span=self._span(meta))

    def attribute(self, meta, ch):
        return ast.Attribute(self._ident(ch[0]), self._ident(ch[1]), span=self._span(meta))

    def call(self, meta, ch):
        return ast.Call(self._ident(ch[0]), tuple(a for a in ch[1:] if a is not None), span=self._span(meta))

    def array(self, meta, ch):
        """``[a, b, ...]``: the items in order."""
        return ast.Array(tuple(ch), span=self._span(meta))

    def arg(self, meta, ch):
        trainable, name, value = ch
        return ast.Arg(value, self._ident(name) if name is not None else None, trainable is not None,
                       span=self._span(meta))
