"""Units and numbers as NIR files hold them.

NIR has no units: a node's fields are bare numbers. snndsl writes them in one coherent system (:data:`COHERENT`:
time in s, mV, mA, ohm, ...) so that ``r * I`` is in the unit of ``v`` and weights times signals need no
conversion factors, and names the unit of each field in the node's metadata (``metadata["units"]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.nir.errors import NirImportError, NotExpressible

#: The unit each dimension is written in inside a NIR file (first match wins).
COHERENT = (u.UNITLESS, u.mV, u.mA, u.ohm, u.siemens, u.second, u.Hz, u.ohm / u.second, u.mV / u.second,
            u.mA / u.second)


def coherent(unit: Any) -> Any:
    """The unit of :data:`COHERENT` with the dimension of ``unit``; :class:`NotExpressible` when none has it."""
    for c in COHERENT:
        if u.get_dim(c) == u.get_dim(unit):
            return c
    raise NotExpressible(f"values in {ir.show_unit(unit)} have no NIR counterpart")


def nice(unit: Any) -> Any:
    """:func:`coherent` where there is one, else ``unit`` itself."""
    try:
        return coherent(unit)
    except NotExpressible:
        return unit


def number(value: Any, unit: Any) -> np.ndarray:
    """``value`` (a quantity or a plain number) in ``unit``, as float64 numbers."""
    return np.asarray(u.Quantity(value).to_decimal(unit), dtype=np.float64)


def seconds(dt: Any) -> float:
    """A time step as a float in seconds: ``dt`` is a time quantity (snndsl's or brainunit's), or a plain number
    already in seconds."""
    if not isinstance(dt, (u.Quantity, int, float)):       # a brainunit quantity, given to the public API
        from snndsl.runtime.bridge import from_brainunit
        dt = from_brainunit(dt)
    return float(number(dt, u.second)) if isinstance(dt, u.Quantity) else float(dt)


def unit_text(unit: Any) -> str:
    """A unit as written in ``metadata["units"]`` (``mV``, ``ohm``, ``1``)."""
    return ir.show_unit(unit)


def parse_unit(text: str | None) -> Any:
    """The unit named in the metadata (``None``, ``""`` and ``"1"`` are dimensionless)."""
    return u.UNITLESS if text in (None, "", "1") else u.Unit(text)


def per_neuron(x: Any, n: int, what: str) -> np.ndarray:
    """A NIR field as ``n`` float64 values: one value is shared by the layer (other tools write scalars as
    shape ``(1,)``), ``n`` values are one per neuron, any other count raises :class:`NirImportError`."""
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size not in (1, n):
        raise NirImportError(f"{what} has {a.size} values for {n} neurons")
    return np.broadcast_to(a, (n,)).copy()
