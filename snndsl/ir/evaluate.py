"""Evaluate IR expressions with :mod:`snndsl.units` (brainunit's arithmetic): constant folding and dimensional analysis by one interpreter.

:func:`evaluate` walks an expression with an environment giving a value for every :class:`~snndsl.ir.Ref`.
With real values it folds constants (``20 ms``, ``V_th - V_reset``); with stand-ins of magnitude 1 in each
symbol's unit it computes the unit of an equation. Dimension rules are checked before each operation, so
a mismatch raises :class:`UnitError` at the exact sub-expression, in the user's terms (``mV`` against
``mA``), never as a unit library exception.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.registry import FUNCTIONS
from snndsl.source import Span

#: Stand-in unit for "the unit of the synapse's weighted input" while checking a synapse model on its own:
#: candela never occurs in neuroscience, and :func:`show` prints it as ``[w]``.
W_UNIT = u.Unit("cd")


class UnitError(Exception):
    """A dimensional error at ``span``; carries an SNN3xx ``code`` and an optional ``hint``."""

    def __init__(self, code: str, message: str, span: Span | None, hint: str | None = None):
        super().__init__(message)
        self.code, self.message, self.span, self.hint = code, message, span, hint


def unit_of(value: Any):
    """The unit of ``value`` (``Unit(1)`` for a plain number)."""
    return u.get_unit(value)


def same_dim(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` have the same physical dimension (``1 mV`` and ``2 V`` do; scale is ignored)."""
    return u.get_dim(a) == u.get_dim(b)


def dimensionless(value: Any) -> bool:
    """Whether ``value`` is a plain number or a Quantity of dimension one (``V / mV`` is)."""
    return u.get_dim(value) == u.get_dim(1.0)


def show(value_or_unit: Any) -> str:
    """The unit of a value (or a unit) for messages: ``mV/ms``; the weight stand-in shows as ``[w]``."""
    unit = value_or_unit if isinstance(value_or_unit, u.Unit) else unit_of(value_or_unit)
    text = ir.show_unit(unit)
    if text == "1":
        return "a plain number"
    return text.replace("cd", "[w]")


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b,
    "*": lambda a, b: a * b, "/": lambda a, b: a / b,
}


def evaluate(expr: ir.Expr, env: Callable[[ir.Ref], Any]) -> Any:
    """The value of ``expr``; ``env(ref)`` supplies each referenced symbol's value.

    Operands are evaluated first, then the dimension rule of the operation is checked: ``+`` and ``-`` need
    the same dimension (SNN302), ``^`` a dimensionless exponent (SNN308, see :func:`_power`), math
    functions their :class:`~snndsl.registry.MathFunction` rule (SNN304 for a dimensioned argument of a
    dimensionless function, SNN302 for mixed units). A division by zero or an overflow gives NaN in the right
    unit, never an exception. Raises :class:`UnitError` at the offending sub-expression's span.
    """
    if isinstance(expr, ir.Const):
        return expr.value
    if isinstance(expr, ir.Ref):
        return env(expr)
    if isinstance(expr, ir.Neg):
        return -_number(expr.operand, evaluate(expr.operand, env))
    if isinstance(expr, ir.BinOp):
        a = _number(expr.left, evaluate(expr.left, env))
        b = _number(expr.right, evaluate(expr.right, env))
        if expr.op in "+-" and not same_dim(a, b):
            verb = "add" if expr.op == "+" else "subtract"
            raise UnitError("SNN302", f"cannot {verb} {show(a)} and {show(b)}", expr.span,
                            "both sides of + and - must have the same dimension")
        if expr.op == "^":
            return _power(expr, a, b)
        return _arith(expr.op, a, b)
    if isinstance(expr, ir.Func):
        return _function(expr, [evaluate(a, env) for a in expr.args])
    raise TypeError(f"cannot evaluate {type(expr).__name__}")


def _number(node: ir.Expr, value: Any) -> Any:
    """``value`` when it is a number or quantity; SNN231 at ``node`` for a bool (a switch is not a number:
    it may only choose, as the first argument of ``select``)."""
    if isinstance(value, bool):
        raise UnitError("SNN231", "a bool (true or false) is not a number", node.span,
                        "use it to choose between two values: `select(switch, value_if_true, value_if_false)`")
    return value


def _one_like(v: Any) -> Any:
    return u.Quantity(1.0, unit=u.get_unit(v)) if isinstance(v, u.Quantity) else 1.0


def _arith(op: str, a: Any, b: Any) -> Any:
    """``a op b``; a division by zero or an overflow gives NaN in the right unit (units are what matter)."""
    try:
        if op in "+-" and isinstance(a, u.Quantity) and isinstance(b, u.Quantity):
            # dimensions already agree: add the mantissas in a's unit (Quantity's own `+` formats an error
            # message on every call, which dominated checking large files)
            other = b.mantissa if b.unit == a.unit else b.in_unit(a.unit).mantissa
            return u.Quantity(_OPS[op](a.mantissa, other), unit=a.unit)
        return _OPS[op](a, b)
    except (ZeroDivisionError, OverflowError):
        return _OPS[op](_one_like(a), _one_like(b)) * math.nan


