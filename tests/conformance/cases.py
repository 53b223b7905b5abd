"""The conformance cases: each .snn model with its inputs, populations, Brian2 twin and numpy reference
(docs/conformance.md).

:func:`brian2_run`, :func:`snn_run` and :func:`reference_run` simulate a case (each once per process);
:func:`measure` compares snndsl (or the numpy reference) with Brian2, ``{population: Comparison}``;
``python -m tests.conformance.cases`` prints the results table of docs/conformance.md.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Callable

import attrs
import numpy as np

from . import brian2_models as b2m
from . import inputs
from . import reference as ref
from .harness import Comparison, compare, run_snn


@attrs.frozen
class Case:
    """One conformance model: ``snn`` (file stem in tests/conformance), ``pops`` compared, ``make_inputs()``
    giving ``(snndsl data inputs, Brian2 arguments)``, ``brian2`` (a :mod:`brian2_models` function),
    ``reference`` (the :mod:`reference` function of the same arguments and a dtype),
    ``onsets`` (spikes are threshold crossings of a model without reset), ``slow`` (long Brian2 run),
    ``dt_ms``, ``steps``, ``rtol_v`` (the trace tolerance relative to the voltage range: :data:`RTOL_LINEAR`
    or :data:`RTOL_NONLINEAR`) and ``v_th`` (the threshold in mV; ``None`` where the inputs cannot keep every
    step clear of it, see :data:`MARGIN_MV`)."""

    snn: str
    pops: tuple
    make_inputs: Callable
    brian2: Callable
    reference: Callable
    dt_ms: float
    steps: int
    rtol_v: float
    v_th: float | None
    onsets: bool = False
    slow: bool = False


#: Trace tolerance of the linear models (LIF family, `exact`): float32 rounding stays near 1e-5 of the range.
RTOL_LINEAR = 1e-4
#: Trace tolerance of the nonlinear ones (Izhikevich, AdEx, HH under Euler / exponential Euler): the steep
#: upstroke before a spike amplifies float32 rounding, so two float32 implementations of Brian2's own equations
#: (tests/conformance/reference.py, snndsl) differ from Brian2 by up to 4.4e-4 and 2.2e-3 of the range on the
#: steps just before a spike, and by ~1e-5 after the reset (docs/conformance.md). Integration-order errors
#: are 0.35-0.9 of the range.
RTOL_NONLINEAR = 5e-3
#: The inputs keep the float64 trajectory at least this far from the threshold at every step (mV), ten times
#: the float32 error of V (~1e-4 mV): a step that ends closer is a tie float32 may break either way, and in a
#: periodically firing neuron a tie broken early repeats every period, one more step each time.
MARGIN_MV = 1e-3


def _lif_refractory():
    stim = inputs.step_current(3000, [0.15, 0.21, 0.3, 0.5, 0.8], on=200, off=2500)    # nA
    return (stim,), (stim,)


def _lif_expsyn():
    trains = inputs.poisson_trains(3000, 4, rate_hz=150.0, dt_ms=0.1, seed=10)
    return (inputs.spike_array(trains, 3000),), (trains, 3000)


def _izhikevich():
    stim = inputs.step_current(3000, [13.0, 15.0], on=100, off=2800)                    # mV/ms
    return (stim,), (stim,)


def _adex():
    stim = inputs.step_current(3000, [0.5, 0.8, 1.0], on=200, off=2800)                  # nA
    return (stim,), (stim,)


def _hh():
    stim = inputs.step_current(5000, [2.0, 7.0, 15.0], on=500, off=4500)                 # uA/cm^2
    return (stim,), (stim,)


def _ei_net():
    drive_e = np.tile(np.linspace(0.19, 0.3, 20), (3000, 1))                             # nA
    drive_i = np.tile(np.linspace(0.15, 0.22, 5), (3000, 1))
    return (drive_e, drive_i), (drive_e, drive_i)


CASES = {
    "lif_refractory": Case("lif_refractory", ("lif", "frac"), _lif_refractory, b2m.lif_refractory, ref.lif_refractory,
                           0.1, 3000, RTOL_LINEAR, -50.0),
    "lif_expsyn": Case("lif_expsyn", ("post",), _lif_expsyn, b2m.lif_expsyn, ref.lif_expsyn, 0.1, 3000, RTOL_LINEAR,
                       -50.0),
    "izhikevich": Case("izhikevich", ("rs", "ch", "fast"), _izhikevich, b2m.izhikevich, ref.izhikevich, 0.1, 3000,
                       RTOL_NONLINEAR, 30.0),
    "adex": Case("adex", ("adex",), _adex, b2m.adex, ref.adex, 0.1, 3000, RTOL_NONLINEAR, -40.4),
    "hh": Case("hh", ("hh",), _hh, b2m.hh, ref.hh, 0.01, 5000, RTOL_NONLINEAR, -20.0, onsets=True, slow=True),
    "ei_net": Case("ei_net", ("exc", "inh"), _ei_net, b2m.ei_net, ref.ei_net, 0.1, 3000, RTOL_LINEAR, None,
                   slow=True),
}


@functools.cache
def brian2_run(name: str) -> dict:
    """Case ``name`` simulated by Brian2, ``{population: Trace}``."""
    case = CASES[name]
    return case.brian2(*case.make_inputs()[1])


@functools.cache
def snn_run(name: str) -> dict:
    """Case ``name`` simulated by snndsl, ``{population: Trace}``."""
    case = CASES[name]
    return run_snn(case.snn, case.make_inputs()[0], case.pops, onsets=case.onsets)


@functools.cache
def reference_run(name: str, dtype: type) -> dict:
    """Case ``name`` simulated by the numpy reference in ``dtype``, ``{population: Trace}``."""
    case = CASES[name]
    return case.reference(*case.make_inputs()[1], dtype=dtype)


def measure(name: str, against: str = "snndsl") -> dict[str, Comparison]:
    """Compare case ``name``'s ``against`` run (``snndsl``, ``float64`` or ``float32``: the numpy reference)
    with Brian2, population by population."""
    got = snn_run(name) if against == "snndsl" else reference_run(name, getattr(np, against))
    b2 = brian2_run(name)
    return {p: compare(got[p], b2[p]) for p in CASES[name].pops}


def main(args) -> None:
    """Print a markdown row per population of each case in ``args`` (all when none); ``--against float32``
    (or ``float64``) compares the numpy reference instead of snndsl."""
    against = "snndsl"
    if args[:1] == ["--against"]:
        against, args = args[1], args[2:]
    print(f"| model | population | spikes ({against} / Brian2) | max spike-time difference | max abs dV | dV / range |")
    print("|---|---|---|---|---|---|")
    for name in args or CASES:
        t0 = time.time()
        for pop, c in measure(name, against).items():
            diff = "counts differ" if c.max_spike_steps is None else \
                f"{c.max_spike_steps} steps ({c.max_spike_steps * CASES[name].dt_ms:g} ms)"
            print(f"| {name} | {pop} | {sum(c.counts_snn)} / {sum(c.counts_b2)} | {diff} | "
                  f"{c.max_v_mv:.2g} mV | {c.rel_v:.1e} |", flush=True)
        print(f"<!-- {name}: {time.time() - t0:.1f} s -->", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
