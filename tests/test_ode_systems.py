"""ODE systems (issue #12): simultaneous integration, the exact propagator, synapse fusion, refractory steps,
per-population choices — each against a closed form or a hand-computed step."""

from __future__ import annotations

import math

import brainstate as bs
import brainunit as u
import jax
import numpy as np
import pytest

import snndsl

mant = lambda x: np.asarray(u.get_mantissa(x), np.float64)   # noqa: E731

COUPLED = """\
neuron Two {
    param tau_a: ms = 10 ms
    param tau_b: ms = 4 ms
    param R: ohm = 1 ohm
    input I: mA
    state a: mV = 0 mV
    state b: mV = 1 mV
    da/dt = (-a + b + R * I) / tau_a
    db/dt = -b / tau_b
    method exact
}
network N {
    dt = 0.5 ms
    input x: current[1] mA
    pop distinct = Two(1)
    pop equal = Two(1, tau_b = 10 ms)
    connect x -> distinct: one_to_one(w = 1)
    connect x -> equal: one_to_one(w = 1)
    output distinct, equal
}
"""


@pytest.fixture(scope="module")
def coupled():
    model = snndsl.loads(COUPLED, "coupled.snn")
    x = np.full((40, 1), 0.3, np.float32)
    _, rec = model.simulate(model.network(), (x,), record=("distinct.a", "distinct.b", "equal.a", "equal.b"))
    return {k: mant(v)[:, 0] for k, v in rec.items()}


def test_exact_propagator_of_two_coupled_odes_with_distinct_time_constants(coupled):
    # a(0) = 0, b(0) = 1 mV, constant R I = 0.3 mV:
    #   b = e^{-t/tb};  a = tb / (tb - ta) (e^{-t/tb} - e^{-t/ta}) + R I (1 - e^{-t/ta})
    t = 0.5 * np.arange(1, 41)
    ta, tb = 10.0, 4.0
    a = tb / (tb - ta) * (np.exp(-t / tb) - np.exp(-t / ta)) + 0.3 * (1 - np.exp(-t / ta))
    np.testing.assert_allclose(coupled["distinct.b"], np.exp(-t / tb), rtol=2e-6)
    np.testing.assert_allclose(coupled["distinct.a"], a, rtol=1e-5, atol=1e-7)


def test_exact_propagator_with_equal_time_constants_is_the_alpha_form(coupled):
    # tb = ta = tau: a = (t / tau) e^{-t/tau} + R I (1 - e^{-t/tau}); a singular difference, no division by 0
    t = 0.5 * np.arange(1, 41)
    a = t / 10.0 * np.exp(-t / 10.0) + 0.3 * (1 - np.exp(-t / 10.0))
    np.testing.assert_allclose(coupled["equal.a"], a, rtol=1e-5, atol=1e-7)


IZH = """\
import Izhikevich from "std"
neuron IzhEuler {
    param a: 1/ms = 0.02 / ms
    param b: 1/ms = 0.2 / ms
    input I: mV/ms
    state V: mV = -65 mV
    state u: mV/ms = 0 mV/ms
    dV/dt = 0.04 / (ms * mV) * V * V + 5 / ms * V + 140 mV/ms - u + I
    du/dt = a * (b * V - u)
    spike when V >= 30 mV
    method euler
}
network N {
    dt = 0.5 ms
    input x: current[1] mV/ms
    pop seq = Izhikevich(1, V = -60 mV, u = -12 mV/ms)
    pop sim = Izhikevich(1, V = -60 mV, u = -12 mV/ms, method = exp_euler)
    pop eul = IzhEuler(1, V = -60 mV, u = -12 mV/ms)
    connect x -> seq: one_to_one(w = 1)
    connect x -> sim: one_to_one(w = 1)
    connect x -> eul: one_to_one(w = 1)
    output seq, sim, eul
}
"""


