"""Lowered constructs against closed forms: integration methods, delays, sparse = dense connectivity."""

from __future__ import annotations

import math

import brainstate as bs
import brainunit as u
import numpy as np
import pytest

import snndsl
import snndsl.registry.model_entries as connectivity

DECAY = """\
neuron Decay {{
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 1 mV
    dV/dt = -V / tau + 1 ohm * I / tau
    method {method}
}}
synapse Pass {{
    state g
    on_spike g = w
    output g
}}
network N {{
    dt = 1 ms
    input x: spikes[1]
    pop a = Decay(1)
    connect x -> a: dense(w = constant(0 mA))
    output a
}}
"""


@pytest.mark.parametrize("method,expected", [
    ("exp_euler", lambda n: math.exp(-n / 10)),
    ("exact", lambda n: math.exp(-n / 10)),
    ("euler", lambda n: (1 - 0.1) ** n),
    ("rk4", lambda n: math.exp(-n / 10)),
])
def test_integration_methods_match_closed_forms(method, expected):
    model = snndsl.loads(DECAY.format(method=method), "decay.snn")
    out, _ = model.simulate(model.network(), (np.zeros((20, 1), np.float32),))
    v = np.asarray(u.get_mantissa(out))[:, 0]
    want = np.array([expected(n) for n in range(1, 21)])
    np.testing.assert_allclose(v, want, rtol=1e-5 if method != "rk4" else 1e-6, atol=1e-6 if method == "rk4" else 0)


def test_exact_refuses_a_nonlinear_ode():
    text = DECAY.format(method="exact").replace("-V / tau", "-V * V / (1 mV) / tau")
    with pytest.raises(snndsl.SnnError) as info:
        snndsl.loads(text, "decay.snn")
    assert info.value.codes == ["SNN309"]


DELAY = """\
import Expon from "std"
network D {
    dt = 1 ms
    input x: spikes[1]
    readout r = Expon(1, tau = 5 ms)
    connect x -> r: dense(w = constant(1.0)), delay = 3 ms
    output r
}
"""


def test_delay_shifts_the_response_by_whole_steps():
    model = snndsl.loads(DELAY, "delay.snn")
    x = np.zeros((10, 1), np.float32)
    x[0, 0] = 1
    out, _ = model.simulate(model.network(), (x,))
    g = np.asarray(out)[:, 0]
    assert np.all(g[:3] == 0)
    np.testing.assert_allclose(g[3:7], [math.exp(-k / 5) for k in range(4)], rtol=1e-5)


SPARSE = """\
import LIF, Expon from "std"
network S {
    dt = 1 ms
    input x: spikes[60]
    pop a = LIF(50, tau = 10 ms)
    connect x -> a: fixed_prob(p = 0.2, w = 5 mA), synapse = Expon(tau = 5 ms)
    connect a -> a: fixed_prob(p = 0.1, w = -2 mA)
    output a
}
"""


def test_sparse_and_masked_dense_fixed_prob_agree(monkeypatch):
    x = (np.random.default_rng(0).random((40, 60)) < 0.2).astype(np.float32)
    outs = []
    for threshold in (10**9, 0):
        monkeypatch.setattr(connectivity, "SPARSE_ABOVE", threshold)
        model = snndsl.loads(SPARSE, "sparse.snn")
        assert ("_EventProb(60" in model.code) == (threshold == 0)     # spiking sources: event-driven
        bs.random.seed(0)
        out, _ = model.simulate(model.network(), (x,))
        outs.append(np.asarray(out))
    assert outs[0].sum() > 0
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("events", [True, False])
@pytest.mark.parametrize("shape,rate", [((300,), 0.02), ((300,), 0.6), ((4, 300), 0.03), ((2, 3, 300), 0.01)])
def test_sparse_delivery_equals_the_dense_product_and_its_gradient(shape, rate, events, monkeypatch):
    """Event-driven (few active sources take the event path, many (rate 0.6) the pass over every synapse) or
    not, sparse delivery equals x @ W and its custom gradient the dense one, for values that are not 0/1 and
    batched inputs."""
    import jax
    import jax.numpy as jnp

    monkeypatch.setattr(connectivity, "SPARSE_ABOVE", 0)      # a module that stores fixed_prob sparsely
    module = snndsl.loads(SPARSE, "sparse.snn").module
    pre, post = (jnp.asarray(a) for a in module._fixed_prob_pairs(300, 200, 0.05, 0))
    op = module._sparse_op(pre, post, 300, 200, events)
    w = jax.random.normal(jax.random.PRNGKey(1), pre.shape)
    x = (jax.random.uniform(jax.random.PRNGKey(2), shape) < rate) * jax.random.normal(jax.random.PRNGKey(3), shape)

    def dense(x, w):
        return x @ jnp.zeros((300, 200)).at[pre, post].set(w)

    np.testing.assert_allclose(jax.jit(op)(x, w), dense(x, w), rtol=1e-5, atol=1e-5)
    g = jax.grad(lambda x, w: jnp.sin(op(x, w)).sum(), argnums=(0, 1))(x, w)
    gd = jax.grad(lambda x, w: jnp.sin(dense(x, w)).sum(), argnums=(0, 1))(x, w)
    for a, b in zip(g, gd):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
