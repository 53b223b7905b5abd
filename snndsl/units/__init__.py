"""snndsl's own units: the subset of brainunit's API the front end uses, in pure Python (NumPy allowed).

The front end (syntax, IR, resolution, checks) computes with :class:`Quantity` and :class:`Unit` from here, so
``snndsl check`` never imports brainunit (hence JAX). The names, scales, dimensions and display strings are
brainunit's: ``table.json`` is generated from it (``tools/gen_unit_table.py``) and ``tests/test_units.py``
compares parsing, arithmetic and display with brainunit. Lowering writes units as text in brainunit's spelling
(:func:`exported_name`, ``str(unit)``), which the emitted module's brainunit reads; a running network's values
and the IR's meet only in :mod:`snndsl.runtime.bridge`.

``units.ms``, ``units.mV``, ... are the units of those names (any name of the table, looked up on first use).
"""

from __future__ import annotations

from typing import Any

from snndsl.units import display, parse  # noqa: F401 - install the renderer and the parser on Unit
from snndsl.units.core import DIMENSIONLESS, UNITLESS, Unit
from snndsl.units.quantity import Quantity, UnitMismatchError, get_dim, get_mantissa, get_unit, maybe_decimal

__all__ = ["DIMENSIONLESS", "UNITLESS", "Quantity", "Unit", "UnitMismatchError", "get_dim", "get_mantissa",
           "exported_name", "get_unit", "maybe_decimal"]


def exported_name(unit: Unit) -> str | None:
    """The name under which the brainunit module exports exactly ``unit`` (``ms`` for ``u.ms``), or ``None``:
    the unit's display text when brainunit exports a unit of that name equal to it."""
    from snndsl.units.core import TABLE
    text = str(unit)
    named = TABLE.names.get(text) if text in TABLE.exported else None
    return text if named is not None and named == unit else None


def __getattr__(name: str) -> Any:
    """A unit by its name (``units.ms``); AttributeError for anything the table does not name."""
    from snndsl.units.core import TABLE
    unit = TABLE.names.get(name) if not name.startswith("_") else None
    if unit is None:
        raise AttributeError(f"module 'snndsl.units' has no attribute {name!r}")
    return unit
