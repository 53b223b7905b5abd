"""The train-step lowering passes (snndsl/lower/passes.py): each leaves the gradients unchanged against the same
model lowered with that pass switched off, shows in the emitted module as plain code, and stays out where it
would not be exact.

One tiny network has every case: spikes from data, a recurrent LIF (its self-projection reads the carried
spike), a one-step and a two-step delay, a deep LIF and a readout. Gradients of the loss over 25 steps, for
every parameter, from the same initial parameters.
"""

from __future__ import annotations

import contextlib
import re

import brainstate as bs
import brainunit as u
import jax
import numpy as np
import pytest

import snndsl
from snndsl.lower import passes

TINY = """\
import LIF, Expon from "std"
network Tiny {
    dt = 1 ms
    input x: spikes[6]
    pop hidden = LIF(8, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV)
    pop deep = LIF(5, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV, surrogate = sigmoid(alpha = 4.0))
    readout out = Expon(3, tau = 10 ms)
    connect x -> hidden: dense(w = normal(1.5 mA, 1 mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> hidden: dense(w = normal(0 mA, 1 mA))
    connect hidden -> deep: dense(w = normal(1.5 mA, 1 mA)), delay = 1 ms
    connect deep -> out: dense(w = kaiming_normal, b = zeros)
    connect hidden -> out: dense(w = kaiming_normal), delay = 2 ms
    output out
}
train Tiny {
    data = poisson_patterns(steps = 25, samples = 4, rate = 200 Hz, classes = 3)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-3)
    loop = bptt
    epochs = 1
    batch = 4
}
"""


def compiled(off=()):
    """The tiny model lowered with the passes ``off`` switched off."""
    with passes.disabled(*off) if off else contextlib.nullcontext():
        return snndsl.loads(TINY, "tiny.snn")


def gradients(model, change=None):
    """``(loss, [gradient of every parameter])`` of one batch (25 steps of 6 inputs, batch 4, 3 classes), from
    the parameters drawn with seed 0; ``change`` (a function of the network) is applied to it first."""
    rng = np.random.default_rng(1)
    x = (rng.random((25, 4, 6)) < 0.3).astype(np.float32)
    y = np.array([0, 1, 2, 1], np.int32)
    bs.random.seed(0)
    net = model.network()
    if change is not None:
        change(net)
    bs.nn.init_all_states(net, batch_size=4)
    params = net.states(bs.ParamState)

    def run():
        bs.nn.reset_all_states(net, batch_size=4)
        return bs.transform.grad(lambda: model.module.loss_fn(net, x, y)[0], params, return_value=True)()

    grads, loss = bs.transform.jit(run)()
    return float(loss), [np.asarray(u.get_mantissa(g)) for g in jax.tree_util.tree_leaves(grads)]


@pytest.fixture(scope="module")
def reference():
    """Every pass on."""
    model = compiled()
    return model, gradients(model)


def flat(code: str) -> str:
    """``code`` without comments, on one line: the emitted calls whatever their line breaks."""
    return " ".join(re.sub(r"#[^\n]*", "", code).split()).replace("( ", "(")


def test_passes_show_as_plain_code(reference):
    code = flat(reference[0].code)
    assert "_spike = self._spike.value" in code                          # carried spike: the reset reads it
    assert "self._spike = bs.ShortTermState(self._spk_fun(" in code      # ... H(x) of the initial state
    assert "return self._spike.value" in code                            # output() is the carried spike
    assert "_spike_dense(self.hidden_to_hidden, self.hidden.output(), narrow=True)" in code
    assert "_spike_dense(self.deep_to_out, deep, narrow=True)" in code
    assert "self.x_to_hidden(x)" in code                  # data may hold counts: no boolean residual from it
    assert "self.hidden_to_deep__delay = _LastStep(8)" in code
    assert "self.hidden_to_out__delay = _Delay(2, 8)" in code             # longer delays keep the ring buffer
    off = compiled(passes.PASSES).code
    assert "_spike_dense" not in off and "_LastStep" not in off and "self._spike" not in off


@pytest.mark.parametrize("name", ["carried_spike", "narrow_weight_grad", "last_step_delay"])
def test_pass_gradients_equal_to_rounding(reference, name):
    """Equal to float32 rounding, not bit for bit, because the cotangents reaching one value are summed in
    another order: with the carried spike the reset's spike and the output spike are one value, so s'(x) (a + b)
    is computed where s'(x) a + s'(x) b was; through the one-step delay state a spike's cotangent from the
    delayed path joins the others at a different point of the backward pass than through the ring buffer. The
    forward pass (the loss) is bit-identical. The narrow weight gradient sums the same products in another
    order (another kernel)."""
    loss, grads = reference[1]
    loss_off, grads_off = gradients(compiled((name,)))
    assert loss == loss_off
    scale = max(float(np.abs(g).max()) for g in grads_off)
    assert scale > 0
    for g, h in zip(grads, grads_off):
        np.testing.assert_allclose(g, h, rtol=0, atol=1e-5 * scale)
    assert sum(np.count_nonzero(g) for g in grads) > 0.5 * sum(g.size for g in grads)


