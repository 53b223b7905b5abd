"""Memory regression: XLA's temporary buffers of the emitted train step against the same network handwritten in
brainstate / brainpy.state (the seed tutorial's step), and the checkpointed loop against BPTT.

Deterministic (compile-time figures, nothing is run) and small: a few compiles of a tiny network.
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

S = brainpy.state

TINY = """\
import LIF, Expon from "std"
network Tiny {
    dt = 1 ms
    input x: spikes[20]
    pop hidden = LIF(16, tau = 20 ms, V_th = 1 mV, surrogate = relu_grad(alpha = 0.3, width = 1.0))
    readout out = Expon(3, tau = 10 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> out: dense(w = kaiming_normal, b = zeros)
    output out
}
train Tiny {
    data = poisson_patterns(steps = 30, samples = 8, rate = 20 Hz, classes = 3)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-3)
    loop = LOOP
    epochs = 1
    batch = 8
}
"""


class Handwritten(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.i2r = bs.nn.Sequential(
            bs.nn.Linear(20, 16, w_init=bt.init.KaimingNormal(unit=u.mA), b_init=bt.init.ZeroInit(unit=u.mA)),
            S.Expon(16, tau=5. * u.ms, g_initializer=bt.init.Constant(0. * u.mA)))
        self.r = S.LIF(16, tau=20. * u.ms, V_th=1. * u.mV, spk_fun=bt.surrogate.ReluGrad())
        self.r2o = bs.nn.Linear(16, 3, w_init=bt.init.KaimingNormal())
        self.o = S.Expon(3, tau=10. * u.ms, g_initializer=bt.init.Constant(0.))

    def update(self, spike):
        return self.o(self.r2o(self.r(self.i2r(spike))))


def handwritten_step(batch):
    net = Handwritten()
    bs.nn.init_all_states(net, batch_size=batch)
    params = net.states(bs.ParamState)
    opt = bt.optim.Adam(lr=1e-3)
    opt.register_trainable_weights(params)

    @bs.transform.jit
    def train_step(x, y):
        bs.nn.reset_all_states(net, batch_size=x.shape[1])

        def loss():
            with bs.environ.context(dt=1. * u.ms):
                out = bs.transform.for_loop(net.update, x)
            pred = u.math.mean(out, axis=0)
            return bt.metric.softmax_cross_entropy_with_integer_labels(pred, y).mean(), pred

        grads, value, pred = bs.transform.grad(loss, params, return_value=True, has_aux=True)()
        opt.update(grads)
        return value, jnp.mean(jnp.argmax(pred, axis=-1) == y)

    return train_step


def emitted_step(batch, loop="bptt"):
    model = snndsl.loads(TINY.replace("LOOP", loop), "tiny.snn")
    bs.random.seed(0)
    return model.module.make_trainer(model.network(), batch)[1]


def temp_bytes(step, steps, batch=8):
    x = jnp.asarray((np.random.default_rng(0).random((steps, batch, 20)) < 0.02).astype(np.float32))
    y = jnp.zeros((batch,), jnp.int32)
    return step.lower(x, y).compile().memory_analysis().temp_size_in_bytes


def test_emitted_step_needs_no_more_temporary_memory_than_handwritten():
    ours, theirs = temp_bytes(emitted_step(8), 30), temp_bytes(handwritten_step(8), 30)
    assert ours <= 1.05 * theirs, f"emitted {ours} B, handwritten {theirs} B"
    # the train-step passes (snndsl/lower/passes.py): one surrogate residual per step, boolean spike residuals
    assert ours <= 0.75 * theirs, f"emitted {ours} B, handwritten {theirs} B: the lowering passes did not apply"


# T = 1600: the passes made BPTT's per-step residuals small enough that at T = 400 the checkpointed loop's
# fixed part (one segment's activations, the boundary states) was still a third of BPTT's total
@pytest.mark.parametrize("steps", [1600])
def test_checkpointed_loop_bounds_memory(steps):
    bptt, ckpt = temp_bytes(emitted_step(8), steps), temp_bytes(emitted_step(8, "checkpointed(base = 16)"), steps)
    assert ckpt <= 0.25 * bptt, f"checkpointed {ckpt} B, bptt {bptt} B at T = {steps}"
