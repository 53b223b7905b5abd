"""The reference contenders: each benchmark network written by hand in brainstate / brainpy.state, the way the
seed tutorial writes them (``bs.nn.Linear`` + ``brainpy.state`` neurons and synapses, ``for_loop`` over time,
``bs.transform.grad``, a braintools optimizer), with the tutorial's two traps avoided (states are created outside
jit and reset inside it; the batch is an argument of the jitted step, not a baked-in constant).

Nothing here imports snndsl.
"""

from __future__ import annotations

import brainpy
import brainstate as bs
import braintools as bt
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

S = brainpy.state
DT = 1.0 * u.ms


class SeedNet(bs.nn.Module):
    """n_in Poisson inputs → Linear(mA, normal(0.4, 1)) → Expon(5 ms) → LIF(20 ms) → Linear → Expon readout
    (10 ms)."""

    def __init__(self, n_in=100, n_rec=128, n_out=2):
        super().__init__()
        self.i2r = bs.nn.Sequential(
            bs.nn.Linear(n_in, n_rec, w_init=bt.init.Normal(0.4 * u.mA, 1. * u.mA),
                         b_init=bt.init.ZeroInit(unit=u.mA)),
            S.Expon(n_rec, tau=5. * u.ms, g_initializer=bt.init.Constant(0. * u.mA)))
        self.r = S.LIF(n_rec, tau=20. * u.ms, V_th=1. * u.mV, V_reset=0. * u.mV, V_rest=0. * u.mV,
                       spk_fun=bt.surrogate.ReluGrad())
        self.r2o = bs.nn.Linear(n_rec, n_out, w_init=bt.init.KaimingNormal())
        self.o = S.Expon(n_out, tau=10. * u.ms, g_initializer=bt.init.Constant(0.))

    def update(self, spike):
        return self.o(self.r2o(self.r(self.i2r(spike))))

    def copy_from(self, net):
        """Take the compiled network's parameters (benchmarks/models/seed128.snn)."""
        self.i2r[0].weight.value = net.x_to_hidden.weight.value
        self.r2o.weight.value = net.hidden_to_out.weight.value


class SHDNet(bs.nn.Module):
    """700 inputs → Linear(mA, normal(0.03, 0.1)) → Expon(5 ms) → 256 LIF with a recurrent Linear(mA) → Expon(5 ms)
    of last step's spikes → Linear → Expon readout (20 ms)."""

    def __init__(self, n_in=700, n_rec=256, n_out=20):
        super().__init__()
        self.i2r = bs.nn.Sequential(
            bs.nn.Linear(n_in, n_rec, w_init=bt.init.Normal(0.03 * u.mA, 0.1 * u.mA),
                         b_init=bt.init.ZeroInit(unit=u.mA)),
            S.Expon(n_rec, tau=5. * u.ms, g_initializer=bt.init.Constant(0. * u.mA)))
        self.r2r = bs.nn.Sequential(
            bs.nn.Linear(n_rec, n_rec, w_init=bt.init.Orthogonal(scale=0.5, unit=u.mA), b_init=None),
            S.Expon(n_rec, tau=5. * u.ms, g_initializer=bt.init.Constant(0. * u.mA)))
        self.r = S.LIF(n_rec, tau=20. * u.ms, V_th=1. * u.mV, V_reset=0. * u.mV, V_rest=0. * u.mV,
                       spk_fun=bt.surrogate.ReluGrad())
        self.r2o = bs.nn.Linear(n_rec, n_out, w_init=bt.init.KaimingNormal())
        self.o = S.Expon(n_out, tau=20. * u.ms, g_initializer=bt.init.Constant(0.))

    def update(self, spike):
        rec = self.r2r(self.r.get_spike())          # last step's spikes
        return self.o(self.r2o(self.r(self.i2r(spike) + rec)))

    def copy_from(self, net):
        """Take the compiled network's parameters (benchmarks/models/shd.snn)."""
        self.i2r[0].weight.value = net.x_to_hidden.weight.value
        self.r2r[0].weight.value = net.hidden_to_hidden.weight.value
        self.r2o.weight.value = net.hidden_to_out.weight.value


