"""Quantities: a mantissa (a Python number or a NumPy array) in a :class:`~snndsl.units.core.Unit`, with
brainunit's arithmetic.

The rules, as brainunit's ``Quantity`` has them: ``+``, ``-`` and comparisons need one dimension (a plain 0
fits any) and work in the left operand's unit, else :class:`UnitMismatchError`; ``*`` and ``/`` compose the
units and give a plain number when the result is dimensionless (``2 ms / 1 s`` is ``0.002``); ``**`` needs a
dimensionless exponent; ``float(q)`` only for a dimensionless scalar. :func:`get_unit`, :func:`get_mantissa`,
:func:`get_dim` and :func:`maybe_decimal` treat a plain number as a dimensionless quantity.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any, Callable

import numpy as np

from snndsl.units.core import DIMENSIONLESS, UNITLESS, Unit


class UnitMismatchError(Exception):
    """Operands of ``+``, ``-``, a comparison or a conversion with different dimensions (brainunit's
    ``UnitMismatchError``)."""


def _comparable(x: Any) -> bool:
    return isinstance(x, (Quantity, Unit, numbers.Number, np.ndarray, np.generic, list, tuple))


def _zero(m: Any) -> bool:
    if isinstance(m, (int, float, complex)):
        return m == 0
    if isinstance(m, (np.ndarray, np.generic)):
        arr = np.asarray(m)
        return arr.size > 0 and bool(np.all(arr == 0))
    return False


def ratio(u_from: Unit, u_to: Unit) -> float:
    """The number of ``u_to`` in one ``u_from`` (same dimension), as brainunit computes it."""
    try:
        return (u_from.factor / u_to.factor) * 10.0 ** (u_from.scale - u_to.scale)
    except OverflowError:
        return float("inf")


class Quantity:
    """``mantissa`` in ``unit``. ``Quantity(x)`` is dimensionless; ``Quantity(q)`` copies a quantity (in
    ``unit`` when given); ``Quantity(unit)`` is ``1 unit``; a list becomes a float64 array."""

    __slots__ = ("_mantissa", "_unit")
    __hash__ = None  # type: ignore[assignment]
    __array_ufunc__ = None      # NumPy defers to our operators: ``array * quantity`` is a Quantity

    def __init__(self, mantissa: Any, unit: Unit | str | None = UNITLESS):
        if isinstance(unit, str):
            unit = Unit(unit)
        if unit is None:
            unit = UNITLESS
        if isinstance(mantissa, Unit):
            unit, mantissa = mantissa, 1.0
        elif isinstance(mantissa, Quantity):
            if unit is UNITLESS:
                unit = mantissa.unit
            mantissa = mantissa.in_unit(unit).mantissa
        elif isinstance(mantissa, (list, tuple)):
            mantissa = np.asarray(mantissa, dtype=np.float64)
        self._mantissa, self._unit = mantissa, unit

    mantissa = property(lambda self: self._mantissa, doc="The number(s), in :attr:`unit`.")
    unit = property(lambda self: self._unit, doc="The unit.")
    dim = property(lambda self: self._unit.dim, doc="The dimension (SI exponent vector).")
    is_unitless = property(lambda self: self._unit.is_unitless)
    shape = property(lambda self: np.shape(self._mantissa))
    ndim = property(lambda self: np.ndim(self._mantissa))

    def to_decimal(self, unit: Unit = UNITLESS) -> Any:
        """The mantissa expressed in ``unit`` (same dimension, else :class:`UnitMismatchError`)."""
        if not isinstance(unit, Unit):
            raise TypeError(f"Expected a Unit, but got {unit}.")
        if unit.dim != self._unit.dim:
            raise UnitMismatchError(f"Cannot convert to the decimal number using a unit with different "
                                    f"dimensions. (units are {self._unit} and {unit}).")
        if unit.has_same_magnitude(self._unit):
            return self._mantissa
        return self._mantissa * ratio(self._unit, unit)

    def in_unit(self, unit: Unit, err_msg: str | None = None) -> Quantity:
        """This quantity in ``unit`` (same dimension, else :class:`UnitMismatchError`)."""
        if unit.dim != self._unit.dim:
            raise UnitMismatchError(err_msg or f"Cannot convert to a unit with different dimensions. "
                                    f"(units are {self._unit} and {unit}).")
        if unit.has_same_magnitude(self._unit):
            return Quantity(self._mantissa, unit=unit)
        return Quantity(self._mantissa * ratio(self._unit, unit), unit=unit)

    to = in_unit

    def __repr__(self) -> str:
        text = _format(self._mantissa)
        return f'Quantity({text}, "{self._unit}")' if str(self._unit) != "1" else f"Quantity({text})"

    def __str__(self) -> str:
        unit = str(self._unit)
        return _format(self._mantissa) + ("" if unit == "1" else f" {unit}")

    def __bool__(self) -> bool:
        return bool(self._mantissa)

    def __len__(self) -> int:
        return len(self._mantissa)

    def __getitem__(self, index: Any) -> Quantity:
        return Quantity(self._mantissa[index], unit=self._unit)

    def __float__(self) -> float:
        if self._unit.dim == DIMENSIONLESS and np.ndim(self._mantissa) == 0:
            return float(self.to_decimal())
        raise TypeError(f"Only dimensionless scalar quantities can be converted to Python scalars. But got {self}")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._unit.dim == DIMENSIONLESS:
            return np.asarray(self.to_decimal(), dtype=dtype)
        raise TypeError(f"Only dimensionless quantities can be converted to NumPy arrays. But got {self}")

    def __neg__(self) -> Quantity:
        return Quantity(-self._mantissa, unit=self._unit)

    def __pos__(self) -> Quantity:
        return Quantity(+self._mantissa, unit=self._unit)

    def __abs__(self) -> Quantity:
        return Quantity(abs(self._mantissa), unit=self._unit)

    def _aligned(self, other: Any, op: str) -> tuple[Quantity, Quantity]:
        """``(self, other)`` with other in self's unit (a plain zero takes the other's unit)."""
        other = _to_quantity(other)
        if other._unit.is_unitless and not self._unit.is_unitless and _zero(other._mantissa):
            return self, Quantity(other._mantissa, unit=self._unit)
        if self._unit.is_unitless and not other._unit.is_unitless and _zero(self._mantissa):
            return Quantity(self._mantissa, unit=other._unit), other
        return self, other.in_unit(self._unit, err_msg=f"Cannot calculate \n{self} {op} {other}, because units "
                                   f"do not match: {self._unit} != {other._unit}")

    def _add(self, other: Any, op: Callable, sym: str) -> Any:
        if isinstance(other, Unit):
            raise TypeError("Cannot add or subtract a Quantity and a bare Unit; attach a mantissa first.")
        if not _comparable(other):
            return NotImplemented
        a, b = self._aligned(other, sym)
        return Quantity(op(a._mantissa, b._mantissa), unit=a._unit)

    def __add__(self, other: Any) -> Any:
        return self._add(other, operator.add, "+")

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        return self._add(other, operator.sub, "-")

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, Unit):
            raise TypeError("Cannot add or subtract a Quantity and a bare Unit; attach a mantissa first.")
        return _to_quantity(other).__sub__(self)

    def _mul(self, other: Any, op: Callable, reflected: bool = False) -> Any:
        if not _comparable(other):
            return NotImplemented
        other = _to_quantity(other)
        a, b = (other, self) if reflected else (self, other)
        return maybe_decimal(Quantity(op(a._mantissa, b._mantissa), unit=op(a._unit, b._unit)))

    def __mul__(self, other: Any) -> Any:
        return self._mul(other, operator.mul)

    def __rmul__(self, other: Any) -> Any:
        return self.__mul__(other)

    def __truediv__(self, other: Any) -> Any:
        return self._mul(other, operator.truediv)

    def __rtruediv__(self, other: Any) -> Any:
        return self._mul(other, operator.truediv, reflected=True)

    def __pow__(self, other: Any) -> Any:
        if isinstance(other, Quantity):
            if other._unit.dim != DIMENSIONLESS:
                raise ValueError(f"Cannot calculate {self} ** {other}, the exponent has to be dimensionless")
            other = other.to_decimal()
        if self._unit.is_unitless:
            return self._mantissa ** other
        return maybe_decimal(Quantity(self._mantissa ** other, unit=self._unit ** other))

    def __rpow__(self, other: Any) -> Any:
        if self._unit.dim != DIMENSIONLESS:
            raise ValueError(f"Cannot calculate {other} ** {self}, the exponent has to be dimensionless")
        return other ** self.to_decimal()

    def _compare(self, other: Any, op: Callable, sym: str, raises: bool = True) -> Any:
        if not _comparable(other):
            return NotImplemented
        try:
            a, b = self._aligned(other, sym)
        except UnitMismatchError:
            if raises:
                raise UnitMismatchError(f"Cannot compare {self} {sym} {other}") from None
            shape = np.broadcast_shapes(np.shape(self._mantissa), np.shape(get_mantissa(other)))
            return np.full(shape, sym != "==", dtype=bool) if shape else sym != "=="
        return op(a._mantissa, b._mantissa)

    def __eq__(self, other: Any) -> Any:
        return self._compare(other, operator.eq, "==", raises=False)

    def __ne__(self, other: Any) -> Any:
        return self._compare(other, operator.ne, "!=", raises=False)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, operator.lt, "<")

    def __le__(self, other: Any) -> Any:
        return self._compare(other, operator.le, "<=")

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, operator.gt, ">")

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, operator.ge, ">=")


def _format(m: Any) -> str:
    """The mantissa as brainunit prints it (NumPy's array printing: ``2.``, ``[1. 2.]``)."""
    if np.ndim(m) == 0:
        return np.array_str(np.array([m])).replace("[", "").replace("]", "").strip()
    return np.array_str(np.asarray(m))


def _to_quantity(x: Any) -> Quantity:
    return x if isinstance(x, Quantity) else Quantity(x)


def get_unit(x: Any) -> Unit:
    """The unit of a quantity, a unit itself, ``UNITLESS`` for anything else."""
    if isinstance(x, Quantity):
        return x.unit
    return x if isinstance(x, Unit) else UNITLESS


def get_mantissa(x: Any) -> Any:
    """The mantissa of a quantity; anything else as it is."""
    return x.mantissa if isinstance(x, Quantity) else x


def get_dim(x: Any) -> tuple:
    """The dimension (SI exponent vector) of a quantity or unit; dimensionless for anything else."""
    if isinstance(x, (Quantity, Unit)):
        return x.dim
    return DIMENSIONLESS


def maybe_decimal(x: Any, unit: Unit | None = None) -> Any:
    """``x`` as a plain number in ``unit`` if given, else a plain number if dimensionless, else ``x``."""
    q = _to_quantity(x)
    if unit is not None:
        return q.to_decimal(unit)
    return q.to_decimal() if q.dim == DIMENSIONLESS else x


Unit.quantity = Quantity
