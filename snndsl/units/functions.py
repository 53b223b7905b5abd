"""Unit-aware math on constants, as brainunit.math computes it (the registry folds ``min``, ``max``, ``clip``
and ``sqrt`` with these while checking): the result is in the first argument's unit, the others converted to
it (:class:`~snndsl.units.quantity.UnitMismatchError` for another dimension); plain numbers stay plain.
Numbers are float64 (brainunit.math computes in JAX's float32; only the unit of a folded value is used by the
checks, and a value that reaches the emitted code is a float literal either way)."""

from __future__ import annotations

from typing import Any

import numpy as np

from snndsl.units.quantity import Quantity, get_mantissa, get_unit


def _plain(x: Any) -> Any:
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


def _keep_unit(fn, x: Any, *others: Any) -> Any:
    """``fn`` of the mantissas, ``others`` converted to ``x``'s unit; a Quantity when any argument is one."""
    if not any(isinstance(a, Quantity) for a in (x, *others)):
        return _plain(fn(x, *others))
    unit = get_unit(x)
    rest = [Quantity(a).in_unit(unit).mantissa for a in others]
    return Quantity(_plain(fn(get_mantissa(x), *rest)), unit=unit)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of ``a`` and ``b``, in ``a``'s unit."""
    return _keep_unit(np.minimum, a, b)


def maximum(a: Any, b: Any) -> Any:
    """The larger of ``a`` and ``b``, in ``a``'s unit."""
    return _keep_unit(np.maximum, a, b)


def clip(x: Any, low: Any, high: Any) -> Any:
    """``x`` clipped to ``[low, high]``, in ``x``'s unit."""
    return _keep_unit(np.clip, x, low, high)


def sqrt(x: Any) -> Any:
    """The square root; of a quantity, in the square root of its unit (NaN for a negative number)."""
    with np.errstate(invalid="ignore"):
        if isinstance(x, Quantity):
            return Quantity(_plain(np.sqrt(x.mantissa)), unit=x.unit ** 0.5)
        return _plain(np.sqrt(x))
