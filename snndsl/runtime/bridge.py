"""The boundary between snndsl's units (:mod:`snndsl.units`, held by the IR) and brainunit's (held by a running
network): :func:`to_brainunit` and :func:`from_brainunit` convert units and quantities one way or the other.

A unit crosses as its display text, which both libraries render and parse alike (``tests/test_units.py``);
should a text not parse back to a unit of the same dimension, scale and factor, the unit is rebuilt from those
(its value is kept, only its name is lost). Mantissas cross unchanged, except that JAX arrays come back as
NumPy arrays. Anything else is returned as it is.
"""

from __future__ import annotations

from typing import Any

import brainunit as bu
import numpy as np

from snndsl import units


def _bu_dims(unit: Any) -> tuple[float, ...]:
    return tuple(float(d) for d in unit.dim._dims.tolist())


def to_brainunit(value: Any) -> Any:
    """A :class:`snndsl.units.Unit` or ``Quantity`` as brainunit's; anything else unchanged."""
    if isinstance(value, units.Quantity):
        return bu.Quantity(value.mantissa, unit=to_brainunit(value.unit))
    if not isinstance(value, units.Unit):
        return value
    if value.is_unitless:
        return bu.UNITLESS
    dims = tuple(float(d) for d in value.dim)
    try:
        out = bu.Unit(str(value))
        if _bu_dims(out) == dims and (out.scale, out.factor) == (value.scale, value.factor):
            return out
    except Exception:  # noqa: BLE001 - brainunit raises several types for text it cannot parse
        pass
    return bu.Unit(bu.get_or_create_dimension(list(dims)), scale=value.scale, factor=value.factor)


def from_brainunit(value: Any) -> Any:
    """A brainunit Unit or Quantity as snndsl's, a JAX array as a NumPy array (mantissas too); anything else
    unchanged."""
    import jax

    if isinstance(value, bu.Quantity):
        return units.Quantity(np.asarray(value.mantissa), unit=from_brainunit(value.unit))
    if isinstance(value, jax.Array):
        return np.asarray(value)
    if not isinstance(value, bu.Unit):
        return value
    if value.is_unitless:
        return units.UNITLESS
    dims = _bu_dims(value)
    try:
        out = units.Unit(str(value))
        if tuple(float(d) for d in out.dim) == dims and (out.scale, out.factor) == (value.scale, value.factor):
            return out
    except ValueError:
        pass
    from snndsl.units.core import anonymous, norm_exp
    return anonymous(tuple(norm_exp(d) for d in dims), value.scale, value.factor)
