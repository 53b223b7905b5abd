"""Names for what the import writes: NIR node names made into snndsl identifiers."""

from __future__ import annotations

import re

#: Names the language reserves (see snndsl.resolve.models.RESERVED); an imported name that is one gets a `_`.
KEYWORDS = frozenset({"t", "dt", "time", "label", "target", "true", "false", "self"})


def safe_name(name: str, taken: set[str]) -> str:
    """``name`` as an identifier no other part of the file uses, added to ``taken``: characters other than
    letters, digits and ``_`` become ``_``, a leading digit gets an ``n``, and a ``_`` is appended while the
    result is reserved, names a unit (``ms``), is a name of Python or of the emitted module (which the emitted
    code would rename: ``input`` -> ``input_``) or is taken."""
    from snndsl.lower.emit import OWNED
    from snndsl.resolve.unit_names import shadows_unit
    s = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", str(name))).strip("_") or "n"
    if s[0].isdigit():
        s = "n" + s
    while s in KEYWORDS or shadows_unit(s) or s in taken or s in OWNED:
        s += "_"
    taken.add(s)
    return s


def camel(stem: str) -> str:
    """A file name stem as a network name: ``my-model_v2`` -> ``MyModelV2``."""
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", stem) if w) or "Imported"
