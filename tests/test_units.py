"""snndsl.units against brainunit, its reference: the generated table is current, and every name, compound
spelling, unit arithmetic and display string, and quantity arithmetic agree exactly."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import brainunit as bu
import numpy as np
import pytest

from snndsl import units as su

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import gen_unit_table  # noqa: E402


def _same_unit(mine: su.Unit, ref) -> None:
    """Same dimension, scale, factor and display string."""
    assert tuple(float(d) for d in mine.dim) == tuple(float(d) for d in ref.dim._dims.tolist()), (mine, ref)
    assert (mine.scale, mine.factor) == (ref.scale, ref.factor), (mine, ref)
    assert str(mine) == str(ref)
    assert mine.is_unitless == ref.is_unitless


def test_table_is_generated_from_the_installed_brainunit():
    text = gen_unit_table.render(gen_unit_table.build())
    assert (ROOT / "snndsl" / "units" / "table.json").read_text(encoding="utf-8") == text, \
        "run tools/gen_unit_table.py"


def test_exported_names_are_brainunit_attributes():
    from snndsl.units.core import TABLE
    for name in TABLE.exported & set(TABLE.names):
        assert TABLE.names[name] == (lambda r: su.Unit(str(r)))(getattr(bu, name)), name
        _same_unit(TABLE.names[name], getattr(bu, name))
    assert su.exported_name(su.ms) == "ms" and su.exported_name(su.Unit("nS/mm^2")) is None


def test_every_name_parses_as_brainunit_parses_it():
    from snndsl.units.core import TABLE
    for name in TABLE.names:
        _same_unit(su.Unit(name), bu.Unit(name))


SPELLINGS = ["mV", "nS/mm^2", "mS*cm^-2", "mS * cm^-2", "1/ms", "1 / (mM * ms)", "uS", "Hz", "kHz", "ohm", "Mohm",
             "pF", "mM", "molar", "M", "volt", "second", "nA*Mohm", "mV/ms", "mV*nS", "ms^0.5", "s^-0.5", "m^(1/3)",
             "10^3 * m", "10^-3", "2 * mV", "µm", "μs", "Ω", "kΩ", "km/h", "mm²", "cm⁻²", "mV·ms", "rad/s",
             "cd",
             "cd*mV", "mV/V", "V/mV", "(mV/ms)^2", "mmHg", "degree", "Unit(\"mV\")", "1", "kg*m/s^2", "J/kg",
             "uF/cm^2", "mS/cm^2*mV", "nS / mm^2", "A*ohm", "mA/mV", "eV", "K", "mol/l", "meter"]


@pytest.mark.parametrize("text", SPELLINGS)
def test_spellings(text):
    _same_unit(su.Unit(text), bu.Unit(text))


@pytest.mark.parametrize("text", ["tau", "foo", "mV/", "^2", "m^", "()", "", "x2", "ms2x", "mV +", "0", "-2",
                                  "10^400", "_ms", "V_th", "gL", "E_L", "ms ms", "(mV", "mV)"])
def test_non_units_are_refused_by_both(text):
    def refused(make):
        try:
            make(text)
        except Exception:  # noqa: BLE001 - brainunit raises several types
            return True
        return False
    assert refused(su.Unit) == refused(bu.Unit)


COMMON = ["mV", "V", "ms", "second", "us", "Hz", "kHz", "mA", "nA", "pA", "uA", "ohm", "Mohm", "kohm", "nS", "mS",
          "uS", "siemens", "pF", "uF", "nF", "mM", "uM", "mm", "cm", "um", "meter", "cd", "mol", "kg", "K", "rad"]


def test_random_unit_arithmetic_and_display():
    rng = random.Random(20261202)
    for _ in range(1500):
        mine, ref = su.UNITLESS, bu.UNITLESS
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(COMMON)
            e = rng.choice([1, 1, 1, -1, 2, -2, 3, 0.5, -0.5])
            op = rng.choice("*/")
            a, b = su.Unit(name) ** e, bu.Unit(name) ** e
            mine, ref = (mine * a, ref * b) if op == "*" else (mine / a, ref / b)
        _same_unit(mine, ref)
        assert su.Unit(str(mine)) == mine if str(mine) != "1" else True


def _same(mine, ref) -> None:
    """A value of snndsl.units and one of brainunit agree: type (number or quantity), numbers, unit."""
    assert isinstance(mine, su.Quantity) == isinstance(ref, bu.Quantity), (mine, ref)
    if isinstance(ref, bu.Quantity):
        _same_unit(mine.unit, ref.unit)
        np.testing.assert_array_equal(np.asarray(mine.mantissa, np.float64), np.asarray(ref.mantissa, np.float64))
    else:
        np.testing.assert_array_equal(np.asarray(mine, np.float64), np.asarray(ref, np.float64))


def test_random_quantity_arithmetic():
    rng = random.Random(7)
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}
    for _ in range(1500):
        na, nb = rng.choice(COMMON[:12] + [None]), rng.choice(COMMON[:12] + [None])
        x, y = rng.choice([0.0, 1.0, 2.5, -3.0, 1e-3]), rng.choice([1.0, 2.5, -3.0, 7e3])
        qa, ra = (su.Quantity(x, unit=su.Unit(na)), bu.Quantity(x, unit=bu.Unit(na))) if na else (x, x)
        qb, rb = (su.Quantity(y, unit=su.Unit(nb)), bu.Quantity(y, unit=bu.Unit(nb))) if nb else (y, y)
        op = rng.choice(list(ops))
        try:
            ref = ops[op](ra, rb)
        except Exception:  # noqa: BLE001 - a unit mismatch
            with pytest.raises((su.UnitMismatchError, TypeError)):
                ops[op](qa, qb)
            continue
        _same(ops[op](qa, qb), ref)


def test_quantity_helpers_agree():
    for name in ["ms", "mV", "Hz", "nS/mm^2"]:
        for x in [2.0, np.array([1.0, 2.0])]:
            q, r = su.Quantity(x, unit=su.Unit(name)), bu.Quantity(x, unit=bu.Unit(name))
            _same(q ** 2, r ** 2)
            _same(-q, -r)
            _same(q * su.Unit(name) ** -1, r * bu.Unit(name) ** -1)
            assert np.all(q.to_decimal(su.Unit(name).__class__("second") if name == "ms" else q.unit)
                          == r.to_decimal(bu.second if name == "ms" else r.unit))
            _same(su.maybe_decimal(q / q), bu.maybe_decimal(r / r))
            assert su.get_dim(q) == su.get_dim(q * 2.0) and su.get_dim(1.0) == su.DIMENSIONLESS
    assert str(2.0 * su.ms) == "2. ms" and repr(1 / su.ms) == repr(1 / bu.ms)
    assert math.isnan(float((su.Quantity(1.0, unit=su.ms) * math.nan).mantissa))
    assert su.Quantity(0.0) == 0.0 and (1.0 * su.mV == 1.0 * su.ms) is False


def test_units_do_not_import_jax_or_brainunit():
    code = ("import sys; from snndsl import units as u; str(u.Unit('nS/mm^2') * u.ms); "
            "print(sorted(m for m in ('jax', 'brainunit', 'saiunit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("text", SPELLINGS)
def test_exported_name_is_brainunits_attribute_test(text):
    """Lowering spells a unit ``u.<name>`` exactly where brainunit's module attribute of that name equals it."""
    ref = bu.Unit(text)
    name = str(ref)
    expected = name if name.isidentifier() and isinstance(getattr(bu, name, None), bu.Unit) \
        and getattr(bu, name) == ref else None
    assert su.exported_name(su.Unit(text)) == expected


@pytest.mark.parametrize("text", SPELLINGS)
def test_bridge_converts_both_ways(text):
    from snndsl.runtime.bridge import from_brainunit, to_brainunit
    mine, ref = su.Unit(text), bu.Unit(text)
    _same_unit(mine, to_brainunit(mine))
    _same_unit(from_brainunit(ref), ref)
    q = to_brainunit(su.Quantity(np.array([1.5, 2.0]), unit=mine))
    assert isinstance(q, bu.Quantity) and q.unit == ref
    back = from_brainunit(bu.Quantity(np.array([1.5, 2.0]), unit=ref))
    assert isinstance(back, su.Quantity) and back.unit == mine and list(back.mantissa) == [1.5, 2.0]
    assert to_brainunit(3.0) == 3.0 and from_brainunit("x") == "x"
