"""A fast recursive-descent reader of grammars/snn.lark, for large files; Lark stays the reference.

:func:`parse_fast` returns the :class:`~snndsl.syntax.ast.Module` that Lark's parse and
:class:`snndsl.syntax.parser._ToAst` give, spans included (a rule spans from its first token, a parenthesis
or unary ``+`` included, to its last), or ``None`` whenever it meets anything it is not certain to read as
Lark does: any syntax error, a number out of range, nesting near the depth limit, a keyword glued to a
name. Then :func:`snndsl.syntax.parser.parse` parses with Lark, which gives the result or the diagnostic,
so this reader may be stricter than the grammar but never looser. Lark's contextual lexer is mirrored
where it matters: tokens are read with the grammar's own patterns only where the grammar expects them, a
word equal to a keyword is the keyword only where that keyword may stand, and ``QUANTITY`` is tried
before ``NUMBER``. ``tests/test_fastparse.py`` checks both readers agree on every fixture, model and
generated file.
"""

from __future__ import annotations

import gc
import math
import re

from snndsl.syntax import ast as A
from snndsl.source import SourceFile, Span

#: The grammar's terminals (tests check they equal Lark's).
PATTERNS = {
    "QUANTITY": r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)(?![eE][+-]?\d|[\d.])[ \t]*(?!(?:trainable|scale"
                r"|from|when|hard|soft|param|state|input|let|spike|reset|on_spike|refractory|surrogate|method|"
                r"output|dt|pop|readout|connect|import|neuron|synapse|network|train)(?![A-Za-z_0-9]))"
                r"[A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?(?:[*\/][A-Za-z_][A-Za-z_0-9]*(?:\^-?\d+)?)*"
                r"(?![A-Za-z_0-9(.^])(?![ \t]*=(?!=))",
    "NUMBER": r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)",
    "INT": r"\d+", "SIGNED_INT": r"-?\d+", "NAME": r"[A-Za-z_][A-Za-z_0-9]*", "STRING": '"[^"\n]*"',
    "DERIV": r"d[A-Za-z_][A-Za-z_0-9]*\/dt(?![A-Za-z_0-9])", "COMPARE": "(?:>=|<=|>|<)",
    "ASSIGN_OP": r"(?:\+=|\-=|=)",
}
_IGNORE = re.compile(r"(?:[ \t\f\r\n]+|#[^\n]*)*")
_BLANK = frozenset(" \t\f\r\n#")
_QUANTITY, _NUMBER, _INT, _SIGNED_INT, _NAME, _STRING, _DERIV, _COMPARE, _ASSIGN = (
    re.compile(PATTERNS[k]) for k in ("QUANTITY", "NUMBER", "INT", "SIGNED_INT", "NAME", "STRING", "DERIV",
                                       "COMPARE", "ASSIGN_OP"))
_SPLIT = re.compile(r"(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)[ \t]*(.*)", re.S)
_NEURON = frozenset({"param", "state", "input", "let", "spike", "reset", "on_spike", "refractory", "surrogate",
                     "method"})
_SYNAPSE = frozenset({"param", "state", "let", "on_spike", "output", "method"})
_NETWORK = frozenset({"dt", "input", "pop", "readout", "connect", "output"})
#: Lark's Tree depth (root 0) beyond which it reports SNN105; near it, Lark decides.
_LIMIT = 62


class _Fail(Exception):
    """Not certain to read this as Lark does: let Lark parse the file."""


def parse_fast(source: SourceFile, max_depth: int = 64) -> A.Module | None:
    """The syntax tree of ``source`` as Lark would build it, or ``None`` (then parse with Lark)."""
    reader = _Reader(source, max_depth)
    collecting = gc.isenabled()
    gc.disable()            # the tree is acyclic: collecting while it grows only costs time (a third of it)
    try:
        return reader.module()
    except (_Fail, IndexError, RecursionError):
        return None
    finally:
        if collecting:
            gc.enable()


