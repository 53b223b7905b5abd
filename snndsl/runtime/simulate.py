"""Simulation runs for ``snndsl run``: inputs, recording, firing rates, files."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable, ContextManager

import attrs
import numpy as np

from snndsl import units
from snndsl.runtime.model import CompiledModel
from snndsl.fileio import atomic_savez, atomic_write_text
from snndsl.registry import INPUT_KINDS


class RunError(Exception):
    """A run cannot start (bad record path, bad data file); the message is for the user."""


@attrs.frozen
class RunResult:
    """What :func:`run` collected, as plain arrays (units dropped), time first: ``outputs`` by output name
    (``[steps, (batch,) size]``; booleans for a spiking population), ``records`` by ``pop.var``/``pop`` path,
    ``spikes`` of every spiking population (booleans), ``rates_hz`` each spiking population's mean firing rate,
    ``dt_ms`` the time step."""

    outputs: dict[str, np.ndarray]
    records: dict[str, np.ndarray]
    spikes: dict[str, np.ndarray]
    rates_hz: dict[str, float]
    dt_ms: float
    #: the records were taken every this many steps (1: every step; see :data:`RECORD_VALUES`)
    record_every: int = 1
    #: the state of every plastic projection at the end of the run, ``PROJECTION.STATE`` -> array
    final: dict = attrs.field(factory=dict)


#: The most values ``run`` records in all (per sample) before it records only every k-th step: a plastic
#: projection's weights over a long run would not fit in memory otherwise (1000 weights x 10^6 steps).
RECORD_VALUES = 10_000_000


def default_inputs(model: CompiledModel, network: str | None, steps: int, batch: int | None, rate_hz: float,
                   seed: int, data: str | None = None) -> list[np.ndarray]:
    """One time-major array per data input (inputs without an encoder), ``[steps, (batch,) channels]`` float32:
    from ``data`` (an .npz with ``x`` [samples, time, channels]; the first ``batch`` samples, or the first
    sample unbatched, and the first ``steps`` steps) or generated (Poisson spikes with probability
    ``rate_hz × dt`` per step for spike inputs, deterministic in ``seed``; zeros for current inputs).

    Raises :class:`RunError` if ``data`` cannot be read, does not fit a network with exactly one data input, or
    has fewer than ``steps`` steps.
    """
    net = model.ir(network)
    data_inputs = [x for x in net.inputs if x.source is None]
    if not data_inputs:
        return []
    shape_b = () if batch is None else (batch,)
    if data is not None:
        try:
            with np.load(data) as f:
                x = np.asarray(f["x"], dtype=np.float32)
        except (OSError, KeyError, ValueError) as e:
            raise RunError(f"cannot read input data from {data}: {e}") from None
        if len(data_inputs) != 1 or x.ndim != 3 or x.shape[2] != data_inputs[0].size:
            raise RunError(f"{data}: `x` must have shape [samples, time, {data_inputs[0].size}], got {x.shape}")
        n = batch or 1
        x = np.moveaxis(x[:n, :steps], 1, 0)
        if x.shape[0] < steps:
            raise RunError(f"{data} has only {x.shape[0]} time steps; asked for {steps}")
        return [x if batch is not None else x[:, 0]]
    rng = np.random.default_rng(seed)
    dt_s = float(net.dt.to_decimal(units.second))
    out = []
    for x in data_inputs:
        if INPUT_KINDS[x.kind].traits.spiking:
            out.append((rng.random((steps, *shape_b, x.size)) < rate_hz * dt_s).astype(np.float32))
        else:
            out.append(np.zeros((steps, *shape_b, x.size), np.float32))
    return out


def default_steps(model: CompiledModel, network: str | None = None) -> int:
    """The steps ``snndsl run`` simulates without ``--steps``: round(duration / dt) of the network's
    ``duration = ...``; :class:`RunError` when it declares none (or one shorter than a step)."""
    net_ir = model.ir(network)
    if net_ir.duration is None:
        raise RunError(f"give the number of steps (--steps N): network {net_ir.name} declares no "
                       "`duration = ...`")
    steps = round(float(net_ir.duration / net_ir.dt))
    if steps < 1:
        raise RunError(f"the duration of {net_ir.name} is shorter than one step")
    return steps


def _record_size(model: CompiledModel, net_ir: Any, path: str) -> int:
    """Values per step (and sample) of record ``path``: a population's size, a projection's synapse state's
    (n_post), or a plastic projection's per-connection (n_pre x n_post at most), per-pre or per-post state
    size."""
    name, _, var = path.partition(".")
    node = net_ir.node(name)
    if node is not None:
        return node.size
    pr = next(p for p in net_ir.projections if p.name == name)
    n_pre, n_post = net_ir.node(pr.pre).size, net_ir.node(pr.post).size
    if pr.plasticity is None or model.program.model(pr.plasticity.model).state(var) is None:
        return n_post                   # a state of the projection's synapse
    per = model.program.model(pr.plasticity.model).state(var).per
    return {"pre": n_pre, "post": n_post}.get(per, n_pre * n_post)


def run(model: CompiledModel, steps: int, network: str | None = None, record: tuple[str, ...] = (),
        batch: int | None = None, rate_hz: float = 10.0, seed: int = 0, data: str | None = None,
        params: str | None = None, phase: Callable[[str], ContextManager] | None = None,
        keep: bool = True) -> RunResult:
    """Simulate network ``network`` (the first when ``None``) for ``steps`` steps from a fresh state seeded with
    ``seed``, on :func:`default_inputs`, and collect outputs, the ``record`` paths and every spiking
    population's spikes, as plain arrays (units dropped).

    ``params`` (a parameter folder, ``.npz`` or training run folder) overrides the network's parameters
    (:func:`snndsl.runtime.params.apply_source`; its errors are :class:`RunError`).
    ``rates_hz`` is each spiking population's mean firing rate, ``mean(spikes) / dt`` over steps, neurons and
    samples. ``record`` paths are those of :func:`snndsl.runtime.record.recordable` (``pop``, ``pop.var``,
    ``proj.var`` for a state of a projection's synapse or of its plasticity, e.g. its weights ``p.w``). When the
    records would hold more than :data:`RECORD_VALUES` values they are taken every k-th step only
    (``record_every``). Raises :class:`RunError` for a path that names nothing recordable (listing what is), and
    as :func:`default_inputs` does. ``phase(name)``, when given, is a context manager around each part of the
    work: ``construction`` (inputs and the network), ``run`` (the simulation, compiled on its first call).
    Spikes come back as booleans. ``keep=False`` keeps no outputs and no spikes (both come back empty):
    each population's spikes are only counted inside the loop, for its rate (what ``snndsl run`` without
    ``--out`` prints), so nothing per step is stored.
    """
    import brainunit as u
    import jax

    from snndsl.runtime.record import RecordError, resolve_paths

    net_ir = model.ir(network)
    spiking = [p.name for p in net_ir.populations if model.program.model(p.model).spiking]
    try:
        resolve_paths(model.program, net_ir, record)
    except RecordError as exc:
        raise RunError(str(exc)) from None
    from snndsl.runtime.checkpoint import CheckpointError
    from snndsl.runtime.params import ParamsError
    phase = phase or (lambda name: contextlib.nullcontext())
    with phase("construction"):
        inputs = default_inputs(model, network, steps, batch, rate_hz, seed, data)
        try:
            net = model.network(network, seed=seed, params=params)
        except (ParamsError, CheckpointError) as exc:
            raise RunError(str(exc)) from None
    total = steps * sum(_record_size(model, net_ir, p) for p in record)
    every = 1 if total <= RECORD_VALUES else -(-total // RECORD_VALUES)
    if every >= steps:
        every = 1
    thin = tuple(dict.fromkeys(record)) if every > 1 else ()
    every_output_spikes = all(name in spiking for name in net_ir.outputs)
    with phase("run"):
        outs, recs = model.simulate(net, tuple(inputs), steps=steps, batch_size=batch,
                                    record=() if thin else tuple(record), seed=seed, network=network,
                                    spikes=tuple(spiking), outputs=keep and not every_output_spikes, thin=thin,
                                    every=every, counts=not keep)
        recs = jax.block_until_ready(recs)
    outs = outs if isinstance(outs, tuple) or outs is None else (outs,)

    def plain(v: Any) -> np.ndarray:
        return np.asarray(u.get_mantissa(v))

    dt_ms = float(net_ir.dt.to_decimal(units.ms))
    records = {p: plain(recs[p]) for p in record}
    if keep:
        spikes = {p: plain(recs[p]) for p in spiking}
        counted = {p: (np.count_nonzero(s), s.size) for p, s in spikes.items()}
        if every_output_spikes:
            outputs = {name: spikes[name] for name in net_ir.outputs}
        else:
            outputs = {name: spikes[name] if name in spiking else plain(v)
                       for name, v in zip(net_ir.outputs, outs)}
    else:
        spikes, outputs = {}, {}
        tallies = {p: plain(recs[p]) for p in spiking}         # spikes per neuron (and sample) over the run
        counted = {p: (int(c.sum()), c.size * steps) for p, c in tallies.items()}
    rates = {p: float(n / size / (dt_ms / 1000.0)) if size else 0.0 for p, (n, size) in counted.items()}
    from snndsl.lower.emit import py_name
    from snndsl.lower.network import NetworkLowering
    attrs = NetworkLowering(model.program, net_ir).attr       # the emitted attribute of each projection
    final = {}
    for pr in net_ir.projections:
        if pr.plasticity is not None:
            for st in model.program.model(pr.plasticity.model).states:
                final[f"{pr.name}.{st.name}"] = plain(getattr(getattr(net, attrs[pr.name]), py_name(st.name)).value)
    return RunResult(outputs, records, spikes, rates, dt_ms, every, final)


def write(result: RunResult, out: Path) -> list[Path]:
    """Write ``result`` under ``out`` (created if needed) and return the paths written, each atomically:
    ``record.npz`` (arrays ``output.NAME``, ``record.PATH``, ``spikes.POP``, and ``final.PROJECTION.STATE``: the
    plastic projections' states at the end, e.g. the learned weights), ``summary.json`` (dt, firing
    rates, step count), ``raster.png`` (with spiking populations) and ``traces.png`` (with records).
    """
    from snndsl.runtime import plots

    out.mkdir(parents=True, exist_ok=True)
    arrays = {f"output.{k}": v for k, v in result.outputs.items()}
    arrays |= {f"record.{k}": v for k, v in result.records.items()}
    arrays |= {f"spikes.{k}": v for k, v in result.spikes.items()}
    arrays |= {f"final.{k}": v for k, v in result.final.items()}
    files = [atomic_savez(out / "record.npz", **arrays)]
    summary = {"dt_ms": result.dt_ms, "firing_rate_hz": result.rates_hz, "record_every": result.record_every,
               "steps": int(next(iter(arrays.values())).shape[0]) if arrays else 0}
    files.append(atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n"))
    if result.spikes:
        files.append(plots.raster(result.spikes, result.dt_ms, out / "raster.png"))
    if result.records:
        files.append(plots.traces(result.records, result.dt_ms * result.record_every, out / "traces.png"))
    return files
