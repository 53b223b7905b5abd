"""Tokens, expressions and units for :mod:`snndsl.syntax.fastparse`, read as Lark reads them.

:class:`ExprReader` reads with the grammar's own terminal patterns (:data:`PATTERNS`, which tests compare
with Lark's) at the place the grammar expects each, and returns, for every expression and unit, the node, its
start and end marks (offset, line, column; a parenthesis or unary ``+`` widens them, as Lark's container
positions do) and the height Lark's tree would have there (for the depth limit). Anything unexpected raises
:class:`Fail`: the caller then lets Lark parse.
"""

from __future__ import annotations

import math
import re

from snndsl.syntax import ast as A
from snndsl.source import SourceFile, Span

#: The grammar's terminals (tests check they equal Lark's).
PATTERNS = {
    "QUANTITY": r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)(?![eE][+-]?\d|[\d.])[ \t]*(?!(?:trainable|scale"
                r"|from|when|hard|soft|param|state|input|let|spike|reset|on_spike|refractory|surrogate|method|"
                r"output|dt|pop|readout|connect|import|neuron|synapse|network|train|plasticity|per|transmit|on_pre|on_post|duration)"
                r"(?![A-Za-z_0-9]))"
                r"[A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?(?:[*\/][A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?)*"
                r"(?![A-Za-z_0-9(.^])(?![ \t]*=(?!=))",
    "NUMBER": r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)",
    "INT": r"\d+", "SIGNED_INT": r"-?\d+", "NAME": r"[A-Za-z_][A-Za-z_0-9]*", "STRING": '"[^"\n]*"',
    "DERIV": r"d[A-Za-z_][A-Za-z_0-9]*\/dt(?![A-Za-z_0-9])", "COMPARE": "(?:>=|<=|>|<)",
    "ASSIGN_OP": r"(?:\+=|\-=|=)",
}
_IGNORE = re.compile(r"(?:[ \t\f\r\n]+|#[^\n]*)*")
_BLANK = frozenset(" \t\f\r\n#")
RE_QUANTITY, RE_NUMBER, RE_INT, RE_SIGNED_INT, RE_NAME, RE_STRING, RE_DERIV, RE_COMPARE, RE_ASSIGN = (
    re.compile(PATTERNS[k]) for k in ("QUANTITY", "NUMBER", "INT", "SIGNED_INT", "NAME", "STRING", "DERIV",
                                       "COMPARE", "ASSIGN_OP"))
