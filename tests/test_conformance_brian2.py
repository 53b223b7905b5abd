"""Conformance with Brian2 (issue #12, "equations mean what they say"): six textbook models written from
scratch in both languages (tests/conformance/*.snn and tests/conformance/brian2_models.py), run on the same
deterministic inputs, Brian2 with its numpy target (no compiler needed).

For every population of every model:

* identical spike counts, per neuron;
* spike times within one step (for the LIF + exponential current synapse under `exact`, at dt = 0.1 ms over
  300 ms: within 0.1 ms, the issue's acceptance criterion);
* membrane traces within float32 tolerance: max |V_snndsl - V_Brian2| over every step at most 1e-4 of the range
  of V for the linear models and 5e-3 for Izhikevich, AdEx and HH, whose upstroke amplifies float32 rounding
  (snndsl runs in float32, Brian2 in float64; cases.RTOL_LINEAR, cases.RTOL_NONLINEAR).

A third party keeps the harness honest: plain numpy implementations of the same models in snndsl's documented
step order (tests/conformance/reference.py). In float64 they must agree with Brian2 to rounding (1e-9 of the
range, identical spikes), which checks the Brian2 twins and the step-order mapping; in float32 they must meet
the tolerances above, which shows the tolerances are reachable by float32 arithmetic alone.

The step-order mapping between the two simulators (when a spike is registered, when the reset applies, when a
synaptic event enters the state) and the measured numbers are in docs/conformance.md. Each model is simulated
once per session (cached in tests.conformance.cases); the long Brian2 runs (HH at dt = 0.01 ms, the E/I
network) are marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("brian2")

from .conformance import cases  # noqa: E402
from .conformance.brian2_models import Trace  # noqa: E402
from .conformance.harness import compare, spike_steps  # noqa: E402

SPIKE_STEPS = 1       # spike times agree within one step
RTOL_FLOAT64 = 1e-9   # the float64 numpy reference against Brian2


def measured(name: str, against: str = "snndsl") -> dict:
    """Case ``name``'s ``against`` run compared with Brian2 (each simulation once per session)."""
    return cases.measure(name, against)


#: Known differences of snndsl from Brian2, by ``case.population``, each measured (docs/conformance.md,
#: "Results"): strict, so a fix turns the xfail into a failure that asks for the entry's removal.
KNOWN = {
    "lif_refractory.frac": "a refractory period of 15.5 steps (1.55 ms at 0.1 ms) holds V for ceil(15.5) - 1 = 15 "
                           "steps after the spike step in snndsl (brainpy's t - t_spike < T), 14 in Brian2 "
                           "(timestep() rounds the period down): interspike intervals of 38 against 37 steps",
}


def _params():
    """One parameter per case (the reference checks), slow ones marked."""
    return [pytest.param(name, id=name, marks=[pytest.mark.slow] if case.slow else [])
            for name, case in cases.CASES.items()]


def _pop_params():
    """One parameter ``(case, population)`` per population (the snndsl checks), known differences xfailed."""
    return [pytest.param(name, pop, id=f"{name}.{pop}",
                         marks=([pytest.mark.slow] if case.slow else [])
                         + ([pytest.mark.xfail(strict=True, reason=KNOWN[f"{name}.{pop}"])]
                            if f"{name}.{pop}" in KNOWN else []))
            for name, case in cases.CASES.items() for pop in case.pops]


@pytest.mark.parametrize("name, pop", _pop_params())
def test_spike_counts(name, pop):
    c = measured(name)[pop]
    assert c.counts_snn == c.counts_b2, f"{name}.{pop}: {c.summary()}"
    assert sum(c.counts_b2) > 0, f"{name}.{pop} does not spike: the case tests nothing"


@pytest.mark.parametrize("name, pop", _pop_params())
def test_spike_times_within_one_step(name, pop):
    c = measured(name)[pop]
    assert c.max_spike_steps is not None and c.max_spike_steps <= SPIKE_STEPS, f"{name}.{pop}: {c.summary()}"


@pytest.mark.parametrize("name, pop", _pop_params())
def test_membrane_traces(name, pop):
    c = measured(name)[pop]
    assert c.rel_v <= cases.CASES[name].rtol_v, f"{name}.{pop}: {c.summary()}"


def test_lif_expsyn_exact_within_a_tenth_of_a_millisecond():
    """The acceptance criterion of issue #12: a LIF neuron and an exponential current synapse written naively
    (two models, `method exact`) reproduce Brian2's spike times within 0.1 ms over 300 ms."""
    case = cases.CASES["lif_expsyn"]
    assert case.steps * case.dt_ms == 300
    c = measured("lif_expsyn")["post"]
    assert c.counts_snn == c.counts_b2 and sum(c.counts_b2) >= 20, c.summary()
    assert c.max_spike_steps * case.dt_ms <= 0.1, c.summary()


@pytest.mark.parametrize("name", _params())
def test_float64_reference_is_brian2(name):
    """The numpy reference in float64 (snndsl's step order, written independently of both simulators) and
    Brian2 agree to rounding: the Brian2 twin and the step-order mapping say the same thing."""
    for pop, c in measured(name, "float64").items():
        assert c.counts_snn == c.counts_b2 and c.max_spike_steps == 0, f"{name}.{pop}: {c.summary()}"
        assert c.rel_v <= RTOL_FLOAT64, f"{name}.{pop}: {c.summary()}"


@pytest.mark.parametrize("name", _params())
def test_float32_reference_meets_the_tolerances(name):
    """The same reference in float32 meets every tolerance the snndsl runs are held to."""
    for pop, c in measured(name, "float32").items():
        assert c.counts_snn == c.counts_b2, f"{name}.{pop}: {c.summary()}"
        assert c.max_spike_steps <= SPIKE_STEPS, f"{name}.{pop}: {c.summary()}"
        assert c.rel_v <= cases.CASES[name].rtol_v, f"{name}.{pop}: {c.summary()}"


@pytest.mark.parametrize("name", [p for p in _params() if cases.CASES[p.values[0]].v_th is not None])
def test_inputs_keep_clear_of_the_threshold(name):
    """No step of the float64 trajectory ends within MARGIN_MV of the threshold, so float32 rounding cannot
    decide whether a spike happens. (Not for the E/I network: 180 spikes at ~0.25 mV per step make such a
    near-tie likely for any drive; there a tie broken differently moves one spike by one step.)"""
    case = cases.CASES[name]
    for pop, t in cases.reference_run(name, np.float64).items():
        margin = np.abs(t.v - case.v_th).min()
        assert margin >= cases.MARGIN_MV, f"{name}.{pop} ends a step {margin:.2g} mV from the threshold"


# ------------------------------------------------------------------------------ the harness itself

def test_spike_steps_and_onsets():
    s = np.array([[0, 1], [1, 1], [1, 0], [0, 0], [1, 1]], float)
    assert [list(x) for x in spike_steps(s)] == [[1, 2, 4], [0, 1, 4]]
    assert [list(x) for x in spike_steps(s, onsets=True)] == [[1, 4], [0, 4]]


def test_compare_reports_differences():
    v = np.linspace(-70, -50, 10)[:, None]
    ref = Trace((np.array([2, 7]),), v)
    same = compare(Trace((np.array([3, 7]),), v + 1e-4), ref)
    assert same.counts_snn == same.counts_b2 == (2,) and same.max_spike_steps == 1
    assert same.max_v_mv == pytest.approx(1e-4) and same.v_range_mv == pytest.approx(20)
    missing = compare(Trace((np.array([7]),), v), ref)
    assert missing.max_spike_steps is None and missing.counts_snn == (1,)
