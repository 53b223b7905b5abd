"""Loop policies beyond BPTT: truncated BPTT against BPTT and against its closed form on a linear model, e-prop
against its rule written out by hand on one neuron, the memory of a train step against the number of steps,
and resume under every policy."""

from __future__ import annotations

import math

import brainstate as bs
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import snndsl
from snndsl.runtime import data
from snndsl.runtime import train_driver as training

TINY = """\
import LIF, Expon from "std"
network Tiny {
    dt = 1 ms
    input x: spikes[12]
    pop hidden = LIF(6, tau = 10 ms, surrogate = relu_grad(alpha = 0.3, width = 1.0))
    readout out = Expon(3, tau = 5 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
train Tiny {
    data = poisson_patterns(steps = 20, samples = 16, rate = 100 Hz, classes = 3)
    loss = LOSS
    optimizer = OPT
    loop = LOOP
    epochs = 4
    batch = 8
    seed = 3
}
"""


def compiled(loop: str, loss: str = "cross_entropy(mean(out, time), label)", opt: str = "sgd(lr = 0.5)"):
    return snndsl.loads(TINY.replace("LOOP", loop).replace("LOSS", loss).replace("OPT", opt), "tiny.snn")


def _batch(steps: int, batch: int = 8, n: int = 12, p: float = 0.3):
    rng = np.random.default_rng(1)
    x = (rng.random((steps, batch, n)) < p).astype(np.float32)
    return jnp.asarray(x), jnp.asarray(np.arange(batch) % 3)


def _one_step(model, x, y):
    """Parameters (plain arrays, by dotted name) after one train step from the same initialisation, and its
    loss."""
    bs.random.seed(0)
    net = model.network()
    _, train_step, _ = model.module.make_trainer(net, x.shape[1])
    loss, _, finite = train_step(x, y)
    assert all(bool(v) for v in finite.values())
    return training._flat_params(net), float(loss)


def _close(a: dict, b: dict, **tol):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(np.asarray(u.get_mantissa(a[k])), np.asarray(u.get_mantissa(b[k])), **tol)


# ---------------------------------------------------------------- truncated BPTT
@pytest.mark.parametrize("loss", ["cross_entropy(mean(out, time), label)",
                                  "cross_entropy(max(out, time), label) + 0.1 * rate_reg(hidden, target = 5 Hz)",
                                  "spike_count_cross_entropy(hidden, label) + cross_entropy(last(out), label)"])
def test_truncated_with_one_window_of_every_step_equals_bptt(loss):
    """truncated(window = T) makes one update on the whole sequence: the same gradient as BPTT."""
    x, y = _batch(20)
    p1, l1 = _one_step(compiled("bptt", loss), x, y)
    p2, l2 = _one_step(compiled("truncated(window = 20)", loss), x, y)
    assert l1 == pytest.approx(l2, rel=1e-6)
    _close(p1, p2, rtol=1e-5, atol=1e-7)
    bs.random.seed(0)
    init = training._flat_params(compiled("bptt", loss).network())
    assert any(np.abs(np.asarray(u.get_mantissa(p1[k])) - np.asarray(u.get_mantissa(init[k]))).sum() > 0
               for k in p1), "the step changed nothing"


@pytest.mark.parametrize("loss", ["cross_entropy(max(out, time), label) + cross_entropy(last(out), label) + "
                                  "0.1 * rate_reg(hidden, target = 5 Hz)",
                                  "spike_count_cross_entropy(hidden, label) + cross_entropy(sum(out, time), label)"])
def test_truncated_loss_is_each_windows_loss_from_the_carried_state(loss):
    """20 steps in windows of 6 (6 + 6 + 6 + 2): the reported loss is sum_w n_w L_w / T, where L_w is the
    train block's loss on window w alone (its reductions over the window), run from the state the windows
    before left (a learning rate of 1e-30 leaves the parameters as they were)."""
    x, y = _batch(20)
    model = compiled("truncated(window = 6)", loss, "sgd(lr = 1e-30)")
    bs.random.seed(0)
    net = model.network()
    _, train_step, _ = model.module.make_trainer(net, 8)
    reported, _, _ = train_step(x, y)
    bs.nn.reset_all_states(net, batch_size=8)
    windows = (x[0:6], x[6:12], x[12:18], x[18:])
    by_hand = sum(len(w) * float(model.module.loss_fn(net, w, y)[0]) for w in windows)
    assert float(reported) == pytest.approx(by_hand / 20, rel=1e-5)
    fresh = 0.0
    for w in windows:                   # each window from a reset state instead: not what truncated BPTT does
        bs.nn.reset_all_states(net, batch_size=8)
        fresh += len(w) * float(model.module.loss_fn(net, w, y)[0])
    assert float(reported) != pytest.approx(fresh / 20, rel=1e-5)