_SPLIT = re.compile(r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[ \t]*(.*)", re.S)


class Fail(Exception):
    """Not certain to read this as Lark does: let Lark parse the file."""


class ExprReader:
    """The reader's position and tokens, expressions and units (statements: the subclass in fastparse)."""

    def __init__(self, source: SourceFile, max_depth: int):
        self.src, self.text = source, source.text
        self.pos, self.line, self.ls = 0, 1, 0          # ls: offset of the current line's start
        self.end = (0, 1, 1)                            # (offset, line, column) after the last token
        self.limit = max_depth - 2
        self.nest = 0
        self.skip()

    # ------------------------------------------------------------ tokens
    def skip(self) -> int:
        """Skip whitespace and comments; the offset of the next token. (Called after every token, so ``pos``
        is always where the next token starts.)"""
        pos, text = self.pos, self.text
        if text[pos:pos + 1] not in _BLANK:
            return pos
        end = _IGNORE.match(text, pos).end()
        nl = text.count("\n", pos, end)
        if nl:
            self.line += nl
            self.ls = text.rfind("\n", pos, end) + 1
        self.pos = end
        return end

    def take(self, end: int) -> tuple[int, int, int]:
        """Read ``text[pos:end]`` as one token and skip what follows it; the token's start mark (offset,
        line, column)."""
        s, line, ls = self.pos, self.line, self.ls
        self.pos, self.end = end, (end, line, end - ls + 1)
        text = self.text
        c = text[end:end + 1]
        if c == " " and text[end + 1:end + 2] not in _BLANK:
            self.pos = end + 1                  # one space: most tokens are followed by just that
        elif c in _BLANK:
            self.skip()
        return (s, line, s - ls + 1)

    def span(self, a: tuple, b: tuple) -> Span:
        """The span from start mark ``a`` to end mark ``b``."""
        return Span(self.src, a[0], b[0], a[1], a[2], b[1], b[2])

    def lit(self, s: str) -> tuple:
        """Read the literal ``s`` (punctuation); its start mark."""
        pos = self.pos
        if not self.text.startswith(s, pos):
            raise Fail
        return self.take(pos + len(s))

    def peek(self) -> str:
        """The next character (the start of the next token)."""
        return self.text[self.pos:self.pos + 1]

    def word(self) -> str | None:
        """The next name, not read, or ``None``."""
        m = RE_NAME.match(self.text, self.pos)
        return m.group() if m else None

    def ident(self) -> A.Ident:
        """Read a name as an identifier."""
        m = RE_NAME.match(self.text, self.pos)
        if m is None:
            raise Fail
        s = self.take(m.end())
        return A.Ident(m.group(), span=self.span(s, self.end))

    def keyword(self, kw: str) -> tuple:
        """Read the name ``kw`` exactly (a keyword where the grammar expects it)."""
        m = RE_NAME.match(self.text, self.pos)
        if m is None or m.group() != kw:
            raise Fail
        return self.take(m.end())

    def regex(self, pattern: re.Pattern) -> tuple[str, tuple]:
        """Read a token matching ``pattern``: its text and start mark."""
        m = pattern.match(self.text, self.pos)
        if m is None:
            raise Fail
        return m.group(), self.take(m.end())

    def deep(self, context: int, height: int) -> None:
        """Fail near the depth limit (``context``: the depth at which the expression's tree starts)."""
        if context + height >= self.limit:
            raise Fail

    # ------------------------------------------------------------ expressions: (node, start, end, height)
    def expr(self):
        """``expr``: sums and differences of products."""
        left = self.product()
        text = self.text
        while True:
            pos = self.pos
            c = text[pos:pos + 1]
            if c != "+" and c != "-":
                return left
            self.take(pos + 1)
            right = self.product()
            a, b = left[1], right[2]
            h, k = left[3], right[3]
            left = (A.BinOp(c, left[0], right[0], span=Span(self.src, a[0], b[0], a[1], a[2], b[1], b[2])), a, b,
                    (h if h > k else k) + 1)

    def product(self):
        """Products and quotients of unary expressions."""
        left = self.unary()
        text = self.text
        while True:
            pos = self.pos
            c = text[pos:pos + 1]
            if c != "*" and c != "/":
                return left
            self.take(pos + 1)
            right = self.unary()
            a, b = left[1], right[2]
            h, k = left[3], right[3]
            left = (A.BinOp(c, left[0], right[0], span=Span(self.src, a[0], b[0], a[1], a[2], b[1], b[2])), a, b,
                    (h if h > k else k) + 1)

    def unary(self):
        """``-x``, ``+x``, and powers ``atom ^ unary``."""
        pos = self.pos
        c = self.text[pos:pos + 1]
        if c != "-" and c != "+":
            a = self.atom()
            pos = self.pos
            if self.text[pos:pos + 1] != "^":
                return a
            self.take(pos + 1)
            self.nest += 1
            if self.nest > self.limit:
                raise Fail
            b = self.unary()
            self.nest -= 1
            return (A.BinOp("^", a[0], b[0], span=self.span(a[1], b[2])), a[1], b[2], max(a[3], b[3]) + 1)
        s = self.take(pos + 1)
        self.nest += 1
        if self.nest > self.limit:
            raise Fail
        op = self.unary()
        self.nest -= 1
        if c == "+":                                    # `+x` is x, its span starting at the `+` for its parent
            return (op[0], s, op[2], op[3])
        return (A.Neg(op[0], span=self.span(s, op[2])), s, op[2], op[3] + 1)

    def atom(self):
        """A number, quantity, string, name, attribute, call or parenthesised expression."""
        text = self.text
        pos = self.pos
        c = text[pos:pos + 1]
        if c == "(":
            s = self.take(pos + 1)
            self.nest += 1
            if self.nest > self.limit:
                raise Fail
            inner = self.expr()
            self.nest -= 1
            self.lit(")")
            return (inner[0], s, self.end, inner[3])
        if c == "[":
            return self.array()
        if c.isdigit() or c == ".":
            m = RE_QUANTITY.match(text, pos)
            if m is not None:
                s = self.take(m.end())
                num, unit = _SPLIT.fullmatch(m.group()).groups()
                node = A.Quantity(_finite(num), unit, span=self.span(s, self.end))
            else:
                m = RE_NUMBER.match(text, pos)
                if m is None:
                    raise Fail
                s = self.take(m.end())
                node = A.Number(_finite(m.group()), span=self.span(s, self.end))
            return (node, s, self.end, 0)
        if c == '"':
            value, s = self.regex(RE_STRING)
            return (A.String(value[1:-1], span=self.span(s, self.end)), s, self.end, 0)
        m = RE_NAME.match(text, pos)
        if m is None:
            raise Fail
        s = self.take(m.end())
        e = self.end
        ident = A.Ident(m.group(), span=Span(self.src, pos, e[0], s[1], s[2], e[1], e[2]))
        nxt = text[self.pos:self.pos + 1]
        if nxt == "(":
            return self.call_rest(ident, s)
        if nxt == ".":
            self.take(self.pos + 1)
            field = self.ident()
            return (A.Attribute(ident, field, span=self.span(s, self.end)), s, self.end, 0)
        return (A.Name(ident, span=ident.span), s, e, 0)

    def array(self):
        """``[expr, expr, ...]`` (the next character is the ``[``; height: the ``array`` rule's)."""
        s = self.take(self.pos + 1)
        self.nest += 1
        if self.nest > self.limit:
            raise Fail
        items, height = [], -1
        while True:
            item = self.expr()
            items.append(item[0])
            height = max(height, item[3])
            c = self.peek()
            if c == ",":
                self.take(self.pos + 1)
            elif c == "]":
                break
            else:
                raise Fail
        self.take(self.pos + 1)
        self.nest -= 1
        return (A.Array(tuple(items), span=self.span(s, self.end)), s, self.end, height + 1)

    def call(self):
        """``NAME(args)``."""
        m = RE_NAME.match(self.text, self.pos)
        if m is None:
            raise Fail
        s = self.take(m.end())
        ident = A.Ident(m.group(), span=self.span(s, self.end))
        if self.peek() != "(":
            raise Fail
        return self.call_rest(ident, s)

    def call_rest(self, ident: A.Ident, s: tuple):
        """``(args)`` after the function's name (the next character is the ``(``)."""
        self.take(self.pos + 1)
        self.nest += 1
        if self.nest > self.limit:
            raise Fail
        args, height = [], -1
        if self.peek() != ")":
            while True:
                arg = self.arg()
                args.append(arg[0])
                height = max(height, arg[3])
                c = self.peek()
                if c == ",":
                    self.take(self.pos + 1)
                elif c == ")":
                    break
                else:
                    raise Fail
        self.take(self.pos + 1)
        self.nest -= 1
        return (A.Call(ident, tuple(args), span=self.span(s, self.end)), s, self.end, height + 1)

    def arg(self):
        """``[trainable] [NAME =] expr`` (height: the ``arg`` rule's)."""
        text = self.text
        pos = self.pos
        s = (pos, self.line, pos - self.ls + 1)
        trainable, name = False, None
        m = RE_NAME.match(text, pos)
        if m is not None and m.group() == "trainable":
            self.take(m.end())
            trainable = True
            m = RE_NAME.match(text, self.pos)
        if m is not None:
            saved = (self.pos, self.line, self.ls, self.end)
            t = self.take(m.end())
            if self.peek() == "=":
                name = A.Ident(m.group(), span=self.span(t, self.end))
                self.take(self.pos + 1)
            else:
                self.pos, self.line, self.ls, self.end = saved
        value = self.expr()
        return (A.Arg(value[0], name, trainable, span=self.span(s, value[2])), s, value[2], value[3] + 1)

    # ------------------------------------------------------------ units: (node, start, end, height)
    def unit(self):
        """A unit in type position: products and quotients of unit terms."""
        left = self.unit_term()
        while True:
            pos = self.pos
            c = self.text[pos:pos + 1]
            if c != "*" and c != "/":
                return left
            self.take(pos + 1)
            right = self.unit_term()
            left = (A.UnitOp(c, left[0], right[0], span=self.span(left[1], right[2])), left[1], right[2],
                    max(left[3], right[3]) + 1)

    def unit_term(self):
        """``ms``, ``mV^2``, ``1`` or a parenthesised unit."""
        text = self.text
        pos = self.pos
        c = text[pos:pos + 1]
        if c == "(":
            s = self.take(pos + 1)
            self.nest += 1
            if self.nest > self.limit:
                raise Fail
            inner = self.unit()
            self.nest -= 1
            self.lit(")")
            return (inner[0], s, self.end, inner[3])
        if c.isdigit():
            m = RE_INT.match(text, pos)
            if m is None or m.group() != "1":
                raise Fail
            s = self.take(m.end())
            return (A.UnitOne(span=self.span(s, self.end)), s, self.end, 0)
        m = RE_NAME.match(text, pos)
        if m is None:
            raise Fail
        s = self.take(m.end())
        ident = A.Ident(m.group(), span=self.span(s, self.end))
        if self.peek() != "^":
            return (A.UnitName(ident, span=ident.span), s, self.end, 0)
        self.take(self.pos + 1)
        exponent, _ = self.regex(RE_SIGNED_INT)
        return (A.UnitPow(ident, int(exponent), span=self.span(s, self.end)), s, self.end, 0)


def _finite(text: str) -> str:
    if (len(text) > 300 or "e" in text or "E" in text) and not math.isfinite(float(text)):
        raise Fail
    return text
