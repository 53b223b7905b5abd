"""IR expressions → Python ``ast`` expressions over brainunit quantities."""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import brainunit as u

from snndsl import ir
from snndsl.lower import emit as E

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
