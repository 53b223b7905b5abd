"""Units: dimensions, magnitudes and display names, the same as brainunit's, in pure Python.

A :class:`Unit` is ``factor * 10^scale`` times the SI unit of its dimension ``dim`` (the seven SI exponents of
m, kg, s, A, K, mol, cd, as ints or :class:`~fractions.Fraction`). It remembers how it was made, as ``terms``
(named atoms such as ``mV`` with exponents, in brainunit's canonical order) and a prefactor ``pre`` =
``(scale, factor)``: the display string is rendered from them exactly as brainunit renders it (``nS / mm^2``,
``1 / (mM * ms)``, ``mV * nS`` → ``pA``). Two units are equal when dimension, scale and factor are equal
(``A * ohm == V``), whatever their names.

Every name, atom and automatic simplification comes from ``table.json``, generated from the installed
brainunit by ``tools/gen_unit_table.py``; ``tests/test_units.py`` compares the table, parsing, arithmetic and
display strings with brainunit itself. The contract is exact agreement with brainunit's ``Unit``.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

#: A unit's exponent: int when integral, Fraction when rational (``s^0.5``), float only as a last resort.
Exp = int | Fraction | float
PRE_ONE = (0, 1.0)
DIMENSIONLESS: tuple = (0,) * 7


def norm_exp(e: Any) -> Exp:
    """An exponent as int, Fraction (exactly representable, denominator <= 10^6) or float, as brainunit
    normalises it; non-finite exponents raise ``ValueError``."""
    if type(e) is int:
        return e
    if isinstance(e, Fraction):
        return e.numerator if e.denominator == 1 else e
    if isinstance(e, numbers.Integral):
        return int(e)
    if isinstance(e, numbers.Real):
        f = float(e)
        if not math.isfinite(f):
            raise ValueError(f"Unit exponent must be finite; got {e!r}.")
        if f.is_integer():
            return int(f)
        fr = Fraction(f).limit_denominator(10 ** 6)
        return fr if float(fr) == f else f
    if getattr(e, "ndim", None) == 0:
        return norm_exp(e.item())
    raise TypeError(f"Unit exponent must be a real number; got {e!r}.")


def _mul_exp(a: Exp, b: Exp) -> Exp:
    return a * b if type(a) is int and type(b) is int else norm_exp(a * b)


def _add_exp(a: Exp, b: Exp) -> Exp:
    return a + b if type(a) is int and type(b) is int else norm_exp(a + b)


def _norm_scale(scale: Any) -> Any:
    if isinstance(scale, Fraction):
        return scale.numerator if scale.denominator == 1 else float(scale)
    return scale


def _pow(x: float, e: Exp) -> float:
    try:
        return x ** (e if type(e) is int else float(e))
    except OverflowError:
        raise ValueError(f"unit factor {x} ** {e} overflows the float range; reduce the exponent.") from None


class Atom:
    """A named unit symbol (``mV``, ``Hz``): ``symbol``, ``dim``, ``scale``, ``factor``; interned (one per
    table entry), ordered by ``sort_key`` as brainunit orders its atoms."""

    __slots__ = ("symbol", "dim", "scale", "factor", "sort_key", "_hash")

    def __init__(self, symbol: str, dim: tuple, scale: Any, factor: float):
        self.symbol, self.dim, self.scale, self.factor = symbol, dim, scale, factor
        self.sort_key = (symbol.casefold(), symbol, scale, factor, dim)
        self._hash = hash((symbol, dim, scale, factor))

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Atom({self.symbol!r})"


def _term_key(term: tuple) -> tuple:
    return (term[1] < 0, term[0].sort_key)


def combine_terms(ta: tuple, ea: Exp, tb: tuple = (), eb: Exp = 0) -> tuple:
    """The canonical terms of ``ta ** ea * tb ** eb``: exponents of one atom summed, zeros dropped, sorted by
    ``(exponent < 0, atom.sort_key)``."""
    acc: dict = {}
    for atom, e in ta:
        acc[atom] = e if ea == 1 else _mul_exp(e, ea)
    if eb != 0:
        for atom, e in tb:
            e2 = e if eb == 1 else (-e if eb == -1 else _mul_exp(e, eb))
            prev = acc.get(atom)
            acc[atom] = e2 if prev is None else _add_exp(prev, e2)
    return tuple(sorted(((a, e) for a, e in acc.items() if e != 0), key=_term_key))


def derive_magnitude(terms: tuple, pre: tuple) -> tuple:
    """``(scale, factor)`` of ``pre * prod(atom ** e)``, folded in canonical order (bit-identical to brainunit)."""
    scale, factor = pre
    for atom, e in terms:
        if atom.scale != 0:
            scale = scale + atom.scale * e
        if atom.factor != 1:
            factor = factor * _pow(atom.factor, e)
    return _norm_scale(scale), factor


def dim_combine(a: tuple, ea: Exp, b: tuple = DIMENSIONLESS, eb: Exp = 0) -> tuple:
    """The dimension ``a ** ea * b ** eb`` (exponent vectors, exact)."""
    return tuple(norm_exp(x * ea + y * eb) if (x or y) else 0 for x, y in zip(a, b))


class Unit:
    """A unit: ``dim``, ``scale`` (power of ten), ``factor``, and the ``terms`` / ``pre`` it displays from.

    ``Unit("nS/mm^2")`` parses a spelling as brainunit does (ValueError for an unknown one); ``Unit()`` is
    dimensionless. ``*``, ``/`` and ``**`` compose units; a unit times or divided by a number is a
    :class:`~snndsl.units.quantity.Quantity`. ``str(unit)`` is brainunit's ASCII display.
    """

    __slots__ = ("dim", "scale", "factor", "terms", "pre", "_str")
    __array_ufunc__ = None      # NumPy defers to our operators: ``array * unit`` is a Quantity
    base = 10.0
    #: Installed by the modules that define them (no import cycle): the parser (:mod:`snndsl.units.parse`),
    #: the renderer (:mod:`snndsl.units.display`) and the quantity class (:mod:`snndsl.units.quantity`).
    parse: Any = None
    render: Any = None
    quantity: Any = None

    def __new__(cls, text: str | None = None) -> Unit:
        if text is None:
            return UNITLESS
        if not isinstance(text, str):
            raise TypeError(f"Expected a unit spelling, but got {text!r}")
        return Unit.parse(text)

    @classmethod
    def make(cls, dim: tuple, scale: Any, factor: float, terms: tuple, pre: tuple) -> Unit:
        """A unit from its parts (no checks)."""
        u = object.__new__(cls)
        u.dim, u.scale, u.factor, u.terms, u.pre, u._str = dim, scale, factor, terms, pre, None
        return u

    @property
    def is_unitless(self) -> bool:
        """Dimensionless with scale 0 and factor 1 (``mV / V`` is dimensionless but not unitless)."""
        return self.dim == DIMENSIONLESS and self.scale == 0 and self.factor == 1.0

    @property
    def magnitude(self) -> float:
        """``factor * 10 ** scale`` (inf past the float range)."""
        try:
            return self.factor * self.base ** self.scale
        except OverflowError:
            return math.inf

    def has_same_dim(self, other: Unit) -> bool:
        """Whether ``other`` has this unit's dimension."""
        return self.dim == other.dim

    def has_same_magnitude(self, other: Unit) -> bool:
        """Whether ``other`` has this unit's scale and factor (so a mantissa needs no conversion)."""
        return self.scale == other.scale and self.factor == other.factor

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Unit):
            return NotImplemented
        return self.dim == other.dim and self.scale == other.scale and self.factor == other.factor

    def __ne__(self, other: Any) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self.dim, self.scale, self.factor))

    def __str__(self) -> str:
        if self._str is None:
            self._str = Unit.render(self)
        return self._str

    def __repr__(self) -> str:
        return f'Unit("{self}")'

    def __reduce__(self):
        return (_rebuild, (str(self), self.dim, self.scale, self.factor))

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, Unit):
            return compose(self, 1, other, 1)
        Quantity = Unit.quantity
        if isinstance(other, Quantity):
            return Quantity(other.mantissa, unit=self * other.unit)
        return Quantity(other, unit=self)

    def __rmul__(self, other: Any) -> Any:
        Quantity = Unit.quantity
        if isinstance(other, Quantity):
            return Quantity(other.mantissa, unit=other.unit * self)
        return Quantity(other, unit=self)

    def __truediv__(self, other: Any) -> Any:
        if isinstance(other, Unit):
            return compose(self, 1, other, -1)
        Quantity = Unit.quantity
        if isinstance(other, Quantity):
            return Quantity(1.0 / other.mantissa, unit=self / other.unit)
        return Quantity(1.0 / other, unit=self)

    def __rtruediv__(self, other: Any) -> Any:
        Quantity = Unit.quantity
        if isinstance(other, Quantity):
            return Quantity(other.mantissa, unit=other.unit / self)
        return Quantity(other, unit=compose(self, -1))

    def __pow__(self, other: Any) -> Unit:
        if isinstance(other, (numbers.Real, Fraction)) or getattr(other, "ndim", None) == 0:
            return compose(self, norm_exp(other))
        raise TypeError(f"unit cannot perform an exponentiation (unit ** other) with a non-scalar, "
                        f"since one unit cannot contain multiple units. \nBut we got unit={self}, other={other}")

    def __add__(self, other: Any):
        raise TypeError("Units cannot be added: addition is defined on quantities, not units. "
                        "To add quantities, attach mantissas first (e.g. 1*ms + 2*ms).")

    __radd__ = __add__

    def __sub__(self, other: Any):
        raise TypeError("Units cannot be subtracted: subtraction is defined on quantities, not "
                        "units. To subtract quantities, attach mantissas first (e.g. 2*ms - 1*ms).")

    __rsub__ = __sub__

    def __abs__(self) -> Unit:
        return self