LINEAR = """\
import Expon from "std"
network Lin {
    dt = 1 ms
    input x: current[3] mA
    readout out = Expon(2, tau = 10 ms)
    connect x -> out: dense(w = kaiming_normal)
    output out
}
train Lin {
    loss = mse(mean(out, time), target)
    optimizer = sgd(lr = 0.2)
    loop = truncated(window = 1)
}
"""


def test_truncated_window_of_one_step_on_a_linear_model_is_the_closed_form():
    """g_t = a g_{t-1} + x_t W: with window 1 each step's loss mean((g_t - y)^2) is differentiated with g_{t-1}
    held fixed, dL_t/dW = 2/(B N) x_t^T (g_t - y), and SGD updates W before the next step."""
    model = snndsl.loads(LINEAR, "lin.snn")
    bs.random.seed(0)
    net = model.network()
    _, train_step, _ = model.module.make_trainer(net, 4)
    w = np.asarray(net.x_to_out.weight.value["weight"], np.float64)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    y = rng.normal(size=(4, 2)).astype(np.float32)
    loss, accuracy, _ = train_step(jnp.asarray(x), jnp.asarray(y))
    a, lr, g, losses = math.exp(-1 / 10), 0.2, np.zeros((4, 2)), []
    for t in range(6):
        g = a * g + x[t] @ w
        losses.append(np.mean((g - y) ** 2))
        w = w - lr * 2 / g.size * x[t].T @ (g - y)
    np.testing.assert_allclose(np.asarray(net.x_to_out.weight.value["weight"]), w, rtol=2e-5, atol=1e-6)
    assert float(loss) == pytest.approx(np.mean(losses), rel=1e-5)
    assert math.isnan(float(accuracy))


def test_windows_weigh_each_window_by_its_length():
    """_windows: 7 steps in windows of 3 are 3 + 3 + 1; the loss is sum n_w L_w / T; the state carries over."""
    _windows = compiled("truncated(window = 3)").module._windows
    counter = bs.ShortTermState(jnp.zeros(()))

    def update(xw, y):
        counter.value = counter.value + 1
        return xw.sum(), jnp.asarray(xw.shape[0], jnp.float32), {("w",): jnp.all(xw >= 0)}

    x = jnp.arange(7.0)
    loss, acc, finite = bs.transform.jit(lambda x: _windows(update, x, None, 3))(x)
    assert float(counter.value) == 3
    assert float(loss) == pytest.approx((3 * 3 + 3 * 12 + 1 * 6) / 7)
    assert float(acc) == pytest.approx((3 * 3 + 3 * 3 + 1 * 1) / 7)
    assert bool(finite[("w",)])


# ---------------------------------------------------------------- e-prop against its rule by hand
ONE = """\
import LIF, LI from "std"
network One {
    dt = 1 ms
    input x: current[1] mA
    pop n = LIF(1, tau = 10 ms, V_th = 1 mV, surrogate = relu_grad(alpha = 0.3, width = 1.0))
    readout out = LI(1, tau = 5 ms)
    connect x -> n: dense(w = 5.0)
    connect n -> out: dense(w = 0.5)
    output out
}
train One {
    loss = mse(mean(out, time), target)
    optimizer = sgd(lr = 0.1)
    loop = online(eprop)
}
"""


