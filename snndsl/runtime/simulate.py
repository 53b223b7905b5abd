"""Simulation runs for ``snndsl run``: inputs, recording, firing rates, files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from snndsl.runtime.model import CompiledModel
from snndsl.fileio import atomic_savez, atomic_write_text
from snndsl.registry import INPUT_KINDS


class RunError(Exception):
    """A run cannot start (bad record path, bad data file); the message is for the user."""


@attrs.frozen
class RunResult:
    """What :func:`run` collected, as plain arrays (units dropped), time first: ``outputs`` by output name
    (``[steps, (batch,) size]``), ``records`` by ``pop.var``/``pop`` path, ``spikes`` of every spiking
    population, ``rates_hz`` each spiking population's mean firing rate, ``dt_ms`` the time step."""

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
    dt_s = float(net.dt.to_decimal(__import__("brainunit").second))
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
    """Values per step (and sample) of record ``path``: a population's size, or a plastic projection's
    per-connection (n_pre x n_post at most), per-pre or per-post state size."""
    name, _, var = path.partition(".")
    node = net_ir.node(name)
    if node is not None:
        return node.size
    pr = next(p for p in net_ir.projections if p.name == name)
    n_pre, n_post = net_ir.node(pr.pre).size, net_ir.node(pr.post).size
    per = model.program.model(pr.plasticity.model).state(var).per
    return {"pre": n_pre, "post": n_post}.get(per, n_pre * n_post)


def _plastic_state(model: CompiledModel, net_ir: Any, path: str) -> bool:
    """Whether ``path`` is ``PROJECTION.state`` of a projection with plasticity (its label, e.g. ``p.w``);
    raises :class:`RunError` when the projection has no such state."""
    label, _, var = path.partition(".")
    pr = next((p for p in net_ir.projections if p.name == label and p.plasticity is not None), None)
    if pr is None:
        return False
    m = model.program.model(pr.plasticity.model)
    if "->" in label:
        raise RunError(f"cannot record `{path}`: give the projection a label to record it "
                       f"(`connect p: {pr.pre} -> {pr.post}: ...`, then `--record p.{var}`)")
    if m.state(var) is None:
        raise RunError(f"cannot record `{path}`: {m.name} has no state `{var}` "
                       f"(states: {', '.join(s.name for s in m.states)})")
    return True


def run(model: CompiledModel, steps: int, network: str | None = None, record: tuple[str, ...] = (),
        batch: int | None = None, rate_hz: float = 10.0, seed: int = 0, data: str | None = None) -> RunResult:
    """Simulate network ``network`` (the first when ``None``) for ``steps`` steps from a fresh state seeded with
    ``seed``, on :func:`default_inputs`, and collect outputs, the ``record`` paths and every spiking
    population's spikes, as plain arrays (units dropped).

    ``rates_hz`` is each spiking population's mean firing rate, ``mean(spikes) / dt`` over steps, neurons and
    samples. When the records would hold more than :data:`RECORD_VALUES` values they are taken every k-th step
    only (``record_every``). A ``record`` path is ``pop.var``, ``pop``, or ``PROJECTION.state`` of a plastic
    projection (e.g. its
    weights ``p.w``). Raises :class:`RunError` for a ``record`` path that names no population or no state of its
    model, and as :func:`default_inputs` does.
    """
    import brainstate as bs
    import brainunit as u

    net_ir = model.ir(network)
    spiking = [p.name for p in net_ir.populations if model.program.model(p.model).spiking]
    for path in record:
        pop, _, var = path.partition(".")
        node = net_ir.node(pop)
        if node is None and _plastic_state(model, net_ir, path):
            continue
        if node is None or not hasattr(node, "model"):
            raise RunError(f"cannot record `{path}`: no population `{pop}` in {net_ir.name} "
                           f"(populations: {', '.join(p.name for p in net_ir.populations)})")
        m = model.program.model(node.model)
        if var and m.state(var) is None:
            raise RunError(f"cannot record `{path}`: {m.name} has no state `{var}` "
                           f"(states: {', '.join(s.name for s in m.states)})")
    bs.random.seed(seed)
    inputs = default_inputs(model, network, steps, batch, rate_hz, seed, data)
    net = model.network(network)
    total = steps * sum(_record_size(model, net_ir, p) for p in record)
    every = 1 if total <= RECORD_VALUES else -(-total // RECORD_VALUES)
    if every >= steps:
        every = 1
    thin = tuple(dict.fromkeys(record)) if every > 1 else ()
    paths = tuple(dict.fromkeys(([] if thin else list(record)) + spiking))
    outs, recs = model.simulate(net, tuple(inputs), steps=steps, batch_size=batch, record=paths, thin=thin,
                                every=every)
    outs = outs if isinstance(outs, tuple) else (outs,)

    def plain(v: Any) -> np.ndarray:
        return np.asarray(u.get_mantissa(v))

    outputs = {name: plain(v) for name, v in zip(net_ir.outputs, outs)}
    records = {p: plain(recs[p]) for p in record}
    spikes = {p: plain(recs[p]) for p in spiking}
    dt_ms = float(net_ir.dt.to_decimal(u.ms))
    rates = {p: float(s.mean() / (dt_ms / 1000.0)) for p, s in spikes.items()}
    from snndsl.lower.emit import py_name
    final = {}
    for pr in net_ir.projections:
        if pr.plasticity is not None:
            attr = py_name(pr.name) if "->" not in pr.name else f"{py_name(pr.pre)}_to_{py_name(pr.post)}"
            for st in model.program.model(pr.plasticity.model).states:
                final[f"{pr.name}.{st.name}"] = plain(getattr(getattr(net, attr), py_name(st.name)).value)
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
