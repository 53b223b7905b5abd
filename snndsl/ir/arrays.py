"""Array values of the IR: a parameter, initial state, weight or bias may be an array of numbers (one per
neuron, or a weight matrix ``[n_pre, n_post]``), held as a :class:`snndsl.units.Quantity` whose mantissa is a
float64 NumPy array. An array read from a file is a :class:`Loaded` quantity, which remembers the file, so
the emitted module reads that file rather than carrying the numbers as a literal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snndsl import units as u


#: The float types a network may ask for (``precision = float64``); ``float64`` needs JAX's x64 mode.
PRECISIONS = ("float32", "float64")


def is_array(value: Any) -> bool:
    """Whether ``value`` is an array value (a Quantity or NumPy array of one or more dimensions)."""
    return isinstance(value, (u.Quantity, np.ndarray)) and np.ndim(u.get_mantissa(value)) > 0


def shape(value: Any) -> tuple[int, ...]:
    """The shape of a value's numbers: ``()`` for a single number, an initialiser or anything else."""
    return tuple(np.shape(u.get_mantissa(value))) if is_array(value) else ()


class Loaded(u.Quantity):
    """A quantity read from a file, possibly scaled: its numbers are the file's array times ``factor`` (a
    number or a scalar quantity: ``load("w.npy") * nA`` has factor ``1 nA``). ``source`` is ``(absolute path,
    key)`` (``key`` ``None`` for ``.npy``), ``digest`` the SHA-256 of the file's array as float64 bytes.
    Multiplying or dividing by a single number or quantity keeps the provenance; any other arithmetic gives a
    plain Quantity (then the numbers themselves are the value)."""

    __slots__ = ("source", "digest", "factor")

    def _scaled(self, result: Any, factor: Any) -> Any:
        """``result`` (this array scaled by ``factor``) as a :class:`Loaded` of the same file."""
        out = Loaded(u.get_mantissa(result), unit=u.get_unit(result))
        out.source, out.digest, out.factor = self.source, self.digest, factor
        return out

    def __mul__(self, other: Any) -> Any:
        result = u.Quantity.__mul__(self, other)
        return self._scaled(result, self.factor * other) if np.ndim(u.get_mantissa(other)) == 0 else result

    def __rmul__(self, other: Any) -> Any:
        result = u.Quantity.__rmul__(self, other)
        return self._scaled(result, other * self.factor) if np.ndim(u.get_mantissa(other)) == 0 else result

    def __truediv__(self, other: Any) -> Any:
        result = u.Quantity.__truediv__(self, other)
        return self._scaled(result, self.factor / other) if np.ndim(u.get_mantissa(other)) == 0 else result

    def __neg__(self) -> Any:
        return self._scaled(u.Quantity.__neg__(self), -self.factor)