def test_eprop_update_on_one_neuron_is_the_rule_written_out():
    """e-prop (kappa = 0) on input -> LIF (soft reset) -> leaky readout, per-step loss l_t = (o_t - y)^2.

    Neuron: V_t = alpha (V_{t-1} - theta H(u_{t-1})) + (1 - alpha) R w x_t, u = (V - V_th) / theta, spike
    s_t = H(u_t) with surrogate psi(u) = 0.3 max(1 - |u|, 0); readout o_t = beta o_{t-1} + (1 - beta) v s_t.
    Traces: e_t = alpha (1 - psi(u_{t-1})) e_{t-1} + (1 - alpha) R x_t for w, f_t = beta f_{t-1} + (1 - beta)
    s_t for v; learning signals dl_t/dV_t = 2 (o_t - y) (1 - beta) v psi(u_t) / theta and dl_t/do_t = 2 (o_t -
    y); the gradient is the mean over steps of signal x trace; SGD: w <- w - lr grad.
    """
    model = snndsl.loads(ONE, "one.snn")
    assert "braintrace.EProp(net" in model.code and "braintrace.nn.Linear(1, 1" in model.code
    bs.random.seed(0)
    net = model.network()
    _, train_step, _ = model.module.make_trainer(net, 1)
    xs = np.array([1.5, 2.0, 0.3, 3.0, 0.0, 2.5, 1.0], np.float32)
    y = 0.3
    loss, _, _ = train_step(jnp.asarray(xs[:, None, None]), jnp.asarray([[y]], jnp.float32))
    alpha, beta, theta, lr = math.exp(-0.1), math.exp(-0.2), 1.0, 0.1
    w, v = 5.0, 0.5
    psi = lambda u_: 0.3 * max(1 - abs(u_), 0.0)  # noqa: E731
    V = o = e = f = 0.0
    gw = gv = 0.0
    losses = []
    for x_t in xs:
        u_prev = (V - 1.0) / theta
        V_new = alpha * (V - theta * (u_prev >= 0)) + (1 - alpha) * w * x_t
        e = alpha * (1 - psi(u_prev)) * e + (1 - alpha) * x_t
        u_t = (V_new - 1.0) / theta
        s = float(u_t >= 0)
        o = beta * o + (1 - beta) * v * s
        f = beta * f + (1 - beta) * s
        gw += 2 * (o - y) * (1 - beta) * v * psi(u_t) / theta * e
        gv += 2 * (o - y) * f
        losses.append((o - y) ** 2)
        V = V_new
    gw, gv = gw / len(xs), gv / len(xs)
    assert gw != 0 and gv != 0
    assert float(loss) == pytest.approx(np.mean(losses), rel=1e-5)
    assert float(np.asarray(net.x_to_n.weight.value["weight"]).item()) == pytest.approx(w - lr * gw, rel=1e-5)
    assert float(np.asarray(net.n_to_out.weight.value["weight"]).item()) == pytest.approx(v - lr * gv, rel=1e-5)


# ---------------------------------------------------------------- memory against the number of steps
def _temp_bytes(loop: str, steps: int) -> int:
    model = compiled(loop)
    bs.random.seed(0)
    train_step = model.module.make_trainer(model.network(), 8)[1]
    x, y = _batch(steps, p=0.05)
    return train_step.lower(x, y).compile().memory_analysis().temp_size_in_bytes


@pytest.mark.parametrize("loop", ["online(eprop)", "online(pp_prop)", "truncated(window = 25)"])
def test_online_and_truncated_step_memory_is_flat_in_the_number_of_steps(loop):
    sizes = [_temp_bytes(loop, t) for t in (100, 400, 1600)]
    assert max(sizes) <= 1.1 * min(sizes), f"{loop}: temp bytes {sizes} at T = 100, 400, 1600"


def test_bptt_step_memory_grows_with_the_number_of_steps():
    small, large = _temp_bytes("bptt", 100), _temp_bytes("bptt", 1600)
    assert large > 8 * small, f"bptt: {small} B at T = 100, {large} B at T = 1600"


# ---------------------------------------------------------------- the driver under every policy
def _run(model, out, epochs, resume=False):
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), spec.seed)
    return training.train(model, ds, epochs=epochs, batch=8, seed=spec.seed, out=out, resume=resume,
                          progress=False, log=lambda m: None)


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["truncated(window = 6)", "online(eprop(kappa = 0.5), window = 7)"])
def test_resume_equals_uninterrupted_under_windowed_policies(loop, tmp_path):
    model = compiled(loop, opt="adam(lr = 1e-2)")
    whole = _run(model, tmp_path / "whole", 3)
    _run(model, tmp_path / "split", 2)
    resumed = _run(model, tmp_path / "split", 3, resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for k, v in whole.params.items():
        np.testing.assert_array_equal(v, resumed.params[k])
    assert all(math.isfinite(h["loss"]) and 0 <= h["accuracy"] <= 1 for h in whole.history)


@pytest.mark.parametrize("loop", ["truncated(window = 6)", "online(pp_prop(decay = 0.5))"])
def test_non_finite_loss_stops_windowed_training(loop, tmp_path):
    model = compiled(loop)
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    bad = data.Dataset(ds.x * np.nan, ds.y)
    with pytest.raises(training.NonFinite, match=r"epoch 1: the (loss|gradient of `.*`) is not finite"):
        training.train(model, bad, epochs=1, batch=8, seed=0, out=tmp_path, progress=False, log=lambda m: None)


def test_online_module_is_standalone_and_names_its_algorithm():
    model = compiled("online(pp_prop(decay = 0.5), window = 5)")
    assert "import braintrace\n" in model.code and "snndsl" not in model.code.split('"""', 2)[2]
    assert "learner = braintrace.pp_prop(net, decay_or_rank=0.5)" in model.code
    assert "_windows(update, x, y, 5)" in model.code
    assert "braintrace" not in compiled("truncated(window = 5)").code
