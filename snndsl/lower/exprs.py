"""IR expressions → Python ``ast`` expressions over brainunit quantities."""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import attrs
import brainunit as u

from .. import ir
from . import emit as E

_UNIT_TEXT = re.compile(r"^[A-Za-z0-9_^*/ .\-]+$")

#: Math functions → ``u.math`` names (brainunit's numpy mirror; dimensionless arguments are plain arrays).
FUNCS = {"exp": "exp", "log": "log", "exprel": "exprel", "tanh": "tanh", "sin": "sin", "cos": "cos",
         "abs": "abs", "min": "minimum", "max": "maximum", "clip": "clip", "sqrt": "sqrt"}


def unit_expr(unit: Any) -> ast_expr:
    """``u.ms`` where brainunit has the name, else ``u.Unit('nS / mm^2')`` (text rendered by brainunit)."""
    text = str(unit)
    if text in ("", "1", "Unit(1)") or unit.is_unitless:
        return E.attr("u", "UNITLESS")
    if text.isidentifier() and getattr(u, text, None) == unit:
        return E.attr("u", text)
    if not _UNIT_TEXT.match(text):
        raise ValueError(f"unexpected unit text {text!r}")
    return E.call(E.attr("u", "Unit"), E.const(text))


ast_expr = Any


def value_expr(value: Any) -> ast_expr:
    """A constant: ``20.0 * u.ms``, ``0.3``, ``3``, ``True`` (finite numbers only: checked upstream)."""
    if isinstance(value, u.Quantity):
        mant = float(value.mantissa)
        if not math.isfinite(mant):
            raise ValueError("non-finite constant")
        if value.unit.is_unitless:
            return E.const(mant)
        return E.binop("*", E.const(mant), unit_expr(value.unit))
    if isinstance(value, u.Unit):
        return unit_expr(value)
    if isinstance(value, bool) or value is None:
        return E.const(value)
    if isinstance(value, int):
        return E.const(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite constant")
        return E.const(value)
    raise TypeError(f"cannot emit {type(value).__name__}")


def lower(expr: ir.Expr, ref: Callable[[ir.Ref], ast_expr]) -> ast_expr:
    """The ``ast`` of ``expr``; ``ref`` lowers each symbol (a local variable, ``self.x``, a port call...)."""
    if isinstance(expr, ir.Const):
        return value_expr(expr.value)
    if isinstance(expr, ir.Ref):
        return ref(expr)
    if isinstance(expr, ir.Neg):
        return E.neg(lower(expr.operand, ref))
    if isinstance(expr, ir.BinOp):
        return E.binop(expr.op, lower(expr.left, ref), lower(expr.right, ref))
    if isinstance(expr, ir.Func):
        args = [lower(a, ref) for a in expr.args]
        if expr.name == "sigmoid":
            return E.call(E.attr("jax", "nn", "sigmoid"), *args)
        return E.call(E.attr("u", "math", FUNCS[expr.name]), *args)
    raise TypeError(type(expr).__name__)


def substitute(expr: ir.Expr | None, lets: dict[str, ir.Expr]) -> ir.Expr | None:
    """``expr`` with every ``let`` reference replaced by its definition (itself substituted)."""
    if expr is None:
        return None
    if isinstance(expr, ir.Ref) and expr.kind == "let":
        return substitute(lets[expr.name], lets)
    if isinstance(expr, ir.Neg):
        return attrs.evolve(expr, operand=substitute(expr.operand, lets))
    if isinstance(expr, ir.BinOp):
        return attrs.evolve(expr, left=substitute(expr.left, lets), right=substitute(expr.right, lets))
    if isinstance(expr, ir.Func):
        return attrs.evolve(expr, args=tuple(substitute(a, lets) for a in expr.args))
    return expr


def refs(expr: ir.Expr | None) -> set[tuple[str, str]]:
    """``(kind, name)`` of every symbol ``expr`` mentions."""
    if expr is None:
        return set()
    if isinstance(expr, ir.Ref):
        return {(expr.kind, expr.name)}
    if isinstance(expr, ir.Neg):
        return refs(expr.operand)
    if isinstance(expr, ir.BinOp):
        return refs(expr.left) | refs(expr.right)
    if isinstance(expr, ir.Func):
        return set().union(*(refs(a) for a in expr.args))
    return set()


def is_linear_in(expr: ir.Expr, var: str) -> bool:
    """True when ``expr`` is affine in state ``var`` (what ``method exact`` requires)."""
    def degree(e) -> int | None:  # None: not polynomial in var
        if isinstance(e, ir.Ref):
            return 1 if (e.kind, e.name) == ("state", var) else 0
        if isinstance(e, ir.Const):
            return 0
        if isinstance(e, ir.Neg):
            return degree(e.operand)
        if isinstance(e, ir.BinOp):
            a, b = degree(e.left), degree(e.right)
            if a is None or b is None:
                return None
            if e.op in "+-":
                return max(a, b)
            if e.op == "*":
                return a + b
            if e.op == "/":
                return a if b == 0 else None
            return 0 if a == 0 and b == 0 else None
        if isinstance(e, ir.Func):
            return 0 if all(degree(x) == 0 for x in e.args) else None
        return None
    d = degree(expr)
    return d is not None and d <= 1
