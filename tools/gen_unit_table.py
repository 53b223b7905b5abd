"""Generate ``snndsl/units/table.json``, snndsl's unit names, from the installed brainunit (saiunit).

    python tools/gen_unit_table.py            # rewrite the table
    python tools/gen_unit_table.py --check    # exit 1 if the table differs from what brainunit gives

The table is data, never edited by hand: brainunit is the reference, and ``tests/test_units.py`` regenerates
it and compares. It holds

* ``atoms``: every named unit symbol a registered unit is made of, ``[symbol, dims, scale, factor]`` (``dims``
  the seven SI exponents m, kg, s, A, K, mol, cd; the unit is ``factor * 10^scale`` of the SI unit);
* ``names``: every spelling brainunit's parser accepts as one token (names, display names, the Unicode
  aliases ``µm``, ``Ω``) → ``[terms, pre_scale, pre_factor]``, ``terms`` being ``[[atom index, exponent]]``
  (an exponent ``"p/q"`` when fractional);
* ``auto``: the units arithmetic collapses onto (``mV * nS`` displays as ``pA``): ``[dims, scale, factor,
  [atom indices]]``, one entry per dimension and magnitude;
* ``exported``: the names the ``brainunit`` module exports as units (``u.ms``): emitted code may spell a unit
  as that attribute.
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "snndsl" / "units" / "table.json"


def _num(x):
    """An exponent or dimension as JSON: an int, a float, or ``"p/q"`` for a Fraction."""
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def build() -> dict:
    """The table, from the brainunit installed in this interpreter."""
    import brainunit
    from saiunit import _base_unit as b

    atoms, index = [], {}

    def atom(a) -> int:
        if a not in index:
            index[a] = len(atoms)
            atoms.append([a.symbol, [_num(d) for d in a.dim._dims.tolist()], a.scale, float(a.factor)])
        return index[a]

    def entry(unit) -> list:
        return [[[atom(a), _num(e)] for a, e in unit._terms], _num(unit._pre[0]), float(unit._pre[1])]

    names = {}
    for table in (b._unit_name_registry, b._symbol_aliases):
        for name in sorted(table):
            names.setdefault(name, entry(table[name]))
    auto = []
    for (dim, scale, base, factor), targets in sorted(b._auto_targets.items(), key=lambda kv: repr(kv[0])):
        assert base == 10.0
        auto.append([[_num(d) for d in dim._dims.tolist()], _num(scale), float(factor), [atom(a) for a in targets]])
    exported = sorted(n for n in dir(brainunit) if isinstance(getattr(brainunit, n), b.Unit))
    return {"brainunit": brainunit.__version__, "atoms": atoms, "names": names, "auto": auto, "exported": exported}


def render(table: dict) -> str:
    """The JSON text: one atom, name or target per line (diffs stay readable)."""
    lines = ["{", f'"brainunit": {json.dumps(table["brainunit"])},', '"atoms": [']
    lines += [json.dumps(a, ensure_ascii=False) + "," for a in table["atoms"]]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["],", '"names": {']
    lines += [f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}," for k, v in table["names"].items()]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["},", '"auto": [']
    lines += [json.dumps(a) + "," for a in table["auto"]]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["],", '"exported": [']
    ex = table["exported"]
    lines += [", ".join(json.dumps(n) for n in ex[i:i + 12]) + "," for i in range(0, len(ex), 12)]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the table on disk instead of writing")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = TABLE.exists() and TABLE.read_text(encoding="utf-8") == text
        print("unit table up to date" if same else f"{TABLE} differs from brainunit; run tools/gen_unit_table.py")
        return 0 if same else 1
    TABLE.write_text(text, encoding="utf-8")
    print(f"wrote {TABLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