def _power(expr: ir.BinOp, base: Any, exponent: Any) -> Any:
    """``base ^ exponent``: the exponent must be dimensionless; a base with a unit may only be raised to a
    constant integer or half-integer (``unit^(1/2)`` is a unit, ``unit^x`` is not), SNN308 otherwise."""
    if not dimensionless(exponent):
        raise UnitError("SNN308", f"an exponent must be dimensionless, not {show(exponent)}", expr.right.span)
    if dimensionless(base) and np.ndim(u.get_mantissa(base)) > 0:      # an array of plain numbers
        with np.errstate(all="ignore"):
            return np.asarray(u.maybe_decimal(base), dtype=np.float64) ** float(exponent)
    if dimensionless(base):
        try:
            return float(u.maybe_decimal(base)) ** float(exponent)
        except (ZeroDivisionError, OverflowError, TypeError, ValueError):
            return math.nan
    if not isinstance(expr.right, (ir.Const, ir.Neg)):
        raise UnitError("SNN308", f"{show(base)} can only be raised to a constant number", expr.right.span,
                        "write the exponent as a number, e.g. `x^2`")
    value = float(exponent)
    if not math.isfinite(value) or (not value.is_integer() and value * 2 != int(value * 2)):
        raise UnitError("SNN308", f"cannot raise {show(base)} to the power {value}", expr.right.span)
    try:
        return base ** (int(value) if value.is_integer() else value)
    except (ZeroDivisionError, OverflowError):
        return _one_like(base) ** (int(value) if value.is_integer() else value) * math.nan


def _function(expr: ir.Func, args: list[Any]) -> Any:
    """Check ``args`` against the function's dimension rule (:class:`snndsl.registry.MathFunction`), then fold."""
    fn = FUNCTIONS[expr.name].traits
    rule = fn.rule
    for a, node in zip(args, expr.args):
        if np.ndim(u.get_mantissa(a)) > 0:
            raise UnitError("SNN270", f"{expr.name}() takes single numbers, not an array", node.span,
                            f"apply it to each item: `[{expr.name}(...), {expr.name}(...)]`")
    if rule == "select":
        if not isinstance(args[0], bool):
            raise UnitError("SNN231", f"{expr.name}() chooses by a bool switch, not {show(args[0])}",
                            expr.args[0].span, "declare the switch as `param x: bool = false`")
        args = [args[0]] + [_number(node, a) for a, node in zip(args[1:], expr.args[1:])]
        if not same_dim(args[1], args[2]):
            raise UnitError("SNN302", f"{expr.name}() choices must share a unit: {show(args[1])} and "
                            f"{show(args[2])}", expr.args[2].span)
        return fn.fold(*args)
    args = [_number(node, a) for node, a in zip(expr.args, args)]
    if rule == "any":       # any unit in, a plain number out (heaviside: the sign of the quantity)
        return fn.fold(*[float(u.get_mantissa(a)) if isinstance(a, u.Quantity) else float(a) for a in args])
    if rule == "dimensionless":
        for a, node in zip(args, expr.args):
            if not dimensionless(a):
                raise UnitError("SNN304", f"{expr.name}() needs a dimensionless argument, not {show(a)}", node.span,
                                "divide by a reference value, e.g. `exp(V / mV)` or `exp((V - V_T) / delta_T)`")
        plain = [float(u.maybe_decimal(a)) if isinstance(a, u.Quantity) else float(a) for a in args]
        return fn.fold(*plain)
    if rule == "same":
        for a, node in zip(args[1:], expr.args[1:]):
            if not same_dim(args[0], a):
                raise UnitError("SNN302", f"{expr.name}() arguments must share a unit: {show(args[0])} "
                                f"and {show(a)}", node.span)
    return fn.fold(*args)


def initialiser_dim(spec: ir.Spec) -> Any:
    """A value in the unit an initialiser Spec produces (for unit checks), e.g. ``1 mA`` for
    ``kaiming_normal(mA)`` and ``1 ms`` for ``uniform(10 ms, 30 ms)``.

    Looks at the Spec's ``unit`` argument, then ``value``, ``mean`` and ``low``; a Spec with none of them gives
    the plain number ``1.0``. Only the unit of the result is meaningful.
    """
    unit = spec.arg("unit")
    if unit is not None:
        return u.Quantity(1.0, unit=unit)
    for name in ("value", "mean", "low"):
        v = spec.arg(name)
        if v is not None:
            return v
    return 1.0
