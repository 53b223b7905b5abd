"""IR expressions → Python ``ast`` expressions over brainunit quantities.

This is where snndsl's own units (:mod:`snndsl.units`, which the IR holds) become brainunit's: values reach the
emitted code only as float/int/bool literals and units rendered as brainunit renders them (``20.0 * u.ms``,
``u.Unit('nS / mm^2')``, the same text, tested against brainunit), never as text from the ``.snn`` file, so a
model cannot inject code; the emitted module's brainunit builds the units from that text (lowering itself
imports no brainunit). Arithmetic is emitted as Python operators on brainunit quantities, which carry and check
the units at run time as the checks did statically; math functions and library-backed registry entries are called
through their :class:`~snndsl.registry.Target` (``u.math.exp``, ``bt.init.KaimingNormal``).
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any, Callable

import numpy as np

from snndsl import ir
from snndsl import units as u
from snndsl.ir.arrays import Loaded, is_array
from snndsl.lower import emit as E
from snndsl.registry import FUNCTIONS, INITIALISERS, REGISTRIES, Entry

_UNIT_TEXT = re.compile(r"^[A-Za-z0-9_^*/ .()\-]+$")

def unit_expr(unit: Any) -> ast_expr:
    """``u.ms`` where brainunit exports the unit under its name, else ``u.Unit('nS / mm^2')`` (the text
    brainunit renders for it, which brainunit parses back: ``u.Unit('1 / (mM * ms)') == 1 / (u.mM * u.ms)``).

    A dimensionless unit is ``u.UNITLESS``. The unit reaches the emitted code only as brainunit's own
    rendering, inside a string literal, and only when that text is made of letters, digits,
    ``_ ^ * / . - ( )`` and spaces; anything else
    raises ``ValueError`` (nothing from a .snn file is emitted as code).
    """
    text = str(unit)
    if text in ("", "1", "Unit(1)") or unit.is_unitless:
        return E.attr("u", "UNITLESS")
    if text.isidentifier() and u.exported_name(unit) == text:
        return E.attr("u", text)
    if not _UNIT_TEXT.match(text):
        raise ValueError(f"unexpected unit text {text!r}")
    return E.call(E.attr("u", "Unit"), E.const(text))


ast_expr = Any


def value_expr(value: Any) -> ast_expr:
    """A constant: ``20.0 * u.ms``, ``0.3``, ``3``, ``True`` (finite numbers only: checked upstream); an
    array as :func:`array_expr` emits it.

    A Quantity is its mantissa (a float) times :func:`unit_expr` of its unit, a dimensionless one just the
    float; a unit alone is :func:`unit_expr`. Raises ``ValueError`` for a non-finite number and
    ``TypeError`` for a value of another type.
    """
    if is_array(value):
        return array_expr(value)
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


def _nested(mant: np.ndarray) -> ast_expr:
    """A float array as nested list literals (finite numbers: checked upstream)."""
    if mant.ndim == 0:
        x = float(mant)
        if not math.isfinite(x):
            raise ValueError("non-finite constant")
        return E.const(x)
    return ast.List([_nested(row) for row in mant], ast.Load())


def array_expr(value: Any) -> ast_expr:
    """An array value: ``jnp.asarray([10.0, 20.0]) * u.ms`` for a literal (numbers as float literals, the
    dtype JAX's default float: float32, float64 with x64 enabled); for an array read from a file
    (:class:`snndsl.ir.arrays.Loaded`), ``_load_array('/abs/p.npz', 'tau', 'sha256...') * 1.0 * u.ms``: the
    emitted module reads the file by its path, checked against the digest taken when the model was
    checked, times the factor written in the model. Paths and keys are string literals, never code."""
    if isinstance(value, Loaded):
        path, key = value.source
        loaded = E.call("_load_array", E.const(path), E.const(key), E.const(value.digest))
        if isinstance(value.factor, float) and value.factor == 1.0:
            return loaded
        return E.binop("*", loaded, value_expr(value.factor))
    mant = np.asarray(u.get_mantissa(value), dtype=np.float64)
    literal = E.call(E.attr("jnp", "asarray"), _nested(mant))
    unit = u.get_unit(value)
    return literal if unit.is_unitless else E.binop("*", literal, unit_expr(unit))


def lower(expr: ir.Expr, ref: Callable[[ir.Ref], ast_expr]) -> ast_expr:
    """The ``ast`` of ``expr``; ``ref`` lowers each symbol (a local variable, ``self.x``, a port call...).

    The tree keeps its shape: ``BinOp`` and ``Neg`` map to Python's operators (``^`` to ``**``), constants
    to :func:`value_expr`, math functions to their registry target (:func:`function_call`). Arithmetic on
    brainunit quantities carries the units. Raises ``TypeError`` for a train-block node (``Field``).
    """
    if isinstance(expr, ir.Const):
        return value_expr(expr.value)
    if isinstance(expr, ir.Ref):
        return ref(expr)
    if isinstance(expr, ir.Neg):
        return E.neg(lower(expr.operand, ref))
    if isinstance(expr, ir.BinOp):
        return E.binop(expr.op, lower(expr.left, ref), lower(expr.right, ref))
    if isinstance(expr, ir.Func):
        return function_call(expr.name, [lower(a, ref) for a in expr.args])
    raise TypeError(type(expr).__name__)


def function_call(name: str, args: list[ast_expr]) -> ast_expr:
    """A math function of equations called on ``args``: its registry target (``u.math.exp(x)``), with the
    entry's ``extra`` constants appended (``heaviside(x)`` → ``u.math.heaviside(x, 1.0)``, H(0) = 1)."""
    entry = FUNCTIONS[name]
    return E.call(E.attr(*entry.target.parts), *args, *[E.const(c) for c in entry.traits.extra])


def target_call(entry: Entry, spec: ir.Spec) -> ast_expr:
    """A library-backed registry call (``relu_grad(alpha = 0.3)`` → ``bt.surrogate.ReluGrad(alpha=0.3)``):
    the entry's target called with the spec's arguments by name (``None`` ones left out); parameters the
    library takes together (:class:`snndsl.registry.Optimizer` ``grouped``) become one tuple argument, and
    parameters the library names otherwise (:class:`snndsl.registry.OnlineAlgorithm` ``keywords``) take its
    name."""
    grouped = dict(getattr(entry.traits, "grouped", ()) or ())
    members = {m: g for g, ms in grouped.items() for m in ms}
    keywords = dict(getattr(entry.traits, "keywords", ()) or ())
    kwargs: dict[str, ast_expr] = {}
    tuples: dict[str, list[ast_expr]] = {}
    for k, v in spec.args:
        if v is None:
            continue
        value = spec_arg(v)
        if k in members:
            tuples.setdefault(members[k], []).append(value)
        else:
            kwargs[keywords.get(k, k)] = value
    for g, values in tuples.items():
        kwargs[g] = ast.Tuple(values, ast.Load())
    return E.call(E.attr(*entry.target.parts), **kwargs)


def spec_arg(value: Any) -> ast_expr:
    """One argument of a library call: a nested library call (a schedule), a unit or a constant."""
    if isinstance(value, ir.Spec):
        return target_call(REGISTRIES[value.registry][value.name], value)
    if isinstance(value, u.Unit):
        return unit_expr(value)
    return value_expr(value)


def init_expr(value: Any) -> ast_expr:
    """An initialiser Spec → ``bt.init.X(...)``; a constant → itself (``bt.init.param`` accepts both)."""
    if isinstance(value, ir.Spec):
        return target_call(INITIALISERS[value.name], value)
    return value_expr(value)


def weight_init(value: Any) -> ast_expr:
    """A weight initialiser: an initialiser Spec, an array as itself (the weight matrix), or a constant as
    ``bt.init.Constant(value)``."""
    if isinstance(value, ir.Spec) or is_array(value):
        return init_expr(value)
    return E.call(E.attr("bt", "init", "Constant"), value_expr(value))