def _rebuild(text: str, dim: tuple, scale: Any, factor: float) -> Unit:
    """Unpickle: the unit its display text parses to (same value), else an anonymous one."""
    try:
        unit = Unit(text)
        if unit.dim == dim and unit.scale == scale and unit.factor == factor:
            return unit
    except ValueError:
        pass
    return anonymous(dim, scale, factor)


def _pre_pow(pre: tuple, e: Exp) -> tuple:
    if e == 1 or pre == PRE_ONE:
        return pre
    scale, factor = _norm_scale(pre[0] * e), pre[1]
    return (scale, _pow(factor, e) if factor != 1 else factor)


@lru_cache(maxsize=4096)
def _compose_parts(ta: tuple, pa: tuple, da: tuple, ea: Exp, tb: tuple, pb: tuple, db: tuple, eb: Exp) -> tuple:
    terms = combine_terms(ta, ea, tb, eb)
    pre = _pre_pow(pa, ea)
    if pb != PRE_ONE:
        p2 = _pre_pow(pb, eb)
        pre = (pre[0] + p2[0], pre[1] * p2[1])
    scale, factor = derive_magnitude(terms, pre)
    return dim_combine(da, ea, db, eb), scale, factor, terms, pre


def compose(a: Unit, ea: Exp, b: Unit | None = None, eb: Exp = 0) -> Unit:
    """``a ** ea * b ** eb``, the one composition primitive (as brainunit's ``_compose``)."""
    if b is None:
        b, eb = UNITLESS, 0
    return Unit.make(*_compose_parts(a.terms, a.pre, a.dim, ea, b.terms, b.pre, b.dim, eb))


