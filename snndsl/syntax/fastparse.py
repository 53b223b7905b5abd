"""A fast recursive-descent reader of grammars/snn.lark, for large files; Lark stays the reference.

:func:`parse_fast` returns the :class:`~snndsl.syntax.ast.Module` that Lark's parse and
:class:`snndsl.syntax.larkparse._ToAst` give, spans included (a rule spans from its first token, a parenthesis
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
import re

from snndsl.syntax import ast as A
from snndsl.syntax.fastexpr import RE_ASSIGN, RE_COMPARE, RE_DERIV, RE_NAME, RE_STRING, ExprReader, Fail

#: a comma, whitespace and the name after it (which option of `spike when` follows)
RE_COMMA_WORD = re.compile(r",[ \t\r\n]*([A-Za-z_][A-Za-z_0-9]*)")
from snndsl.source import SourceFile, Span

_NEURON = frozenset({"param", "state", "input", "let", "spike", "reset", "on_spike", "refractory", "surrogate",
                     "method"})
_SYNAPSE = frozenset({"param", "state", "let", "on_spike", "output", "method"})
_PLASTICITY = frozenset({"param", "state", "method", "on_pre", "on_post"})
_NETWORK = frozenset({"dt", "duration", "input", "pop", "readout", "connect", "output", "precision"})


def parse_fast(source: SourceFile, max_depth: int = 256) -> A.Module | None:
    """The syntax tree of ``source`` as Lark would build it, or ``None`` (then parse with Lark)."""
    reader = _Reader(source, max_depth)
    collecting = gc.isenabled()
    gc.disable()            # the tree is acyclic: collecting while it grows only costs time (a third of it)
    try:
        return reader.module()
    except (Fail, IndexError, RecursionError):
        return None
    finally:
        if collecting:
            gc.enable()


class _Reader(ExprReader):
    """Items and statements."""

    # ------------------------------------------------------------ statements
    def module(self) -> A.Module:
        items = []
        text, n = self.text, len(self.text)
        items_at = {"import": self.import_stmt, "neuron": self.model, "synapse": self.model,
                    "plasticity": self.plasticity,
                    "network": self.network, "train": self.train}
        while self.pos < n:
            m = RE_NAME.match(text, self.pos)
            if m is None or m.group() not in items_at:
                raise Fail
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
        path, _ = self.regex(RE_STRING)
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
            d = RE_DERIV.match(text, pos)
            if d is not None:
                body.append(self.ode(d))
                continue
            w = RE_NAME.match(text, pos)
            if w is None or w.group() not in allowed:
                raise Fail
            body.append(getattr(self, "s_" + w.group())(self.take(w.end())))
        self.take(self.pos + 1)
        cls = A.NeuronDef if kind == "neuron" else A.SynapseDef
        return cls(name, tuple(body), span=self.span(s, self.end))

    def plasticity(self, m) -> A.PlasticityDef:
        s = self.take(m.end())
        name = self.ident()
        self.lit("{")
        body = []
        text = self.text
        while not text.startswith("}", self.pos):
            d = RE_DERIV.match(text, self.pos)
            if d is not None:
                body.append(self.ode(d))
                continue
            w = RE_NAME.match(text, self.pos)
            if w is None or w.group() not in _PLASTICITY:
                raise Fail
            word, start = w.group(), self.take(w.end())
            if word == "state":
                body.append(self.plastic_state(start))
            elif word in ("on_pre", "on_post"):
                body.append(self.handler(word, start))
            else:
                body.append(getattr(self, "s_" + word)(start))
        self.take(self.pos + 1)
        return A.PlasticityDef(name, tuple(body), span=self.span(s, self.end))

    def plastic_state(self, s):
        name = self.ident()
        unit = init = None
        if self.peek() == ":":
            self.take(self.pos + 1)
            un = self.unit()
            self.deep(3, un[3])
            unit = un[0]
        self.keyword("per")
        scope = self.word()
        if scope not in ("connection", "pre", "post"):
            raise Fail
        self.take(self.pos + len(scope))
        end = self.end
        if self.peek() == "=":
            self.take(self.pos + 1)
            x = self.value(3)
            init, end = x[0], x[2]
        return A.PlasticState(name, unit, scope, init, span=self.span(s, end))

    def handler(self, event, s):
        self.lit("{")
        body = []
        text = self.text
        while not text.startswith("}", self.pos):
            w = RE_NAME.match(text, self.pos)
            if w is None:
                raise Fail
            if w.group() == "transmit":
                t = self.take(w.end())
                x = self.value(4)
                body.append(A.TransmitStmt(x[0], span=self.span(t, x[2])))
                continue
            var = self.ident()
            t = (var.span.start, var.span.line, var.span.column)
            op, _ = self.regex(RE_ASSIGN)
            x = self.value(4)
            body.append(A.AssignStmt(var, op, x[0], span=self.span(t, x[2])))
        self.take(self.pos + 1)
        return A.Handler(event, tuple(body), span=self.span(s, self.end))

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
        op, _ = self.regex(RE_COMPARE)
        right = self.value(3)
        scale, end, crossing = None, right[2], False
        if self.peek() == "," and self.word_after_comma() == "scale":
            self.take(self.pos + 1)
            self.keyword("scale")
            self.lit("=")
            x = self.value(3)
            scale, end = x[0], x[2]
        if self.peek() == ",":
            self.take(self.pos + 1)
            self.keyword("crossing")
            crossing, end = True, self.end
        return A.SpikeStmt(left[0], op, right[0], scale, crossing, span=self.span(s, end))

    def word_after_comma(self) -> str | None:
        """The name after the ``,`` at the current position, not read (``None`` if there is none)."""
        m = RE_COMMA_WORD.match(self.text, self.pos)
        return m.group(1) if m else None

    def s_reset(self, s):
        mode = self.word()
        if mode not in ("hard", "soft"):
            raise Fail
        self.take(self.pos + 4)
        var = self.ident()
        self.lit("=")
        x = self.value(3)
        return A.ResetStmt(mode, var, x[0], span=self.span(s, x[2]))

    def s_on_spike(self, s):
        var = self.ident()
        op, _ = self.regex(RE_ASSIGN)
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
                raise Fail
            body.append(getattr(self, "n_" + w)(self.take(self.pos + len(w))))
        self.take(self.pos + 1)
        return A.NetworkDef(name, tuple(body), span=self.span(s, self.end))

    def n_dt(self, s):
        self.lit("=")
        x = self.value(3)
        return A.DtStmt(x[0], span=self.span(s, x[2]))

    def n_precision(self, s):
        self.lit("=")
        name = self.ident()
        return A.PrecisionStmt(name, span=self.span(s, self.end))

    def n_duration(self, s):
        self.lit("=")
        x = self.value(3)
        return A.DurationStmt(x[0], span=self.span(s, x[2]))

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
