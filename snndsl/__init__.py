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
    "Checked": "api", "check_file": "api", "check_source": "api", "check_text": "api",
    "Diagnostic": "errors", "SnnError": "errors", "SourceFile": "source",
    "CompiledModel": "compiled", "load": "compiled", "loads": "compiled",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from .api import Checked, check_file, check_source, check_text
    from .compiled import CompiledModel, load, loads
    from .errors import Diagnostic, SnnError
    from .source import SourceFile


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'snndsl' has no attribute {name!r}")