SI_BASE = ("m", "kg", "s", "A", "K", "mol", "cd")


def anonymous(dim: tuple, scale: Any, factor: float) -> Unit:
    """A unit with no name, displayed in SI base atoms (``Unit(DIMENSIONLESS, scale=3)`` shows ``10^3``)."""
    base = TABLE.si_atoms
    terms = combine_terms(tuple((base[i], d) for i, d in enumerate(dim) if d), 1)
    return Unit.make(dim, scale, factor, terms, (scale, factor))


def _exp(x: Any) -> Exp:
    return norm_exp(Fraction(x) if isinstance(x, str) else x)


class _Names(Mapping):
    """Spelling → Unit, each unit built from its table entry when first asked for (4000 names, few used)."""

    def __init__(self, raw: dict, atoms: list):
        self._raw, self._atoms, self._made = raw, atoms, {}

    def __getitem__(self, name: str) -> Unit:
        unit = self._made.get(name)
        if unit is None:
            terms, pscale, pfactor = self._raw[name]
            terms = tuple((self._atoms[i], _exp(e)) for i, e in terms)
            pre = (_exp(pscale), pfactor)
            dim = DIMENSIONLESS
            for a, e in terms:
                dim = dim_combine(dim, 1, a.dim, e)
            unit = self._made[name] = Unit.make(dim, *derive_magnitude(terms, pre), terms, pre)
        return unit

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


class _Table:
    """``table.json`` loaded on first use: ``atoms``, ``names`` (spelling → Unit), ``auto`` ((dim, scale,
    factor) → the atoms arithmetic collapses onto), ``si_atoms`` (m, kg, s, A, K, mol, cd), ``exported`` (the
    names the brainunit module exports as units: ``u.ms``)."""

    def __getattr__(self, name: str) -> Any:
        data = json.loads((Path(__file__).with_name("table.json")).read_text(encoding="utf-8"))
        atoms = [Atom(s, tuple(_exp(d) for d in dims), scale, factor) for s, dims, scale, factor in data["atoms"]]
        self.atoms = atoms
        self.names = _Names(data["names"], atoms)
        self.auto = {(tuple(_exp(d) for d in dims), _exp(scale), factor): [atoms[i] for i in idx]
                     for dims, scale, factor, idx in data["auto"]}
        self.si_atoms = tuple(self.names[s].terms[0][0] for s in SI_BASE)
        self.exported = frozenset(data["exported"])
        return getattr(self, name)


TABLE = _Table()
UNITLESS = Unit.make(DIMENSIONLESS, 0, 1.0, (), PRE_ONE)
