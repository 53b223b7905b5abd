"""Unit names and unit expressions → :mod:`snndsl.units` units, spelled as brainunit spells them (the resolver's
only contact with unit spelling)."""

from __future__ import annotations

from functools import lru_cache

from snndsl import units as u
from snndsl.syntax import ast
from snndsl.diagnostics import Diagnostics, did_you_mean

#: Units offered in did-you-mean hints (brainunit knows many more).
COMMON_UNITS = (
    "V", "mV", "uV", "s", "ms", "us", "ns", "second", "Hz", "kHz", "A", "mA", "uA", "nA", "pA", "ohm", "kohm",
    "Mohm", "Gohm", "S", "mS", "uS", "nS", "pS", "F", "uF", "nF", "pF", "M", "mM", "uM", "nM", "mol", "m", "cm",
    "mm", "um", "nm", "volt", "siemens", "farad", "hertz",
)


@lru_cache(maxsize=512)
def lookup(text: str):
    """The Unit spelled ``text`` (``mV``, ``nS/mm^2``, ``mS*cm^-2``), or ``None`` if it is not a unit.

    Empty text and names starting with ``_`` are never units; any exception the parser raises for an unknown
    spelling is swallowed. Cached (512 spellings).
    """
    if not text or text.startswith("_"):
        return None
    try:
        unit = u.Unit(text)
    except Exception:  # noqa: BLE001 - ValueError for an unknown spelling; TypeError, ArithmeticError for odd numbers
        return None
    return unit if isinstance(unit, u.Unit) else None


def shadows_unit(name: str) -> bool:
    """True for names of two or more characters that are also units (``ms``, ``nS``); single letters such as
    ``V``, ``g`` or ``A`` are ordinary variable names (write the unit inside a quantity: ``1 V``)."""
    return len(name) >= 2 and lookup(name) is not None


def unit_text(text: str, span, diags: Diagnostics):
    """The unit spelled ``text`` (the unit of a quantity, as lexed), or ``None`` after reporting SNN209 at
    ``span`` to ``diags``: the message names the first unknown part of a compound unit, and the hint suggests a
    close common unit, or explains that ``2 mV/tau`` is one glued unit when a part looks like a variable.
    """
    unit = lookup(text)
    if unit is None:
        bad = next((part for part in _parts(text) if lookup(part) is None), text)
        hint = did_you_mean(bad, COMMON_UNITS)
        if hint is None and bad != text:
            hint = (f"if `{bad}` is a variable, put spaces around the operator: a unit glued to a number "
                    "has no spaces inside, so `2 mV / tau` divides but `2 mV/tau` is one unit")
        diags.error("SNN209", f"unknown unit `{bad}`", span, hint or "units are written like mV, ms, nS/mm^2 or 1/ms")
    return unit


def _parts(text: str) -> list[str]:
    """The unit names in a compound unit's text, exponents dropped: ``nS/mm^2`` gives ``nS``, ``mm``."""
    out = []
    for piece in text.replace("*", "/").split("/"):
        out.append(piece.split("^")[0])
    return out


def unit_from_ast(node: ast.Unit, diags: Diagnostics):
    """A unit in type position (``mV``, ``1/ms``, ``nS/mm^2``) → Unit, or ``None`` after SNN209.

    ``1`` is the dimensionless unit, ``name^k`` the unit to the integer power ``k``, and ``a * b`` / ``a / b``
    combine left to right; every unknown name is reported (not just the first).
    """
    if isinstance(node, ast.UnitOne):
        return _one()
    if isinstance(node, ast.UnitName):
        return unit_text(node.ident.name, node.ident.span, diags)
    if isinstance(node, ast.UnitPow):
        base = unit_text(node.ident.name, node.ident.span, diags)
        return None if base is None else base ** node.exponent
    left, right = unit_from_ast(node.left, diags), unit_from_ast(node.right, diags)
    if left is None or right is None:
        return None
    return left * right if node.op == "*" else left / right


@lru_cache(maxsize=1)
def _one():
    return u.get_unit(1.0)


def dimensionless_unit():
    """The dimensionless Unit (``Unit("1")``), the unit of a plain number; made once and cached."""
    return _one()