def make_trainer(net, batch_size, lr=1e-3, loop="bptt", base=16):
    """The tutorial's train step: ``(loss, accuracy) = train_step(x [T, B, N], y [B])``, jitted."""
    bs.nn.init_all_states(net, batch_size=batch_size)
    params = net.states(bs.ParamState)
    opt = bt.optim.Adam(lr=lr)
    opt.register_trainable_weights(params)

    def loss_fn(x, y):
        with bs.environ.context(dt=DT):
            if loop == "bptt":
                out = bs.transform.for_loop(net.update, x)
            else:
                out = bs.transform.checkpointed_for_loop(net.update, x, base=base)
        pred = u.math.mean(out, axis=0)
        return bt.metric.softmax_cross_entropy_with_integer_labels(pred, y).mean(), pred

    @bs.transform.jit
    def train_step(x, y):
        bs.nn.reset_all_states(net, batch_size=x.shape[1])
        grads, loss, pred = bs.transform.grad(lambda: loss_fn(x, y), params, return_value=True, has_aux=True)()
        opt.update(grads)
        return loss, jnp.mean(jnp.argmax(pred, axis=-1) == y)

    def grads(x, y):
        """Gradients of the loss (no update), keyed like ``net.states(ParamState)``."""
        bs.nn.reset_all_states(net, batch_size=x.shape[1])
        return bs.transform.grad(lambda: loss_fn(x, y)[0], params)()

    return train_step, grads


# ------------------------------------------------------------------------------------------------ COBA


class COBA(bs.nn.Module):
    """The Vogels-Abbott network as brainpy's COBA example writes it in brainpy.state: ``LIFRef`` populations,
    ``AlignPostProj(EventFixedProb, Expon, COBA)`` projections reading last step's spikes, and the same
    constants as models/coba.snn (4000 neurons, p = 0.02, 6 / 67 nS, tau_e 5 ms, tau_i 10 ms, I_b 200 pA)."""

    def __init__(self, n_exc=3200, n_inh=800, p=0.02):
        super().__init__()
        R = 20. * u.ms / (200. * u.pF)
        kw = dict(R=R, tau=20. * u.ms, tau_ref=5. * u.ms, V_th=-50. * u.mV, V_reset=-60. * u.mV,
                  V_rest=-60. * u.mV, spk_reset="hard",
                  V_initializer=bt.init.Uniform(-60. * u.mV, -50. * u.mV))
        self.exc = S.LIFRef(n_exc, **kw)
        self.inh = S.LIFRef(n_inh, **kw)
        self.ib = 200. * u.pA

        def proj(pre_n, post, w, tau, E, seed):
            return S.AlignPostProj(
                comm=bs.nn.EventFixedProb(pre_n, post.varshape, conn_num=p, conn_weight=w, seed=seed),
                syn=S.Expon.desc(post.varshape, tau=tau, g_initializer=bt.init.Constant(0. * u.nS)),
                out=S.COBA.desc(E=E), post=post)

        self.ee = proj(n_exc, self.exc, 6. * u.nS, 5. * u.ms, 0. * u.mV, 1)
        self.ei = proj(n_exc, self.inh, 6. * u.nS, 5. * u.ms, 0. * u.mV, 2)
        self.ie = proj(n_inh, self.exc, 67. * u.nS, 10. * u.ms, -80. * u.mV, 3)
        self.ii = proj(n_inh, self.inh, 67. * u.nS, 10. * u.ms, -80. * u.mV, 4)

    def update(self, i):
        with bs.environ.context(t=i * bs.environ.get_dt(), i=i):
            e_spk, i_spk = self.exc.get_spike() != 0., self.inh.get_spike() != 0.
            self.ee(e_spk)
            self.ei(e_spk)
            self.ie(i_spk)
            self.ii(i_spk)
            self.exc(self.ib)
            self.inh(self.ib)
            return self.exc.get_spike().sum() + self.inh.get_spike().sum()


def coba_runner(steps):
    """``run()`` → total spike count of a fresh network simulated for ``steps`` steps of 0.1 ms (jitted)."""
    import brainevent
    brainevent.config.set_backend("cpu", "jax_raw")
    with bs.environ.context(dt=0.1 * u.ms):
        net = COBA()
        bs.nn.init_all_states(net)

    @bs.transform.jit
    def run():
        with bs.environ.context(dt=0.1 * u.ms):
            bs.nn.reset_all_states(net)
            counts = bs.transform.for_loop(net.update, jnp.arange(steps))
        return counts.sum()

    return run


def random_batch(t, b, n_in, n_classes, rate_hz=10.0, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((t, b, n_in)) < rate_hz * 1e-3).astype(np.float32)
    y = rng.integers(0, n_classes, size=b).astype(np.int32)
    return jnp.asarray(x), jnp.asarray(y)
