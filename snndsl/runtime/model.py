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
    * :meth:`simulate`: run a network over inputs (see the emitted ``simulate``);
    * ``params``: a parameter folder, ``.npz`` or training run folder applied to every new instance
      (:meth:`load_params`).
    """

    code: str
    module: types.ModuleType
    program: ir.Program
    warnings: tuple = ()
    #: a parameter source (:func:`snndsl.runtime.params.apply_source`) applied to every new network instance
    params: Any = None

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

    def network(self, name: str | None = None, seed: int | None = None, params: Any = None) -> Any:
        """A new instance of network ``name`` (the first when ``None``), parameters initialised from brainstate's
        random state: seeded with ``seed`` first when given (the same seed, the same parameters, in any
        process), else its current state. Then the parameters of ``params`` (else of :attr:`params`) are
        applied (:meth:`load_params`). Raises as :meth:`network_class` and :meth:`load_params` do.
        """
        if seed is not None:
            import brainstate as bs
            bs.random.seed(seed)
        net = self.network_class(name)()
        source = params if params is not None else self.params
        if source is not None:
            self.load_params(net, source, name)
        return net

    def load_params(self, net: Any, source: Any, name: str | None = None) -> None:
        """Set parameters of ``net`` (an instance of network ``name``) from ``source``: a folder of ``.npy``
        files or an ``.npz`` named by parameter path (``pop.tau``, ``proj.w``, ``proj.syn.tau``), or a
        training run folder with its checkpoint ``params`` (:func:`snndsl.runtime.params.apply_source`).
        Raises :class:`snndsl.runtime.params.ParamsError` (a ``ValueError``) for a file that does not fit.
        """
        from snndsl.runtime.params import apply_source
        apply_source(self, net, source, name)

    def ir(self, name: str | None = None) -> ir.Network:
        """The checked IR (:class:`snndsl.ir.Network`) of network ``name`` (the first when ``None``). Raises as
        :meth:`network_class` does.
        """
        return self._net(name)

    def recordable(self, name: str | None = None) -> tuple[str, ...]:
        """The paths :meth:`simulate` can record in network ``name`` (:func:`snndsl.runtime.record.recordable`):
        ``pop``, ``pop.state`` and ``proj.state`` (a state of projection ``proj``'s synapse)."""
        from snndsl.runtime.record import recordable
        return tuple(recordable(self.program, self._net(name)))

    def simulate(self, net: Any, inputs=(), steps: int | None = None, batch_size: int | None = None,
                 record=(), seed: int | None = None, network: str | None = None, spikes=(),
                 outputs: bool = True, thin=(), every: int = 1, counts: bool = False):
        """Run ``net`` (an instance of network ``network``; ``None``: the network ``net`` is an instance
        of) from a fresh state for ``steps`` steps and return ``(outputs, records)``.

        ``inputs`` are time-major arrays ``[T, (batch,) size]``, one per data input (an input without an
        encoder), in declaration order; ``steps`` defaults to their length ``T`` and must be given for a
        network without data inputs. ``batch_size`` ``None`` runs unbatched. ``seed`` seeds brainstate's
        random state before the states are initialised, so initial states drawn from initialisers and
        encoders' random draws are the same in every run with that seed (``None``: the current state).
        ``record`` names paths as written in the model (:meth:`recordable`: ``pop``, ``pop.var``,
        ``proj.var``); ``records`` maps each to its time-major array. ``spikes`` names populations whose
        output (spikes) is recorded as booleans (``output != 0``, a quarter of float32's memory), keyed
        like ``record``, or with ``counts=True`` as each neuron's spike count over the run (``[(batch,)
        size]`` int32, accumulated in the loop, so no per-step spikes are kept); ``outputs=False`` keeps no
        outputs (``None``). Paths in ``thin`` are recorded only every ``every`` steps (the last step of each
        block), ``[T // every, ...]``.

        Raises ``ValueError`` for a wrong number of inputs, a missing ``steps``, inputs shorter than
        ``steps``, and :class:`snndsl.runtime.record.RecordError` (a ``ValueError``) for a path that names
        nothing recordable, listing the recordable ones.
        """
        from snndsl.lower.emit import py_name
        from snndsl.runtime.record import resolve_paths

        if network is None:   # the network `net` is an instance of (the first when none matches)
            network = next((n.name for n in self.program.networks
                            if isinstance(net, self.network_class(n.name))), None)
        netir = self._net(network)
        data = [x.name for x in netir.inputs if x.source is None]
        inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
        if len(inputs) != len(data):
            raise ValueError(f"{netir.name} takes {len(data)} data input{'s' if len(data) != 1 else ''}"
                             f"{' (' + ', '.join(data) + ')' if data else ''}, got {len(inputs)}")
        if steps is None:
            if not inputs:
                raise ValueError(f"{netir.name} has no data inputs: give the number of steps, "
                                 "simulate(net, steps=N)")
            steps = int(inputs[0].shape[0])
        elif any(int(x.shape[0]) < steps for x in inputs):
            raise ValueError(f"the inputs have {min(int(x.shape[0]) for x in inputs)} time steps; "
                             f"asked for {steps}")
        else:
            inputs = tuple(x[:steps] for x in inputs)
        emitted = resolve_paths(self.program, netir, record)
        thinned = resolve_paths(self.program, netir, thin)
        as_bool = {p: py_name(p) for p in spikes}
        kwargs = {"thin": tuple(thinned.values()), "every": every} if thin else {}
        if seed is not None:
            import brainstate as bs
            bs.random.seed(seed)
        outs, recs = self.module.simulate(net, inputs, steps=steps, batch_size=batch_size,
                                          record=tuple(dict.fromkeys(emitted.values())),
                                          spikes=tuple(as_bool.values()), outputs=outputs, counts=counts,
                                          **kwargs)
        return outs, {p: recs[e] for p, e in (emitted | thinned | as_bool).items()}


def set_precision(precision: str) -> None:
    """Make JAX create arrays of ``precision`` from now on: ``"float64"`` enables JAX's x64 mode
    (``jax.config.update("jax_enable_x64", True)``), ``"float32"`` disables it. It applies to the whole
    process and to arrays created afterwards (existing arrays keep their dtype), so it is set before a
    model's module is executed. Raises ``ValueError`` for another name."""
    from snndsl.ir.arrays import PRECISIONS
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    import jax
    jax.config.update("jax_enable_x64", precision == "float64")


def _prepare(program: ir.Program, precision: str | None) -> None:
    """Set JAX's precision before a module runs: ``precision`` when given, else float64 when a network of
    ``program`` asks for it (``precision = float64``); otherwise leave JAX as it is."""
    if precision is None and any(n.precision == "float64" for n in program.networks):
        precision = "float64"
    if precision is not None:
        set_precision(precision)


def _execute(code: str, name: str) -> types.ModuleType:
    """``code`` executed as a fresh module (not entered in ``sys.modules``); ``name`` is its file name in
    tracebacks."""
    module = types.ModuleType(f"snndsl_compiled_{abs(hash(name))}")
    module.__file__ = name
    exec(compile(code, name, "exec"), module.__dict__)
    return module


def loads(text: str, path: str = "<string>", precision: str | None = None, params: Any = None) -> CompiledModel:
    """Compile model text (imports and ``load(...)`` files relative to the current directory) and execute
    the emitted module.

    ``precision`` (``"float32"``/``"float64"``) sets JAX's float type first (:func:`set_precision`); by
    default a network's ``precision = float64`` enables x64 mode for the process. ``params`` (a parameter
    folder, ``.npz`` or training run folder) is applied to every network instance made by
    :meth:`CompiledModel.network`. Raises
    :class:`snndsl.diagnostics.SnnError` if the model does not check; warnings are kept in
    :attr:`CompiledModel.warnings`.
    """
    code, checked = compile_source(SourceFile(path, text))
    _prepare(checked.program, precision)
    return CompiledModel(code, _execute(code, path), checked.program, checked.warnings, params)


def load(path: str | Path, precision: str | None = None, params: Any = None) -> CompiledModel:
    """Compile a ``.snn`` file and execute the emitted module (imports relative to the file).

    ``precision`` as for :func:`loads`; ``params`` (a parameter folder, ``.npz`` or training run folder) is
    applied to every network instance made by :meth:`CompiledModel.network`. Raises :class:`snndsl.diagnostics.SnnError` if the model does not
    check, and ``OSError`` / ``UnicodeDecodeError`` if the file cannot be read.
    """
    code, checked = compile_source(SourceFile.read(path))
    _prepare(checked.program, precision)
    return CompiledModel(code, _execute(code, str(path)), checked.program, checked.warnings, params)