def test_izhikevich_one_step_simultaneous_and_sequential_against_numpy():
    model = snndsl.loads(IZH, "izh.snn")
    _, rec = model.simulate(model.network(), (np.full((1, 1), 10.0, np.float32),),
                            record=tuple(f"{p}.{v}" for p in ("seq", "sim", "eul") for v in ("V", "u")))
    got = {k: float(mant(v)[0, 0]) for k, v in rec.items()}
    dt, a, b, V, U, I = 0.5, 0.02, 0.2, -60.0, -12.0, 10.0
    fV = lambda v, uu: 0.04 * v * v + 5 * v + 140 - uu + I   # noqa: E731
    jV = 0.08 * V + 5                                           # dfV/dV, exponential Euler's linearisation
    V1 = V + math.expm1(jV * dt) / jV * fV(V, U)
    fu = lambda v: a * (b * v - U)                              # noqa: E731
    u_seq = U + math.expm1(-a * dt) / -a * fu(V1)               # sequential: du/dt sees the new V
    u_sim = U + math.expm1(-a * dt) / -a * fu(V)                # simultaneous: the old V
    assert got["seq.V"] == pytest.approx(V1, rel=1e-5) and got["sim.V"] == pytest.approx(V1, rel=1e-5)
    assert got["seq.u"] == pytest.approx(u_seq, rel=1e-5)
    assert got["sim.u"] == pytest.approx(u_sim, rel=1e-5)
    assert abs(u_seq - u_sim) > 1e-3                            # the two orders differ visibly here
    assert got["eul.V"] == pytest.approx(V + dt * fV(V, U), rel=1e-5)
    assert got["eul.u"] == pytest.approx(U + dt * fu(V), rel=1e-5)


FUSED = """\
import Expon from "std"
neuron LIFn {
    param tau: ms = 10 ms
    param R: ohm = 1 ohm
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + R * I) / tau
    spike when V >= 1000 mV
    reset hard V = 0 mV
    method exact
}
network N {
    dt = 0.1 ms
    input x: spikes[1]
    pop fused = LIFn(1)
    pop frozen = LIFn(1, method = exp_euler)
    connect x -> fused: one_to_one(w = 30 mA), synapse = Expon(tau = 5 ms)
    connect x -> frozen: one_to_one(w = 30 mA), synapse = Expon(tau = 5 ms)
    output fused, frozen
}
"""


def test_fused_lif_and_exponential_synapse_match_the_closed_form():
    model = snndsl.loads(FUSED, "fused.snn")
    assert "class LIFn_with_Expon" in model.code and "class LIFn_exp_euler" in model.code
    x = np.zeros((200, 1), np.float32)
    x[5] = 1.0
    _, rec = model.simulate(model.network(), (x,), record=("fused.V", "frozen.V"))
    # the input arrives at the start of step 5 (g = w), then V and g move together:
    #   V(t) = R w ts / (ts - tau) (e^{-t/ts} - e^{-t/tau}), t from the start of step 5
    t = 0.1 * (np.arange(200) - 4)
    want = np.where(t > 0, 30 * 5 / (5 - 10) * (np.exp(-t / 5) - np.exp(-t / 10)), 0.0)
    np.testing.assert_allclose(mant(rec["fused.V"])[:, 0], want, rtol=1e-5, atol=1e-6)
    frozen_err = np.max(np.abs(mant(rec["frozen.V"])[:, 0] - want))
    assert frozen_err > 0.05   # the unfused neuron holds the synaptic current over each step


BRIAN_LIF = """\
neuron LIFn {
    param tau: ms = 10 ms
    param R: ohm = 1 ohm
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + R * I) / tau
    spike when V >= 10 mV
    reset hard V = 0 mV
    method exact
}
synapse ExpI {
    param tau: ms = 5 ms
    state g
    dg/dt = -g / tau
    on_spike g += w
    output g
}
network N {
    dt = 0.1 ms
    input x: spikes[1]
    pop h = LIFn(1)
    connect x -> h: one_to_one(w = 30 mA), synapse = ExpI()
    output h
}
"""


