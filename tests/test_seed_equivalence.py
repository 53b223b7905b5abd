"""models/seed.snn is the seed tutorial's network: same parameters in, same outputs out, as brainpy.state.

The handwritten network is ../shared/seed/differentiability.txt section 3, verbatim in structure.
"""

from __future__ import annotations

import brainpy
import brainstate as bs
import braintools as bt
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import snndsl

from .conftest import ROOT

S = brainpy.state


class HandwrittenSNN(bs.nn.Module):
    def __init__(self, n_in, n_rec, n_out):
        super().__init__()
        self.i2r = bs.nn.Sequential(
            bs.nn.Linear(n_in, n_rec, w_init=bt.init.KaimingNormal(unit=u.mA), b_init=bt.init.ZeroInit(unit=u.mA)),
            S.Expon(n_rec, tau=5. * u.ms, g_initializer=bt.init.Constant(0. * u.mA)))
        self.r = S.LIF(n_rec, tau=20. * u.ms, V_reset=0. * u.mV, V_rest=0. * u.mV, V_th=1. * u.mV,
                       spk_fun=bt.surrogate.ReluGrad())
        self.r2o = bs.nn.Linear(n_rec, n_out, w_init=bt.init.KaimingNormal())
        self.o = S.Expon(n_out, tau=10. * u.ms, g_initializer=bt.init.Constant(0.))

    def update(self, spike):
        return self.o(self.r2o(self.r(self.i2r(spike))))


@pytest.fixture(scope="module")
def seed():
    return snndsl.load(ROOT / "models" / "seed.snn")


def _pair(seed):
    bs.random.seed(1)
    net = seed.network()
    hand = HandwrittenSNN(100, 4, 2)
    hand.i2r[0].weight.value = net.x_to_hidden.weight.value
    hand.r2o.weight.value = net.hidden_to_out.weight.value
    return net, hand


def test_seed_outputs_equal_handwritten_brainpy(seed):
    net, hand = _pair(seed)
    # strong weights so that the hidden layer spikes and resets are exercised
    scaled = {k: v * 8 for k, v in net.x_to_hidden.weight.value.items()}
    net.x_to_hidden.weight.value = scaled
    hand.i2r[0].weight.value = scaled
    x = bs.random.rand(200, 8, 100) < 0.05
    ours, rec = seed.simulate(net, (x,), batch_size=8, record=("hidden",))
    with bs.environ.context(dt=1.0 * u.ms):
        bs.nn.init_all_states(hand, batch_size=8)
        theirs = bs.transform.for_loop(hand.update, x)
    assert float(rec["hidden"].sum()) > 0, "the test needs hidden spikes"
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)


def test_seed_gradients_equal_handwritten_brainpy(seed):
    net, hand = _pair(seed)
    x = bs.random.rand(60, 4, 100) < 0.1
    y = jnp.array([0, 1, 1, 0])

    def loss_of(module, run):
        def loss():
            out = run()
            return bt.metric.softmax_cross_entropy_with_integer_labels(u.math.mean(out, axis=0), y).mean()
        return bs.transform.grad(loss, module.states(bs.ParamState))()

    def run_ours():
        bs.nn.init_all_states(net, batch_size=4)
        return bs.transform.for_loop(net.update, x)

    def run_hand():
        with bs.environ.context(dt=1.0 * u.ms):
            bs.nn.init_all_states(hand, batch_size=4)
            return bs.transform.for_loop(hand.update, x)

    g1, g2 = loss_of(net, run_ours), loss_of(hand, run_hand)
    a = g1[("x_to_hidden", "weight")]["weight"]
    b = g2[("i2r", "layers", 0, "weight")]["weight"] if ("i2r", "layers", 0, "weight") in g2 else \
        next(v for k, v in g2.items() if k[0] == "i2r")["weight"]
    np.testing.assert_allclose(np.asarray(u.get_mantissa(a)), np.asarray(u.get_mantissa(b)), rtol=1e-4, atol=1e-7)
