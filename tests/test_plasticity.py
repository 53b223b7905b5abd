"""Plasticity (issue #13): pair STDP against the closed-form rule, storages against each other, STP against
brainpy.state, and the gradient of a train block through a plastic projection.

Spikes are placed by hand: presynaptic neuron i fires once, at step PRE[i]; the postsynaptic neuron is driven
to fire once, at step POST, by a strong one-to-one input. Each pair then changes its weight by the closed-form
pair rule (Delta t = t_post - (t_pre + delay)):

    Delta w = A_plus w_max e^(-Delta t / tau_plus)      Delta t >= 0 (same step: pre first, potentiation)
    Delta w = -A_minus w_max e^(Delta t / tau_minus)    Delta t < 0

Everything is compiled once per module.
"""

from __future__ import annotations

import brainstate as bs
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import snndsl

DT = 0.1                      # ms
T = 400                       # steps
POST = 200                    # the step the postsynaptic neuron fires
PRE = np.array([50, 150, 190, 199, 200, 201, 210, 260, 380, 395])   # one spike per presynaptic neuron
N = len(PRE)
A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, W0, W_MAX = 0.01, 0.012, 20.0, 15.0, 0.5, 1.0

SOURCE = """
import LIF, STDP, STDPMult from "std"

network Pairs {
    dt = 0.1 ms
    input x: spikes[%(n)d]
    input drive: spikes[1]
    pop post = LIF(1, tau = 10 ms, V_th = 1 mV)
    connect kick: drive -> post: one_to_one(w = 150 mA)
    connect p0: x -> post: dense(w = %(w0)s uA), plasticity = STDP(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA)
    connect p3: x -> post: dense(w = %(w0)s uA), plasticity = STDP(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA), delay = 0.3 ms
    connect pm: x -> post: dense(w = %(w0)s uA), plasticity = STDPMult(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA)
    output post
}
""" % dict(n=N, w0=W0, ap=A_PLUS, am=A_MINUS, tp=TAU_PLUS, tm=TAU_MINUS, wm=W_MAX)


@pytest.fixture(scope="module")
def run():
    model = snndsl.loads(SOURCE)
    net = model.network()
    x = np.zeros((T, N), np.float32)
    x[PRE, np.arange(N)] = 1.0
    drive = np.zeros((T, 1), np.float32)
    drive[POST, 0] = 1.0
    out, rec = model.simulate(net, (jnp.asarray(x), jnp.asarray(drive)), record=("p0.w", "p3.w", "pm.w"))
    spikes = np.asarray(out)[:, 0]
    return spikes, {k: np.asarray(u.get_mantissa(v))[:, :, 0] for k, v in rec.items()}


def pair_rule(delay_steps: int) -> np.ndarray:
    dt = (POST - (PRE + delay_steps)) * DT
    return np.where(dt >= 0, A_PLUS * W_MAX * np.exp(-np.abs(dt) / TAU_PLUS),
                    -A_MINUS * W_MAX * np.exp(-np.abs(dt) / TAU_MINUS))


def test_the_postsynaptic_neuron_fires_once_where_placed(run):
    spikes, _ = run
    assert np.flatnonzero(spikes).tolist() == [POST]


@pytest.mark.parametrize("path, delay", [("p0.w", 0), ("p3.w", 3)])
def test_additive_stdp_is_the_closed_form_pair_rule(run, path, delay):
    _, w = run
    dw = w[path][-1] - W0
    np.testing.assert_allclose(dw, pair_rule(delay), rtol=2e-4, atol=1e-7)
    signs = np.sign(pair_rule(delay))
    assert (signs > 0).any() and (signs < 0).any()      # both potentiation and depression cases occur


def test_weights_change_only_at_events(run):
    """Between events w stays put: it changes at the step a spike arrives or the post neuron fires."""
    _, w = run
    changed = np.flatnonzero(np.any(np.diff(w["p3.w"], axis=0) != 0, axis=1)) + 1
    assert set(changed) <= set((PRE + 3).tolist()) | {POST}


def test_multiplicative_stdp_scales_by_the_room_left(run):
    _, w = run
    dt = (POST - PRE) * DT
    expected = np.where(dt >= 0, A_PLUS * (W_MAX - W0) * np.exp(-np.abs(dt) / TAU_PLUS),
                        -A_MINUS * W0 * np.exp(-np.abs(dt) / TAU_MINUS))
    np.testing.assert_allclose(w["pm.w"][-1] - W0, expected, rtol=2e-4, atol=1e-7)
