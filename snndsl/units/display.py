"""A unit's display string, as brainunit renders it (``str(unit)``, its ``ascii`` style).

What is shown (:func:`display_terms`): a dimensionless unit of magnitude 1 shows only its named dimensionless
atoms (``rad``) or ``1``; another dimensionless unit every term (``mV / V``); a single plain atom itself;
otherwise the unique automatic target of the same dimension and magnitude if there is one (``mV * nS`` →
``pA``, ``mV / mA`` → ``ohm``), else the terms (``mV / ms``). How (:func:`render`): the numerator's items
joined by `` * `` (``1`` when empty), then `` / `` and the denominator (parenthesised when it has several
items); exponents after ``^`` (``mm^2``, ``s^0.5``, ``m^(1/3)``); a prefactor as ``2 * 10^3``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from snndsl.units.core import DIMENSIONLESS, PRE_ONE, TABLE, Exp, Unit, derive_magnitude

_WRAP_CHARS = frozenset(" /*^()")


def display_terms(unit: Unit) -> tuple[tuple, tuple]:
    """``(terms, pre)`` to render (brainunit's ``Unit._display``)."""
    terms, pre = unit.terms, unit.pre
    if unit.dim == DIMENSIONLESS:
        if unit.scale == 0 and unit.factor == 1:
            named = tuple(t for t in terms if t[0].dim == DIMENSIONLESS)
            return (named, PRE_ONE) if named and derive_magnitude(named, PRE_ONE) == (0, 1) else ((), PRE_ONE)
        return terms, pre
    if any(t[0].dim == DIMENSIONLESS for t in terms) or (len(terms) == 1 and terms[0][1] == 1 and pre == PRE_ONE):
        return terms, pre
    targets = TABLE.auto.get((unit.dim, unit.scale, unit.factor))
    if targets is not None and len(targets) == 1:
        return ((targets[0], 1),), PRE_ONE
    if pre != PRE_ONE:
        scale, factor = derive_magnitude(terms, PRE_ONE)
        targets = TABLE.auto.get((unit.dim, scale, factor))
        if targets is not None and len(targets) == 1:
            return ((targets[0], 1),), pre
    return terms, pre


def format_exp(e: Exp) -> str:
    """An exponent: ``2``, ``0.5`` or ``(1/3)``."""
    if type(e) is int:
        return str(e)
    if isinstance(e, Fraction):
        return repr(float(e)) if 10 ** 6 % e.denominator == 0 else f"({e.numerator}/{e.denominator})"
    f = float(e)
    return str(int(f)) if f.is_integer() else repr(f)


def _number(x: Any) -> str:
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)
    return str(x)


def _symbol(symbol: str) -> str:
    return f"({symbol})" if not _WRAP_CHARS.isdisjoint(symbol) else symbol


def _item(symbol: str, e: Exp, wrap: bool) -> str:
    if e == 1:
        return _symbol(symbol) if wrap else symbol
    return f"{_symbol(symbol)}^{format_exp(e)}"


def render(unit: Unit) -> str:
    """``str(unit)``: brainunit's ASCII rendering (``nS / mm^2``, ``1 / (mM * ms)``, ``10^-3``)."""
    terms, (scale, factor) = display_terms(unit)
    pre = ([_number(factor)] if factor != 1 else []) + ([f"10^{_number(scale)}"] if scale != 0 else [])
    wrap = len(terms) + len(pre) > 1
    num = pre + [_item(a.symbol, e, wrap) for a, e in terms if e > 0]
    den = [_item(a.symbol, -e, wrap) for a, e in terms if e < 0]
    num_str = " * ".join(num) if num else "1"
    if not den:
        return num_str
    return f"{num_str} / {den[0] if len(den) == 1 else '(' + ' * '.join(den) + ')'}"


Unit.render = render
