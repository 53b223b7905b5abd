"""``snndsl.ir.text.show_expr``: the text of an IR expression parses and resolves back to the same tree.

The property test draws random IR expressions (names of every kind a model has, plain numbers, quantities,
math functions, ``+ - * / ^`` and unary minus, nested at random), prints them, puts the text in a neuron model
as ``let y = ...``, resolves that file and compares the result with the drawn tree. No JAX compiles.
"""

from __future__ import annotations

import os

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snndsl import ir
from snndsl import units as u
from snndsl.ir.text import show_expr
from snndsl.registry import FUNCTIONS
from snndsl.resolve import resolve_source
from snndsl.source import SourceFile

EXAMPLES = int(os.environ.get("SNNDSL_FUZZ_EXAMPLES", "200"))

MODEL = """neuron N {{
    param a: mV = 1 mV
    param b = 2
    state V: mV = 0 mV
    input I: mV
    let z = a
    let y = {expr}
    dV/dt = -V / (10 ms)
}}
"""
REFS = [ir.Ref("param", "a"), ir.Ref("param", "b"), ir.Ref("state", "V"), ir.Ref("input", "I"),
        ir.Ref("let", "z"), ir.Ref("time", "t"), ir.Ref("dt", "dt")]
UNITS = [u.ms, u.mV, u.nS, u.mA, u.Hz, u.mV / u.ms, u.nS / u.mm ** 2]


def resolve_text(text: str) -> ir.Expr:
    """The IR of ``text`` as the right-hand side of a ``let`` in a model."""
    program, diags = resolve_source(SourceFile("show_expr.snn", MODEL.format(expr=text)))
    errors = [d for d in diags if d.severity == "error"]
    assert not errors, errors
    (model,) = program.models
    return next(let.value for let in model.lets if let.name == "y")


def key(e):
    """A strict structural key: unlike Quantity equality, ``2 s`` and ``2000 ms`` differ."""
    if isinstance(e, ir.Const):
        v = e.value
        if isinstance(v, u.Quantity):
            return ("Q", float(v.mantissa), str(v.unit))
        return ("C", type(v).__name__, v)
    if attrs.has(type(e)):
        return (type(e).__name__, *(key(getattr(e, f.name)) for f in attrs.fields(type(e)) if f.eq))
    if isinstance(e, tuple):
        return tuple(key(x) for x in e)
    return e


numbers = st.floats(min_value=0, max_value=1e30, allow_nan=False, allow_infinity=False)
leaves = st.one_of(
    st.sampled_from(REFS),
    numbers.map(ir.Const),
    st.builds(lambda x, unit: ir.Const(u.Quantity(x, unit=unit)), numbers, st.sampled_from(UNITS)),
)


def _extend(children):
    def call(name):
        lo, hi = FUNCTIONS[name].traits.arity
        return st.lists(children, min_size=lo, max_size=hi).map(lambda args: ir.Func(name, tuple(args)))

    return st.one_of(
        st.builds(ir.BinOp, st.sampled_from("+-*/^"), children, children),
        st.builds(ir.Neg, children),
        st.sampled_from(FUNCTIONS.names()).flatmap(call),
    )


expressions = st.recursive(leaves, _extend, max_leaves=12)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(expressions)
def test_show_expr_round_trips_through_the_parser_and_resolver(expr):
    text = show_expr(expr)
    back = resolve_text(text)
    assert back == expr, text
    assert key(back) == key(expr), text


def q(x, unit):
    return ir.Const(u.Quantity(x, unit=unit))


A, B, C = ir.Ref("param", "a"), ir.Ref("param", "b"), ir.Ref("state", "V")


@pytest.mark.parametrize("expr, want", [
    (ir.BinOp("^", ir.BinOp("^", A, B), C), "(a ^ b) ^ V"),         # `^` is right-associative
    (ir.BinOp("^", A, ir.BinOp("^", B, C)), "a ^ (b ^ V)"),
    (ir.Neg(ir.BinOp("^", A, B)), "-(a ^ b)"),                       # `-a ^ b` would be right, but reads badly
    (ir.BinOp("^", ir.Neg(A), B), "(-a) ^ b"),
    (ir.BinOp("^", A, ir.Neg(B)), "a ^ -b"),
    (ir.Neg(ir.Neg(A)), "-(-a)"),
    (ir.BinOp("*", A, ir.Neg(B)), "a * -b"),
    (ir.BinOp("-", A, ir.BinOp("-", B, C)), "a - (b - V)"),
    (ir.BinOp("-", ir.BinOp("-", A, B), C), "a - b - V"),
    (ir.BinOp("/", A, ir.BinOp("*", B, C)), "a / (b * V)"),
    (ir.BinOp("^", q(2.0, u.ms), ir.Const(2.0)), "(2.0 ms) ^ 2.0"),
    (ir.BinOp("/", A, q(2.0, u.mV / u.ms)), "a / 2.0 mV/ms"),     # a quantity is one token
    (ir.BinOp("^", ir.Const(-2.0), A), "(-2.0) ^ a"),              # a negative constant binds like `-`
    (ir.Neg(ir.Const(-2.0)), "-(-2.0)"),
    (ir.Func("max", (ir.BinOp("+", A, B), ir.Neg(C))), "max(a + b, -V)"),
])
def test_show_expr_parenthesises_what_the_grammar_needs(expr, want):
    assert show_expr(expr) == want
