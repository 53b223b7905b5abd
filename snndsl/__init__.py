"""snndsl: a declarative language for spiking neural networks, compiled to brainstate / JAX.

Public API::

    model = snndsl.load("models/seed.snn")       # check, compile, execute the emitted module
    net = model.network()                         # a brainstate module
    outputs, records = model.simulate(net, (x,), record=("hidden.V",))
    checked = snndsl.check_file("models/seed.snn")  # the front end only: the checked IR, or SnnError

Names are imported lazily, so tools that need only the parser (``snndsl fmt``, the Pygments lexer) do not
start JAX.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Checked": "compiler", "check_file": "compiler", "check_source": "compiler", "check_text": "compiler",
    "Diagnostic": "diagnostics", "SnnError": "diagnostics", "SourceFile": "source",
    "CompiledModel": "runtime.model", "load": "runtime.model", "loads": "runtime.model",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from snndsl.compiler import Checked, check_file, check_source, check_text
    from snndsl.runtime.model import CompiledModel, load, loads
    from snndsl.diagnostics import Diagnostic, SnnError
    from snndsl.source import SourceFile


def __getattr__(name: str):
    """Import a public name on first use (PEP 562) from the module :data:`_EXPORTS` names, and cache it."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'snndsl' has no attribute {name!r}")