@pytest.mark.slow
def test_fused_lif_reproduces_brian2_exact_spike_times():
    """Brian2: one NeuronGroup with dv/dt and dI/dt, method='exact', on_pre I += w. Brian2 adds an input
    spike of step k after that step's integration, so it acts from step k + 1: the snndsl input is shifted by
    one step (the arrival is at the start of the step). Spike times agree within 0.1 ms over 300 ms."""
    b2 = pytest.importorskip("brian2")
    b2.prefs.codegen.target = "numpy"
    steps, dt = 3000, 0.1
    arrivals = np.sort(np.random.default_rng(0).choice(np.arange(10, steps - 1), 60, replace=False))
    b2.start_scope()
    b2.defaultclock.dt = dt * b2.ms
    group = b2.NeuronGroup(1, "dv/dt = (-v + R*I)/tau : volt\ndI/dt = -I/tau_s : amp", threshold="v > 10*mV",
                           reset="v = 0*mV", method="exact",
                           namespace={"R": 1 * b2.ohm, "tau": 10 * b2.ms, "tau_s": 5 * b2.ms})
    source = b2.SpikeGeneratorGroup(1, np.zeros(len(arrivals), int), arrivals * dt * b2.ms)
    syn = b2.Synapses(source, group, on_pre="I += 30*mA")
    syn.connect()
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(group, source, syn, monitor)
    net.run(steps * dt * b2.ms)
    brian = np.asarray(monitor.t / b2.ms)
    model = snndsl.loads(BRIAN_LIF, "brian_lif.snn")
    x = np.zeros((steps, 1), np.float32)
    x[arrivals + 1] = 1.0
    out, _ = model.simulate(model.network(), (x,))
    ours = np.nonzero(np.asarray(out)[:, 0] > 0)[0] * dt
    assert len(brian) > 30 and len(ours) == len(brian)
    assert np.max(np.abs(ours - brian)) < 0.1


REFRACTORY = """\
neuron Ref {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau + 0 mV/ms * sin(t / ms)
    spike when V >= 1 mV
    reset hard V = 0 mV
    refractory 2 ms
}
network N {
    dt = 0.1 ms
    input x: current[1] mA
    pop h = Ref(1)
    connect x -> h: one_to_one(w = 1)
    output h
}
"""


def test_refractory_period_is_held_in_whole_steps_even_late_in_a_long_run():
    model = snndsl.loads(REFRACTORY, "ref.snn")
    net = model.network()
    bs.nn.init_all_states(net)
    net._i.value = net._i.value + 200_000               # the step counter: t = i dt = 20 s
    drive = np.full((1,), 50.0, np.float32)

    def step(i):
        return net.update(drive), net.h.V.value

    out, v = bs.transform.for_loop(step, np.arange(60))
    spikes, held = list(np.asarray(out)[:, 0]), list(mant(v)[:, 0])
    first = spikes.index(1.0)
    second = spikes.index(1.0, first + 1)
    # spike at step s; V is held at the reset value at steps s+1 ... s+19 (20 steps in all from the spike's),
    # integrates again from step s+20
    assert all(v == 0.0 for v in held[first + 1:first + 20])
    assert held[first + 20] > 0.0
    assert second > first + 20


def test_population_choices_compile_to_their_own_class():
    text = """\
import LIF from "std"
network N {
    dt = 0.1 ms
    input x: current[1] mA
    pop a = LIF(1, reset = hard, method = exact)
    pop b = LIF(1)
    connect x -> a: one_to_one(w = 1)
    connect x -> b: one_to_one(w = 1)
    output a, b
}
"""
    model = snndsl.loads(text, "choices.snn")
    assert "class LIF_exact_hard(" in model.code and "class LIF(" in model.code
    x = np.full((60, 1), 3.0, np.float32)
    _, rec = model.simulate(model.network(), (x,), record=("a.V", "b.V"))
    a, b = mant(rec["a.V"])[:, 0], mant(rec["b.V"])[:, 0]
    # LIF: tau = 5 ms, V_th = 1 mV, reset to 0 mV: hard reset gives exactly 0 after a spike, soft 0 + overshoot
    step = np.argmax(a >= 1.0)
    assert a[step + 1] == pytest.approx(3.0 * (1 - math.exp(-0.1 / 5)), rel=1e-5)   # from 0, exact step
    assert b[step + 1] != pytest.approx(a[step + 1], rel=1e-6)


