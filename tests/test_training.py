"""The emitted train step: BPTT = checkpointed gradients, traced once, resume equals uninterrupted, and a
non-finite loss stops training without losing the last good checkpoint."""

from __future__ import annotations

import json

import brainstate as bs
import brainunit as u
import jax
import numpy as np
import pytest

import snndsl
from snndsl.runtime import data
from snndsl.runtime import train_driver as training
from snndsl.cli import main

TINY = """\
import LIF, Expon from "std"
network Tiny {
    dt = 1 ms
    input x: spikes[12]
    pop hidden = LIF(6, tau = 10 ms, surrogate = relu_grad(alpha = 0.3, width = 1.0))
    readout out = Expon(2, tau = 5 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
train Tiny {
    data = poisson_patterns(steps = 20, samples = 16, rate = 50 Hz, classes = 2)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-2)
    loop = LOOP
    epochs = 4
    batch = 8
    seed = 3
}
"""


def compiled(loop="bptt"):
    return snndsl.loads(TINY.replace("LOOP", loop), "tiny.snn")


@pytest.fixture(scope="module")
def bptt():
    return compiled()


@pytest.fixture(scope="module")
def ckpt():
    return compiled("checkpointed(base = 4)")


def _grads(model, steps=20):
    bs.random.seed(0)
    net = model.network()
    bs.nn.init_all_states(net, batch_size=4)
    x = (np.random.default_rng(0).random((steps, 4, 12)) < 0.2).astype(np.float32)
    y = np.array([0, 1, 0, 1])
    params = net.states(bs.ParamState)

    def objective():
        bs.nn.reset_all_states(net, batch_size=4)
        return model.module.loss_fn(net, x, y)

    grads, loss, _ = bs.transform.grad(objective, params, return_value=True, has_aux=True)()
    return jax.tree_util.tree_map(lambda g: np.asarray(u.get_mantissa(g)), grads), float(loss)


@pytest.mark.parametrize("steps", [20, 23])      # 5 segments of 4; 5 of 4 and a last one of 3
def test_bptt_and_checkpointed_gradients_agree(bptt, ckpt, steps):
    (g1, l1), (g2, l2) = _grads(bptt, steps), _grads(ckpt, steps)
    assert l1 == pytest.approx(l2, rel=1e-6)
    for a, b in zip(jax.tree_util.tree_leaves(g1), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)
    assert any(np.abs(a).sum() > 0 for a in jax.tree_util.tree_leaves(g1))


def test_checkpointed_policy_is_emitted(ckpt):
    assert "_loop(step, acc, x, segment=4, project=net.project)" in ckpt.code


def test_the_step_is_traced_once(bptt, monkeypatch):
    calls = []
    original = bptt.module.loss_fn
    monkeypatch.setattr(bptt.module, "loss_fn", lambda *a: (calls.append(1), original(*a))[1])
    spec = bptt.program.trains[0]
    ds = data.load(spec.data, bptt.ir(), 0)
    training.train(bptt, ds, epochs=3, batch=8, seed=0, progress=False, log=lambda m: None)
    assert len(calls) == 1


def _run(model, tmp_path, epochs, resume=False):
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), spec.seed)
    return training.train(model, ds, epochs=epochs, batch=8, seed=spec.seed, out=tmp_path, resume=resume,
                          progress=False, log=lambda m: None)


def test_resume_equals_uninterrupted(bptt, tmp_path):
    whole = _run(bptt, tmp_path / "whole", 4)
    _run(bptt, tmp_path / "split", 2)
    resumed = _run(bptt, tmp_path / "split", 4, resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    for k, v in whole.params.items():
        np.testing.assert_array_equal(v, resumed.params[k])
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(ln)["epoch"] for ln in lines] == [1, 2, 3, 4]
    for key in ("epoch", "loss", "accuracy", "seconds"):
        assert key in json.loads(lines[0])


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    model = compiled()
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    training.train(model, ds, epochs=1, batch=8, seed=0, out=tmp_path, progress=False, log=lambda m: None)
    good = (tmp_path / "params").read_bytes()
    bad = data.Dataset(ds.x * np.nan, ds.y)
    with pytest.raises(training.NonFinite, match=r"epoch 2: the (loss|gradient of `.*`) is not finite"):
        training.train(model, bad, epochs=2, batch=8, seed=0, out=tmp_path, resume=True, progress=False,
                       log=lambda m: None)
    assert (tmp_path / "params").read_bytes() == good


def test_non_finite_parameters_are_never_checkpointed(tmp_path):
    """A learning rate so large that the first update overflows the weights: the gradient was finite, the
    parameters are not; no checkpoint is written and the message says so instead of naming one."""
    text = TINY.replace("LOOP", "bptt").replace("adam(lr = 1e-2)", "sgd(lr = 1e39)")
    model = snndsl.loads(text, "huge.snn")
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    with pytest.raises(training.NonFinite) as err:
        training.train(model, ds, epochs=2, batch=16, seed=0, out=tmp_path, progress=False, log=lambda m: None)
    assert "epoch 1: parameter `" in str(err.value) and "not finite after the update" in str(err.value)
    assert "no checkpoint was written" in str(err.value)
    assert not (tmp_path / "params").exists()


