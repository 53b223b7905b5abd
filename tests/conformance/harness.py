"""Running a conformance model in snndsl and comparing it with its Brian2 twin (docs/conformance.md).

snndsl side: :func:`run_snn` compiles ``tests/conformance/NAME.snn``, simulates its network unbatched on the
given data inputs and returns a :class:`~tests.conformance.brian2_models.Trace` per population: the spike
steps (the steps whose output is 1, or with ``onsets`` the first step of each run of 1s, for a model without
reset) and the membrane state ``V`` in mV after each step's integration.

Comparison: :func:`compare` measures spike counts, the largest spike-time difference in steps (spikes paired
in order, only when the counts agree) and the largest membrane-trace difference in mV, also relative to the
range of the Brian2 trace.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from .brian2_models import Trace

HERE = Path(__file__).resolve().parent


@attrs.frozen
class Comparison:
    """How one population of an snndsl run differs from Brian2's.

    ``counts_snn`` / ``counts_b2``: spikes per neuron; ``max_spike_steps``: the largest |step difference| of
    paired spikes (``None`` when some count differs); ``max_v_mv``: the largest |V difference| over every step
    and neuron; ``v_range_mv``: max - min of Brian2's trace; ``rel_v`` = ``max_v_mv / v_range_mv``.
    """

    counts_snn: tuple
    counts_b2: tuple
    max_spike_steps: int | None
    max_v_mv: float
    v_range_mv: float

    @property
    def rel_v(self) -> float:
        """The largest trace difference relative to the voltage range."""
        return self.max_v_mv / self.v_range_mv

    def summary(self) -> str:
        """One line for failure messages and the results table."""
        return (f"spikes {sum(self.counts_snn)} (snndsl) / {sum(self.counts_b2)} (Brian2), per neuron "
                f"{list(self.counts_snn)} / {list(self.counts_b2)}; max spike-time difference "
                f"{self.max_spike_steps} steps; max |dV| {self.max_v_mv:.3g} mV = {self.rel_v:.2g} of the range")


def spike_steps(s: np.ndarray, onsets: bool = False) -> tuple:
    """Per neuron, the steps where ``s`` (``[steps, neurons]``, 0/1) is 1; with ``onsets`` only the first step
    of each run of 1s (an upward threshold crossing of a model without reset)."""
    s = np.asarray(s) > 0.5
    if onsets:
        s = s & ~np.concatenate([np.zeros_like(s[:1]), s[:-1]])
    return tuple(np.flatnonzero(s[:, i]) for i in range(s.shape[1]))


def run_snn(name: str, inputs: tuple, pops: tuple, onsets: bool = False) -> dict:
    """Simulate ``NAME.snn``'s network on ``inputs`` (float32 ``[steps, channels]`` arrays, one per data
    input in declaration order) and return ``{pop: Trace}`` for each population of ``pops``."""
    import brainstate
    import brainunit as u

    import snndsl

    model = snndsl.load(HERE / f"{name}.snn")
    brainstate.random.seed(0)
    net = model.network()
    record = tuple(pops) + tuple(f"{p}.V" for p in pops)
    _, rec = model.simulate(net, tuple(np.asarray(x, np.float32) for x in inputs), record=record)
    out = {}
    for p in pops:
        v = rec[f"{p}.V"]
        v = np.asarray(v.to_decimal(u.mV) if hasattr(v, "to_decimal") else v, np.float64)
        out[p] = Trace(spike_steps(np.asarray(rec[p]), onsets), v)
    return out


def compare(snn: Trace, b2: Trace) -> Comparison:
    """The :class:`Comparison` of one population's snndsl and Brian2 results (same steps and neurons)."""
    counts_s = tuple(len(x) for x in snn.spikes)
    counts_b = tuple(len(x) for x in b2.spikes)
    max_steps = None
    if counts_s == counts_b:
        diffs = [np.abs(a - b).max() for a, b in zip(snn.spikes, b2.spikes) if len(a)]
        max_steps = int(max(diffs, default=0))
    assert snn.v.shape == b2.v.shape, (snn.v.shape, b2.v.shape)
    return Comparison(counts_s, counts_b, max_steps, float(np.abs(snn.v - b2.v).max()),
                      float(b2.v.max() - b2.v.min()))