class _Reader:
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
        if self.text[end:end + 1] in _BLANK:
            self.skip()
        return (s, line, s - ls + 1)

    def span(self, a: tuple, b: tuple) -> Span:
        return Span(self.src, a[0], b[0], a[1], a[2], b[1], b[2])

    def lit(self, s: str) -> tuple:
        pos = self.pos
        if not self.text.startswith(s, pos):
            raise _Fail
        return self.take(pos + len(s))

    def peek(self) -> str:
        return self.text[self.pos:self.pos + 1]

    def word(self) -> str | None:
        m = _NAME.match(self.text, self.pos)
        return m.group() if m else None

    def ident(self) -> A.Ident:
        m = _NAME.match(self.text, self.pos)
        if m is None:
            raise _Fail
        s = self.take(m.end())
        return A.Ident(m.group(), span=self.span(s, self.end))

    def keyword(self, kw: str) -> tuple:
        m = _NAME.match(self.text, self.pos)
        if m is None or m.group() != kw:
            raise _Fail
        return self.take(m.end())

    def regex(self, pattern: re.Pattern) -> tuple[str, tuple]:
        m = pattern.match(self.text, self.pos)
        if m is None:
            raise _Fail
        return m.group(), self.take(m.end())

    def deep(self, context: int, height: int) -> None:
        if context + height >= self.limit:
            raise _Fail

    # ------------------------------------------------------------ expressions: (node, start, end, height)
    def expr(self):
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
                raise _Fail
            b = self.unary()
            self.nest -= 1
            return (A.BinOp("^", a[0], b[0], span=self.span(a[1], b[2])), a[1], b[2], max(a[3], b[3]) + 1)
        s = self.take(pos + 1)
        self.nest += 1
        if self.nest > self.limit:
            raise _Fail
        op = self.unary()
        self.nest -= 1
        if c == "+":                                    # `+x` is x, its span starting at the `+` for its parent
            return (op[0], s, op[2], op[3])
        return (A.Neg(op[0], span=self.span(s, op[2])), s, op[2], op[3] + 1)

    def atom(self):
        text = self.text
        pos = self.pos
        c = text[pos:pos + 1]
        if c == "(":
            s = self.take(pos + 1)
            self.nest += 1
            if self.nest > self.limit:
                raise _Fail
            inner = self.expr()
            self.nest -= 1
            self.lit(")")
            return (inner[0], s, self.end, inner[3])
        if c.isdigit() or c == ".":
            m = _QUANTITY.match(text, pos)
            if m is not None:
                s = self.take(m.end())
                num, unit = _SPLIT.fullmatch(m.group()).groups()
                node = A.Quantity(_finite(num), unit, span=self.span(s, self.end))
            else:
                m = _NUMBER.match(text, pos)
                if m is None:
                    raise _Fail
                s = self.take(m.end())
                node = A.Number(_finite(m.group()), span=self.span(s, self.end))
            return (node, s, self.end, 0)
        if c == '"':
            value, s = self.regex(_STRING)
            return (A.String(value[1:-1], span=self.span(s, self.end)), s, self.end, 0)
        m = _NAME.match(text, pos)
        if m is None:
            raise _Fail
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

    def call(self):
        m = _NAME.match(self.text, self.pos)
        if m is None:
            raise _Fail
        s = self.take(m.end())
        ident = A.Ident(m.group(), span=self.span(s, self.end))
        if self.peek() != "(":
            raise _Fail
        return self.call_rest(ident, s)

    def call_rest(self, ident: A.Ident, s: tuple):
        """``(args)`` after the function's name (the next character is the ``(``)."""
        self.take(self.pos + 1)
        self.nest += 1
        if self.nest > self.limit:
            raise _Fail
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
                    raise _Fail
        self.take(self.pos + 1)
        self.nest -= 1
        return (A.Call(ident, tuple(args), span=self.span(s, self.end)), s, self.end, height + 1)

    def arg(self):
        """``[trainable] [NAME =] expr`` (height: the ``arg`` rule's)."""
        text = self.text
        pos = self.pos
        s = (pos, self.line, pos - self.ls + 1)
        trainable, name = False, None
        m = _NAME.match(text, pos)
        if m is not None and m.group() == "trainable":
            self.take(m.end())
            trainable = True
            m = _NAME.match(text, self.pos)
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
        text = self.text
        pos = self.pos
        c = text[pos:pos + 1]
        if c == "(":
            s = self.take(pos + 1)
            self.nest += 1
            if self.nest > self.limit:
                raise _Fail
            inner = self.unit()
            self.nest -= 1
            self.lit(")")
            return (inner[0], s, self.end, inner[3])
        if c.isdigit():
            m = _INT.match(text, pos)
            if m is None or m.group() != "1":
                raise _Fail
            s = self.take(m.end())
            return (A.UnitOne(span=self.span(s, self.end)), s, self.end, 0)
        m = _NAME.match(text, pos)
        if m is None:
            raise _Fail
        s = self.take(m.end())
        ident = A.Ident(m.group(), span=self.span(s, self.end))
        if self.peek() != "^":
            return (A.UnitName(ident, span=ident.span), s, self.end, 0)
        self.take(self.pos + 1)
        exponent, _ = self.regex(_SIGNED_INT)
        return (A.UnitPow(ident, int(exponent), span=self.span(s, self.end)), s, self.end, 0)

    # ------------------------------------------------------------ statements
    def module(self) -> A.Module:
        items = []
        text, n = self.text, len(self.text)
        items_at = {"import": self.import_stmt, "neuron": self.model, "synapse": self.model,
                    "network": self.network, "train": self.train}
        while self.pos < n:
            m = _NAME.match(text, self.pos)
            if m is None or m.group() not in items_at:
                raise _Fail
            items.append(items_at[m.group()](m))
        if not items:
            return A.Module((), span=Span(self.src, 0, 0, 1, 1, 1, 1))
        first, last = items[0].span, items[-1].span
        return A.Module(tuple(items), span=Span(self.src, first.start, last.end, first.line, first.column,
                                                last.end_line, last.end_column))

    def import_stmt(self, m) -> A.ImportStmt:
        s = self.take(m.end())
        names = ()
        if self.peek() != '"':
            names = [self.ident()]
            while self.peek() == ",":
                self.take(self.pos + 1)
                names.append(self.ident())
            self.keyword("from")
            names = tuple(names)
        path, _ = self.regex(_STRING)
        return A.ImportStmt(path[1:-1], names, span=self.span(s, self.end))

    def model(self, m) -> A.NeuronDef | A.SynapseDef:
        kind = m.group()
        s = self.take(m.end())
        name = self.ident()
        self.lit("{")
        allowed = _NEURON if kind == "neuron" else _SYNAPSE
        body = []
        text = self.text
        while True:
            pos = self.pos
            if text.startswith("}", pos):
                break
            d = _DERIV.match(text, pos)
            if d is not None:
                body.append(self.ode(d))
                continue
            w = _NAME.match(text, pos)
            if w is None or w.group() not in allowed:
                raise _Fail
            body.append(getattr(self, "s_" + w.group())(self.take(w.end())))
        self.take(self.pos + 1)
        cls = A.NeuronDef if kind == "neuron" else A.SynapseDef
        return cls(name, tuple(body), span=self.span(s, self.end))

    def value(self, context: int):
        x = self.expr()
        self.deep(context, x[3])
        return x

    def s_param(self, s, cls=A.ParamDecl):
        name = self.ident()
        unit = default = None
        end = self.end
        if self.peek() == ":":
            self.take(self.pos + 1)
            un = self.unit()
            self.deep(3, un[3])
            unit, end = un[0], un[2]
        if self.peek() == "=":
            self.take(self.pos + 1)
            x = self.value(3)
            default, end = x[0], x[2]
        return cls(name, unit, default, span=self.span(s, end))

    def s_state(self, s):
        return self.s_param(s, A.StateDecl)

    def s_input(self, s):
        name = self.ident()
        self.lit(":")
        un = self.unit()
        self.deep(3, un[3])
        return A.InputDecl(name, un[0], span=self.span(s, un[2]))

    def s_let(self, s):
        name = self.ident()
        self.lit("=")
        x = self.value(3)
        return A.LetDecl(name, x[0], span=self.span(s, x[2]))

    def ode(self, d):
        s = self.take(d.end())
        text = d.group()
        var = A.Ident(text[1:-3], span=Span(self.src, s[0] + 1, d.end() - 3, s[1], s[2] + 1, s[1],
                                              s[2] + len(text) - 3))
        self.lit("=")
        x = self.value(3)
        return A.Ode(var, x[0], span=self.span(s, x[2]))

    def s_spike(self, s):
        self.keyword("when")
        left = self.value(3)
        op, _ = self.regex(_COMPARE)
        right = self.value(3)
        scale, end = None, right[2]
        if self.peek() == ",":
            self.take(self.pos + 1)
            self.keyword("scale")
            self.lit("=")
            x = self.value(3)
            scale, end = x[0], x[2]
        return A.SpikeStmt(left[0], op, right[0], scale, span=self.span(s, end))

    def s_reset(self, s):
        mode = self.word()
        if mode not in ("hard", "soft"):
            raise _Fail
        self.take(self.pos + 4)
        var = self.ident()
        self.lit("=")
        x = self.value(3)
        return A.ResetStmt(mode, var, x[0], span=self.span(s, x[2]))

    def s_on_spike(self, s):
        var = self.ident()
        op, _ = self.regex(_ASSIGN)
        x = self.value(3)
        return A.OnSpike(var, op, x[0], span=self.span(s, x[2]))

    def s_refractory(self, s):
        x = self.value(3)
        return A.RefractoryStmt(x[0], span=self.span(s, x[2]))

    def s_surrogate(self, s):
        ident = self.ident()
        if self.peek() == "(":
            call = self.call_rest(ident, (ident.span.start, ident.span.line, ident.span.column))
            self.deep(3, call[3])
            return A.SurrogateStmt(call[0], span=self.span(s, self.end))
        span = self.span(s, self.end)
        return A.SurrogateStmt(A.Call(ident, (), span=span), span=span)

    def s_method(self, s):
        name = self.ident()
        return A.MethodStmt(name, span=self.span(s, self.end))

    def s_output(self, s):
        x = self.value(3)
        return A.OutputStmt(x[0], span=self.span(s, x[2]))

    def network(self, m) -> A.NetworkDef:
        s = self.take(m.end())
        name = self.ident()
        self.lit("{")
        body = []
        while self.peek() != "}":
            w = self.word()
            if w not in _NETWORK:
                raise _Fail
            body.append(getattr(self, "n_" + w)(self.take(self.pos + len(w))))
        self.take(self.pos + 1)
        return A.NetworkDef(name, tuple(body), span=self.span(s, self.end))

    def n_dt(self, s):
        self.lit("=")
        x = self.value(3)
        return A.DtStmt(x[0], span=self.span(s, x[2]))

    def n_input(self, s):
        name = self.ident()
        self.lit(":")
        kind = self.ident()
        self.lit("[")
        size = self.value(3)
        self.lit("]")
        unit = source = None
        end = self.end
        c = self.peek()
        if c == "(" or c.isdigit() or (c and c[0].isalpha() or c == "_") and self.word() not in _NETWORK:
            un = self.unit()
            self.deep(3, un[3])
            unit, end = un[0], un[2]
        if self.peek() == "=":
            self.take(self.pos + 1)
            call = self.call()
            self.deep(3, call[3])
            source, end = call[0], call[2]
        return A.NetInput(name, kind, size[0], unit, source, span=self.span(s, end))

    def n_pop(self, s, cls=A.PopDecl):
        name = self.ident()
        self.lit("=")
        call = self.call()
        self.deep(3, call[3])
        return cls(name, call[0], span=self.span(s, call[2]))

    def n_readout(self, s):
        return self.n_pop(s, A.ReadoutDecl)

    def n_connect(self, s):
        first = self.ident()
        label = None
        if self.peek() == ":":
            self.take(self.pos + 1)
            label, first = first, self.ident()
        self.lit("->")
        post = self.ident()
        self.lit(":")
        conn = self.call()
        self.deep(3, conn[3])
        options, end = [], conn[2]
        while self.peek() == ",":
            self.take(self.pos + 1)
            arg = self.arg()
            self.deep(3, arg[3])
            options.append(arg[0])
            end = arg[2]
        return A.ConnectStmt(label, first, post, conn[0], tuple(options), span=self.span(s, end))

    def n_output(self, s):
        names = [self.ident()]
        while self.peek() == ",":
            self.take(self.pos + 1)
            names.append(self.ident())
        return A.NetOutput(tuple(names), span=self.span(s, self.end))

    def train(self, m) -> A.TrainDef:
        s = self.take(m.end())
        network = self.ident()
        self.lit("{")
        settings = []
        while self.peek() != "}":
            key = self.ident()
            self.lit("=")
            x = self.value(3)
            settings.append(A.Setting(key, x[0], span=Span(self.src, key.span.start, x[2][0], key.span.line,
                                                           key.span.column, x[2][1], x[2][2])))
        self.take(self.pos + 1)
        return A.TrainDef(network, tuple(settings), span=self.span(s, self.end))


def _finite(text: str) -> str:
    if (len(text) > 300 or "e" in text or "E" in text) and not math.isfinite(float(text)):
        raise _Fail
    return text