def test_a_stale_checkpoint_of_another_run_is_not_named(tmp_path):
    """Without --resume, a checkpoint left in the folder by an earlier run is not "the last good" one."""
    model = compiled()
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    training.train(model, ds, epochs=1, batch=8, seed=0, out=tmp_path, progress=False, log=lambda m: None)
    with pytest.raises(training.NonFinite, match="no checkpoint was written"):
        training.train(model, data.Dataset(ds.x * np.nan, ds.y), epochs=1, batch=8, seed=0, out=tmp_path,
                       progress=False, log=lambda m: None)


def test_cli_train_writes_metrics_checkpoint_and_plots(tmp_path, capsys):
    path = tmp_path / "tiny.snn"
    path.write_text(TINY.replace("LOOP", "bptt"))
    out = tmp_path / "run"
    assert main(["train", str(path), "--epochs", "2", "--out", str(out), "--no-progress"]) == 0
    assert {p.name for p in out.iterdir()} >= {"metrics.jsonl", "params", "loss.png", "accuracy.png"}
    assert "trained Tiny for 2 epochs" in capsys.readouterr().out


def test_evaluate_weights_batches_by_their_sample_counts():
    def eval_step(x, y):   # accuracy 1 on the first batch of 4, 0 on the last batch of 1
        return 0.0, float(len(y) == 4)
    x = np.zeros((5, 7, 3), np.float32)
    loss, acc = training.evaluate(eval_step, x, np.zeros(5, np.int32), 4)
    assert acc == pytest.approx(4 / 5)


def test_learning_rate_schedule_advances_each_epoch(tmp_path):
    text = TINY.replace("LOOP", "bptt").replace("adam(lr = 1e-2)", "sgd(lr = step(0.1, step_size = 1, gamma = 0.5))")
    model = snndsl.loads(text, "tiny.snn")
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    seen = []
    original = model.module.make_trainer

    def spy(net, batch_size, optimizer=None):
        opt, step, ev = original(net, batch_size, optimizer)
        seen.append(opt)
        return opt, step, ev

    model.module.make_trainer = spy
    training.train(model, ds, epochs=3, batch=8, seed=0, progress=False, log=lambda m: None)
    assert float(seen[0].current_lr) == pytest.approx(0.1 * 0.5 ** 3)


def _ce(p, y):
    p = np.asarray(p, np.float64)
    logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
    return -np.mean(logp[np.arange(len(y)), y])


LOSSES = {   # loss -> the same loss computed with numpy from the recorded sequences
    "cross_entropy(max(out, time), label)": lambda r, y: _ce(r["out"].max(0), y),
    "cross_entropy(last(out, time), label)": lambda r, y: _ce(r["out"][-1], y),
    "cross_entropy(sum(out, time) * 0.1, label)": lambda r, y: _ce(r["out"].sum(0) * 0.1, y),
    "spike_count_cross_entropy(hidden, label) + rate_reg(hidden, 10 Hz)":
        lambda r, y: _ce(r["hidden"].sum(0), y) + np.mean((r["hidden"].mean(0) / 1e-3 - 10.0) ** 2),
    "cross_entropy(mean(out, time), label) + 0.01 * mse(mean(hidden.V, time) / (1 mV), 0.5)":
        lambda r, y: _ce(r["out"].mean(0), y) + 0.01 * np.mean((r["hidden.V"].mean(0) - 0.5) ** 2),
    "mse(out, 0.5)": lambda r, y: np.mean((r["out"] - 0.5) ** 2),
    "cross_entropy(mean(out - mean(out, time), time) + max(out, time), label)":
        lambda r, y: _ce((r["out"] - r["out"].mean(0)).mean(0) + r["out"].max(0), y),
}


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_reduced_inside_the_loop_equal_reductions_of_the_recorded_run(loss):
    """Reductions over time are running values in the loop's carry (sequences used unreduced are collected):
    the loss equals the same expression on `simulate`'s recorded sequences."""
    text = TINY.replace("LOOP", "bptt").replace("loss = cross_entropy(mean(out, time), label)", f"loss = {loss}")
    model = snndsl.loads(text, "tiny.snn")
    bs.random.seed(0)
    net = model.network()
    bs.nn.init_all_states(net, batch_size=4)
    x = (np.random.default_rng(0).random((20, 4, 12)) < 0.3).astype(np.float32)
    y = np.array([0, 1, 0, 1])
    value, _ = model.module.loss_fn(net, x, y)
    _, rec = model.simulate(net, (x,), batch_size=4, record=("out", "hidden", "hidden.V"))
    rec = {k: np.asarray(u.get_mantissa(v)) for k, v in rec.items()}
    assert float(value) == pytest.approx(LOSSES[loss](rec, y), rel=1e-5, abs=1e-6)
    collected = loss.startswith(("mse(out", "cross_entropy(mean(out - mean"))   # unreduced, or a nested reduction
    assert ("seq['out']" in model.code) == collected