GRAD = """\
import Expon from "std"
neuron LIFn {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau
    method exact
}
network N {
    dt = 0.5 ms
    input x: spikes[1]
    pop h = LIFn(1, trainable tau = 10 ms)
    connect x -> h: one_to_one(w = 30 mA), synapse = Expon(trainable tau = 5 ms)
    output h
}
"""


@pytest.mark.slow
def test_gradients_through_the_fused_propagator_match_finite_differences():
    with jax.enable_x64(True):
        model = snndsl.loads(GRAD, "grad.snn")
        net = model.network()
        x = np.zeros((12, 1))
        x[2] = 1.0

        def loss():
            bs.nn.init_all_states(net)
            return u.get_mantissa(bs.transform.for_loop(net.update, x)).sum()

        params = list(net.states(bs.ParamState).values())
        assert len(params) == 3      # the neuron's tau, the weight, the synapse's tau
        grads = bs.transform.jit(bs.transform.grad(loss, grad_states=params))()
        value = bs.transform.jit(loss)       # compiled once: the parameters are read as inputs
        for p, g in zip(params, grads):
            base = p.value
            h = 1e-6 * u.get_unit(base)
            p.value = base + h
            up = value()
            p.value = base - h
            down = value()
            p.value = base
            fd = (up - down) / 2e-6
            np.testing.assert_allclose(mant(g), fd, rtol=1e-5)


SWITCH = """\
neuron Leaky {
    param tau: ms = 10 ms
    param leaky: bool = true
    input I: mA
    state V: mV = 0 mV
    dV/dt = (select(leaky, -V, 0 mV) + 1 ohm * I) / tau
    method exact
}
network N {
    dt = 1 ms
    input x: current[1] mA
    pop on = Leaky(1)
    pop off = Leaky(1, leaky = false)
    connect x -> on: one_to_one(w = 1)
    connect x -> off: one_to_one(w = 1)
    output on, off
}
"""


def test_bool_switches_are_python_bools_chosen_per_population():
    model = snndsl.loads(SWITCH, "switch.snn")
    assert "leaky=True" in model.code and "leaky=False" in model.code and "bool(leaky)" in model.code
    _, rec = model.simulate(model.network(), (np.full((10, 1), 2.0, np.float32),), record=("on.V", "off.V"))
    n = np.arange(1, 11)
    # leaky: V = R I (1 - e^{-t/tau}); not leaky (a singular A): V = R I t / tau, both exact
    np.testing.assert_allclose(mant(rec["on.V"])[:, 0], 2.0 * (1 - np.exp(-n / 10)), rtol=1e-5)
    np.testing.assert_allclose(mant(rec["off.V"])[:, 0], 2.0 * n / 10, rtol=1e-5)


CONDUCTANCE = """\
import Expon from "std"
neuron Cond {
    param tau: ms = 10 ms
    param C: nF = 1 nF
    input I: nA
    state V: mV = -60 mV
    dV/dt = (-60 mV - V) / tau + I / C
    method exact
}
network N {
    dt = 0.5 ms
    input x: spikes[1]
    pop ex = Cond(1)
    pop ee = Cond(1, method = exp_euler)
    connect x -> ex: one_to_one(w = 50 nS), synapse = Expon(tau = 5 ms), output = conductance(E = 0 mV)
    connect x -> ee: one_to_one(w = 50 nS), synapse = Expon(tau = 5 ms), output = conductance(E = 0 mV)
    output ex, ee
}
"""


def test_exact_linearises_a_conductance_input_in_the_membrane():
    """g (E - V) is affine in V with g held over the step (never fused: g V is bilinear), so the propagator
    and exponential Euler (exact for an ODE affine in its variable) agree, and V moves towards E."""
    model = snndsl.loads(CONDUCTANCE, "cond.snn")
    assert "LIF_with" not in model.code and "_port_affine" in model.code
    x = np.zeros((40, 1), np.float32)
    x[[2, 10, 11, 12]] = 1.0
    _, rec = model.simulate(model.network(), (x,), record=("ex.V", "ee.V"))
    ex, ee = mant(rec["ex.V"])[:, 0], mant(rec["ee.V"])[:, 0]
    np.testing.assert_allclose(ex, ee, rtol=1e-5)
    assert ex.max() > -55.0
