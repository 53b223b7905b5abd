"""Compiled models: the emitted module, executed in memory (the same text ``snndsl compile`` writes)."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import attrs

from snndsl import ir
from snndsl.compiler import compile_source
from snndsl.source import SourceFile


@attrs.frozen(eq=False)
class CompiledModel:
    """A checked, lowered model.

    * ``code``: the emitted Python module's text; ``module``: that module, executed;
    * ``program``: the checked IR (:class:`snndsl.ir.Program`); ``warnings``: diagnostics that did not stop it;
    * :meth:`network_class` / :meth:`network`: the brainstate module class of a network and a fresh instance;
    * :meth:`simulate`: run a network over inputs (see the emitted ``simulate``).
    """

    code: str
    module: types.ModuleType
    program: ir.Program
    warnings: tuple = ()

    def _net(self, name: str | None) -> ir.Network:
        """The IR of network ``name`` (the first when ``None``); ``ValueError``/``KeyError`` as documented
        on :meth:`network_class`."""
        nets = self.program.networks
        if not nets:
            raise ValueError("the model defines no network")
        if name is None:
            return nets[0]
        found = self.program.network(name)
        if found is None:
            raise KeyError(f"no network {name!r}; defined: {', '.join(n.name for n in nets)}")
        return found

    def network_class(self, name: str | None = None) -> type:
        """The emitted brainstate module class of network ``name`` (the first network when ``None``). Raises
        ``ValueError`` if the model defines no network and ``KeyError`` for an unknown name.
        """
        from snndsl.lower.emit import py_name
        return getattr(self.module, py_name(self._net(name).name))

    def network(self, name: str | None = None) -> Any:
        """A new instance of network ``name`` (the first when ``None``), parameters initialised from the current
        random state (seed it with ``brainstate.random.seed``). Raises as :meth:`network_class` does.
        """
        return self.network_class(name)()

    def ir(self, name: str | None = None) -> ir.Network:
        """The checked IR (:class:`snndsl.ir.Network`) of network ``name`` (the first when ``None``). Raises as
        :meth:`network_class` does.
        """
        return self._net(name)

    def simulate(self, net: Any, inputs=(), steps: int | None = None, batch_size: int | None = None,
                 record=(), thin=(), every: int = 1):
        """Run ``net`` from a fresh state for ``steps`` steps (default: the inputs' length) and return
        ``(outputs, records)``.

        ``inputs`` are time-major arrays, one per data input; ``batch_size`` ``None`` runs unbatched. ``record``
        names ``pop.var`` or ``pop`` (its spikes) as written in the model (the emitted code renames identifiers that
        clash with Python, e.g. ``u`` → ``u_``); ``records`` maps each name as given to its time-major array.
        Paths in ``thin`` are recorded only every ``every`` steps (the last step of each block).
        """
        from snndsl.lower.emit import py_name

        emitted = {p: ".".join(py_name(part) for part in p.split(".")) for p in (*record, *thin)}
        kwargs = {"thin": tuple(emitted[p] for p in thin), "every": every} if thin else {}
        outs, recs = self.module.simulate(net, inputs, steps=steps, batch_size=batch_size,
                                          record=tuple(emitted[p] for p in record), **kwargs)
        return outs, {p: recs[e] for p, e in emitted.items()}


def _execute(code: str, name: str) -> types.ModuleType:
    """``code`` executed as a fresh module (not entered in ``sys.modules``); ``name`` is its file name in
    tracebacks."""
    module = types.ModuleType(f"snndsl_compiled_{abs(hash(name))}")
    module.__file__ = name
    exec(compile(code, name, "exec"), module.__dict__)
    return module


def loads(text: str, path: str = "<string>") -> CompiledModel:
    """Compile model text (imports relative to the current directory) and execute the emitted module.

    Raises :class:`snndsl.diagnostics.SnnError` if the model does not check; warnings are kept in
    :attr:`CompiledModel.warnings`.
    """
    code, checked = compile_source(SourceFile(path, text))
    return CompiledModel(code, _execute(code, path), checked.program, checked.warnings)


def load(path: str | Path) -> CompiledModel:
    """Compile a ``.snn`` file and execute the emitted module (imports relative to the file).

    Raises :class:`snndsl.diagnostics.SnnError` if the model does not check, and ``OSError`` /
    ``UnicodeDecodeError`` if the file cannot be read.
    """
    code, checked = compile_source(SourceFile.read(path))
    return CompiledModel(code, _execute(code, str(path)), checked.program, checked.warnings)
