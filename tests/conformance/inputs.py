"""The deterministic inputs of the conformance models, the same arrays for snndsl and Brian2."""

from __future__ import annotations

import numpy as np


def step_current(steps: int, amplitudes, on: int, off: int) -> np.ndarray:
    """``[steps, len(amplitudes)]``: neuron ``i`` gets ``amplitudes[i]`` for steps ``on <= k < off``, else 0."""
    x = np.zeros((steps, len(amplitudes)))
    x[on:off] = np.asarray(amplitudes, np.float64)
    return x


def poisson_trains(steps: int, n: int, rate_hz: float, dt_ms: float, seed: int) -> list:
    """``n`` spike trains as sorted step indices in ``[1, steps - 2]``, Bernoulli per step with probability
    ``rate_hz * dt``, from numpy's generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    s = rng.random((steps, n)) < rate_hz * dt_ms * 1e-3
    s[0] = s[-1] = False
    return [np.flatnonzero(s[:, i]) for i in range(n)]


def spike_array(trains: list, steps: int) -> np.ndarray:
    """``[steps, len(trains)]`` 0/1: 1 at each train's steps."""
    x = np.zeros((steps, len(trains)))
    for i, t in enumerate(trains):
        x[t, i] = 1.0
    return x