def test_bool_residual_gradients_bit_identical(reference):
    """The boolean residual rebuilds the 0/1 spikes exactly and applies JAX's own transpose of the product to
    them: the same numbers, bit for bit."""
    loss, grads = gradients(compiled(("narrow_weight_grad",)))
    loss_off, grads_off = gradients(compiled(("bool_residual", "narrow_weight_grad")))
    assert loss == loss_off
    for g, h in zip(grads, grads_off):
        np.testing.assert_array_equal(g, h)


def backward_primitives(model) -> set[str]:
    """The primitives of the train loss's gradient program (one step of the tiny model, batch 4)."""
    bs.random.seed(0)
    net = model.network()
    bs.nn.init_all_states(net, batch_size=4)
    params = net.states(bs.ParamState)
    x, y = np.zeros((2, 4, 6), np.float32), np.zeros(4, np.int32)
    grad = bs.transform.grad(lambda: model.module.loss_fn(net, x, y)[0], params)
    text = str(bs.transform.make_jaxpr(grad)()[0])
    return {p for p in ("optimization_barrier",) if p in text}


def test_narrow_weight_grad_changes_the_backward_pass(reference, monkeypatch):
    """On the CPU the narrow projections' weight gradients go through the materialised transpose (an
    optimisation barrier in the backward program), which the pass switched off does not have; only targets of
    at most ``passes.NARROW`` neurons get it."""
    on_cpu = jax.default_backend() == "cpu"
    assert backward_primitives(reference[0]) == ({"optimization_barrier"} if on_cpu else set())
    assert backward_primitives(compiled(("narrow_weight_grad",))) == set()
    monkeypatch.setattr(passes, "NARROW", 5)                 # hidden (8) is wide now; deep (5) and out (3) are not
    code = flat(compiled().code)
    assert "_spike_dense(self.hidden_to_hidden, self.hidden.output())" in code
    assert "_spike_dense(self.hidden_to_deep, self.hidden_to_deep__delay.read(), narrow=True)" in code
    assert "_spike_dense(self.deep_to_out, deep, narrow=True)" in code


def test_carried_spike_stays_out_where_inexact():
    """A trained threshold keeps the recomputed spike: the first step's carried spike is computed when the
    states are reset, outside the gradient, and would lose the threshold's part in it."""
    text = TINY.replace("pop hidden = LIF(8, tau = 10 ms, V_th = 1 mV",
                        "pop hidden = LIF(8, tau = 10 ms, trainable V_th = 1 mV")
    code = snndsl.loads(text, "tiny.snn").code
    classes = {block.split("(")[0]: block for block in code.split("\nclass ")[1:]}
    assert "self._spike" not in classes["LIF_trainable_V_th"]              # `hidden`
    assert "_spike = self._spike.value" in classes["LIF"]                  # `deep`


def test_unknown_pass_refused():
    with pytest.raises(ValueError):
        with passes.disabled("no_such_pass"):
            pass
    with pytest.raises(ValueError):
        passes.enabled("no_such_pass")


def test_unrolled_loop_hint_and_gradients(reference, monkeypatch):
    """The loss's loop is told the multiply-adds of a step's dense products per sample; it runs two steps per
    iteration only when a step of the batch does enough of them, on the CPU (the tiny model never does), and
    two steps per iteration give the same loss and gradients (here forced, over an odd number of steps)."""
    model = reference[0]
    macs = 6 * 8 + 8 * 8 + 8 * 5 + 5 * 3 + 8 * 3          # x->hidden, hidden->hidden, ->deep, deep->out, hidden->out
    assert f"_loop(step, acc, x, macs={macs})" in flat(model.code)
    assert "macs=" not in flat(compiled(("unrolled_loop",)).code).split("def loss_fn")[1]
    checkpointed = snndsl.loads(TINY.replace("loop = bptt", "loop = checkpointed"), "tiny.snn").code
    assert "macs=" not in flat(checkpointed).split("def loss_fn")[1]      # its segments are not unrolled
    on_cpu = jax.default_backend() == "cpu"
    assert model.module._unroll(np.zeros((25, 4, 6)), macs) == 1
    assert model.module._unroll(np.zeros((25, 4, 6)), 2_000_000) == (2 if on_cpu else 1)
    assert model.module._unroll(np.zeros((25, 6)), 2_000_000) == 1                   # unbatched: one sample
    loss, grads = reference[1]
    monkeypatch.setattr(model.module, "_unroll", lambda x, macs: 2)
    loss2, grads2 = gradients(model)
    assert abs(loss2 - loss) <= 1e-6 * abs(loss)
    scale = max(float(np.abs(g).max()) for g in grads)
    for g, h in zip(grads2, grads):
        np.testing.assert_allclose(g, h, rtol=0, atol=1e-5 * scale)
