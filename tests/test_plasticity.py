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
import LIF, STDP, STDPMult, TripletSTDP from "std"

network Pairs {
    dt = 0.1 ms
    input x: spikes[%(n)d]
    input drive: spikes[1]
    pop post = LIF(1, tau = 10 ms, V_th = 1 mV)
    connect kick: drive -> post: one_to_one(w = 150 mA)
    connect p0: x -> post: dense(w = %(w0)s uA), plasticity = STDP(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA)
    connect p3: x -> post: dense(w = %(w0)s uA), plasticity = STDP(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA), delay = 0.3 ms
    connect mult: x -> post: dense(w = %(w0)s uA), plasticity = STDPMult(A_plus = %(ap)s, A_minus = %(am)s, tau_plus = %(tp)s ms, tau_minus = %(tm)s ms, w_max = %(wm)s uA)
    output post
}

network Triplets {
    dt = 0.1 ms
    input x: spikes[1]
    input drive: spikes[1]
    pop post = LIF(1, tau = 10 ms, V_th = 1 mV)
    connect kick: drive -> post: one_to_one(w = 150 mA)
    connect trip: x -> post: dense(w = %(w0)s uA), plasticity = TripletSTDP(A2_plus = 0.01, A3_plus = 0.02, A2_minus = 0.012, A3_minus = 0.005, w_max = %(wm)s uA)
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
    out, rec = model.simulate(net, (jnp.asarray(x), jnp.asarray(drive)), record=("p0.w", "p3.w", "mult.w"))
    spikes = np.asarray(out)[:, 0]
    weights = {k: np.asarray(u.get_mantissa(v))[:, :, 0] for k, v in rec.items()}
    return spikes, weights, (model, net, (jnp.asarray(x), jnp.asarray(drive)))


def pair_rule(delay_steps: int) -> np.ndarray:
    dt = (POST - (PRE + delay_steps)) * DT
    return np.where(dt >= 0, A_PLUS * W_MAX * np.exp(-np.abs(dt) / TAU_PLUS),
                    -A_MINUS * W_MAX * np.exp(-np.abs(dt) / TAU_MINUS))


def test_the_postsynaptic_neuron_fires_once_where_placed(run):
    spikes, _, _ = run
    assert np.flatnonzero(spikes).tolist() == [POST]


@pytest.mark.parametrize("path, delay", [("p0.w", 0), ("p3.w", 3)])
def test_additive_stdp_is_the_closed_form_pair_rule(run, path, delay):
    _, w, _ = run
    dw = w[path][-1] - W0
    np.testing.assert_allclose(dw, pair_rule(delay), rtol=2e-4, atol=1e-7)
    signs = np.sign(pair_rule(delay))
    assert (signs > 0).any() and (signs < 0).any()      # both potentiation and depression cases occur


def test_weights_change_only_at_events(run):
    """Between events w stays put: it changes at the step a spike arrives or the post neuron fires."""
    _, w, _ = run
    changed = np.flatnonzero(np.any(np.diff(w["p3.w"], axis=0) != 0, axis=1)) + 1
    assert set(changed) <= set((PRE + 3).tolist()) | {POST}


def test_thinned_records_are_every_kth_step(run):
    """``thin`` paths are recorded at the last step of each block of ``every`` steps; the outputs (and the
    every-step records) are those of the plain run, remainder steps included."""
    spikes, w, (model, net, inputs) = run
    out, rec = model.simulate(net, inputs, record=("post",), thin=("p3.w",), every=7)
    np.testing.assert_array_equal(np.asarray(out)[:, 0], spikes)
    np.testing.assert_array_equal(np.asarray(rec["post"])[:, 0], spikes)
    thinned = np.asarray(u.get_mantissa(rec["p3.w"]))[:, :, 0]
    assert thinned.shape == (T // 7, N)
    np.testing.assert_allclose(thinned, w["p3.w"][6::7][:T // 7])


def test_triplet_stdp_is_pfister_and_gerstners_rule(run):
    """Pre at t0, post at t1 and t2, pre again at t3 (all-to-all, Pfister & Gerstner 2006, eq. 3-4): the second
    post spike potentiates by r1 (A2+ + A3+ o2(t2-)), the late pre depresses by o1 (A2- + A3- r2(t3-))."""
    model = run[2][0]
    t0, t1, t2, t3 = 50, 120, 170, 260
    x = np.zeros((300, 1), np.float32)
    x[[t0, t3], 0] = 1
    drive = np.zeros((300, 1), np.float32)
    drive[[t1, t2], 0] = 1
    out, rec = model.simulate(model.network("Triplets"), (jnp.asarray(x), jnp.asarray(drive)), record=("trip.w",))
    assert np.flatnonzero(np.asarray(out)[:, 0]).tolist() == [t1, t2]
    w = np.asarray(u.get_mantissa(rec["trip.w"]))[:, 0, 0]
    tp, tm, tx, ty = 16.8, 33.7, 101.0, 125.0
    e = lambda steps, tau: np.exp(-steps * DT / tau)                 # noqa: E731
    dw1 = W_MAX * e(t1 - t0, tp) * 0.01
    dw2 = W_MAX * e(t2 - t0, tp) * (0.01 + 0.02 * e(t2 - t1, ty))
    dw3 = -W_MAX * (e(t3 - t1, tm) + e(t3 - t2, tm)) * (0.012 + 0.005 * e(t3 - t0, tx))
    np.testing.assert_allclose([w[t1] - W0, w[t2] - w[t1], w[t3] - w[t2]], [dw1, dw2, dw3], rtol=2e-4)


def test_multiplicative_stdp_scales_by_the_room_left(run):
    _, w, _ = run
    dt = (POST - PRE) * DT
    expected = np.where(dt >= 0, A_PLUS * (W_MAX - W0) * np.exp(-np.abs(dt) / TAU_PLUS),
                        -A_MINUS * W0 * np.exp(-np.abs(dt) / TAU_MINUS))
    np.testing.assert_allclose(w["mult.w"][-1] - W0, expected, rtol=2e-4, atol=1e-7)


# ---------------------------------------------------------------------------------------- STP, STD
STP_SOURCE = """
import Expon, STP, STD from "std"

network Short {
    dt = 0.1 ms
    input x: spikes[%(n)d]
    readout r = Expon(%(n)d, tau = 5 ms)
    connect f: x -> r: one_to_one(w = 1), plasticity = STP(U = 0.2, tau_f = 300 ms, tau_d = 50 ms)
    connect d: x -> r: one_to_one(w = 1), plasticity = STD(U = 0.3, tau = 40 ms)
    output r
}
"""
T_STP, N_STP, B_STP = 3000, 4, 2


@pytest.fixture(scope="module")
def stp_run():
    model = snndsl.loads(STP_SOURCE % dict(n=N_STP))
    net = model.network()
    rng = np.random.default_rng(3)
    x = (rng.random((T_STP, B_STP, N_STP)) < np.array([0.002, 0.005, 0.01, 0.03])).astype(np.float32)
    _, rec = model.simulate(net, (jnp.asarray(x),), batch_size=B_STP, record=("f.u", "f.x", "d.x"))
    return x, {k: np.asarray(u.get_mantissa(v)) for k, v in rec.items()}


def brainpy_trace(cls, x, **params):
    """The states of brainpy.state's ``cls`` driven by the spikes ``x`` [T, B, N], one step at a time."""
    import brainpy

    syn = cls(N_STP, **params)
    names = ("u", "x") if cls is brainpy.state.STP else ("x",)
    syn.init_state(batch_size=B_STP)

    def step(xt):
        with bs.environ.context(dt=0.1 * u.ms):
            syn.update(xt)
        return tuple(getattr(syn, n).value for n in names)

    out = bs.transform.for_loop(step, jnp.asarray(x))
    return dict(zip(names, (np.asarray(u.get_mantissa(o)) for o in out)))


def test_stp_equals_brainpy_state(stp_run):
    import brainpy

    x, rec = stp_run
    ref = brainpy_trace(brainpy.state.STP, x, U=0.2, tau_f=300 * u.ms, tau_d=50 * u.ms)
    np.testing.assert_allclose(rec["f.u"], ref["u"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rec["f.x"], ref["x"], rtol=1e-5, atol=1e-6)
    assert rec["f.x"].min() < 0.5 and rec["f.u"].max() > 0.4     # depression and facilitation both happen


def test_std_equals_brainpy_state(stp_run):
    import brainpy

    x, rec = stp_run
    ref = brainpy_trace(brainpy.state.STD, x, U=0.3, tau=40 * u.ms)
    np.testing.assert_allclose(rec["d.x"], ref["x"], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- sparse = dense with its mask
SPARSE_SOURCE = """
import LIF, STDP from "std"

network Prob {
    dt = 0.1 ms
    input x: spikes[12]
    input drive: spikes[6]
    pop post = LIF(6, tau = 10 ms, V_th = 1 mV)
    connect kick: drive -> post: one_to_one(w = 150 mA)
    connect p: x -> post: fixed_prob(p = 0.4, w = 0.5 uA, seed = 7), plasticity = STDP(A_plus = 0.05, A_minus = 0.06, w_max = 1 uA), delay = 0.2 ms
    output post
}
"""


def test_sparse_plastic_weights_equal_the_masked_dense_ones(monkeypatch):
    from snndsl.registry import model_entries

    rng = np.random.default_rng(5)
    x = jnp.asarray((rng.random((300, 12)) < 0.05).astype(np.float32))
    drive = jnp.asarray((rng.random((300, 6)) < 0.03).astype(np.float32))
    runs = {}
    for storage, limit in (("masked", model_entries.SPARSE_ABOVE), ("sparse", 0)):
        monkeypatch.setattr(model_entries, "SPARSE_ABOVE", limit)
        model = snndsl.loads(SPARSE_SOURCE)
        assert model.ir().projections[1].facts.storage == storage
        out, rec = model.simulate(model.network(), (x, drive), record=("p.w",))
        runs[storage] = np.asarray(out), np.asarray(u.get_mantissa(rec["p.w"]))
    from snndsl.lower.prelude import _fixed_prob_mask
    mask = np.asarray(_fixed_prob_mask(12, 6, 0.4, 7))            # the connectivity both storages draw
    dense, sparse = runs["masked"][1], runs["sparse"][1]
    np.testing.assert_array_equal(runs["masked"][0], runs["sparse"][0])
    np.testing.assert_allclose(dense[:, mask], sparse, rtol=1e-6)
    assert np.all(dense[:, ~mask] == 0)                          # no weight grows where there is no synapse
    assert np.abs(sparse[-1] - 0.5).max() > 0.01                 # the weights did change


# ------------------------------------------------------------------------ a train block around plasticity
TRAIN_SOURCE = """
import LIF, Expon, STDP from "std"

network Learner {
    dt = 1 ms
    input x: spikes[12]
    pop hidden = LIF(6, tau = 10 ms, surrogate = relu_grad(alpha = 0.3, width = 1.0))
    readout out = Expon(2, tau = 5 ms)
    connect stdp: x -> hidden: dense(w = 2 mA), synapse = Expon(tau = 5 ms), plasticity = STDP(w_max = 4 mA, A_plus = 0.05, A_minus = 0.06)
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}

train Learner {
    data = poisson_patterns(steps = 20, samples = 16, rate = 50 Hz, classes = 2)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-2)
    epochs = 2
    batch = 8
    seed = 3
}
"""


def test_a_train_block_trains_the_other_parameters_of_a_plastic_network(tmp_path):
    """The readout weights get a finite, nonzero gradient through the plastic projection's spikes; the plastic
    weights are states, not parameters (the optimizer never sees them)."""
    from snndsl.runtime import data

    model = snndsl.loads(TRAIN_SOURCE, "learner.snn")
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    net = model.network()
    bs.nn.init_all_states(net, batch_size=8)
    params = net.states(bs.ParamState)
    assert not any("stdp" in str(k) for k in params)
    x = jnp.asarray(np.swapaxes(ds.x[:8], 0, 1))

    def loss():
        bs.nn.init_all_states(net, batch_size=8)
        outs = bs.transform.for_loop(lambda xt: net.update(xt), x)
        return jnp.mean(u.get_mantissa(outs) ** 2)

    grads = bs.transform.grad(loss, params)()
    g = np.concatenate([np.ravel(np.asarray(v)) for v in __import__("jax").tree_util.tree_leaves(grads)])
    assert np.all(np.isfinite(g)) and np.abs(g).max() > 0
    from snndsl.cli import main
    path = tmp_path / "learner.snn"
    path.write_text(TRAIN_SOURCE)
    assert main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress"]) == 0


# ------------------------------------------------------------------------------------- models/stdp.snn
@pytest.mark.slow
def test_song_miller_abbott_ends_bimodal(tmp_path):
    """`snndsl run models/stdp.snn --record stdp.w` over its own duration: at least 70 % of the weights within
    10 % of a bound, and both bounds populated (at least 1 % of the weights near each)."""
    import json

    from snndsl.cli import main

    from .conftest import ROOT

    path = ROOT / "models" / "stdp.snn"
    assert path.read_text().splitlines()[0] == "# record: stdp.w"
    assert main(["run", str(path), "--record", "stdp.w", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    w = np.load(tmp_path / "record.npz")["record.stdp.w"]
    assert w.shape[1:] == (1000, 1) and summary["steps"] == 1_000_000
    assert w.shape[0] == 1_000_000 // summary["record_every"]
    f = w[-1, :, 0] / 0.05
    low, high = (f <= 0.1).mean(), (f >= 0.9).mean()
    assert low + high >= 0.7 and low >= 0.01 and high >= 0.01, (low, high)
    assert (w[0, :, 0] / 0.05 > 0.2).mean() > 0.5           # it started spread out, not at the bounds


def test_run_records_plastic_states_and_keeps_their_final_values(tmp_path):
    """`snndsl run --record PROJECTION.STATE` on models/stp.snn: the record path its first line names, the
    final states in record.npz; without --steps it would run its `duration` (2 s = 20000 steps)."""
    from snndsl.cli import main
    from snndsl.runtime import simulate
    from snndsl.runtime.model import load

    from .conftest import ROOT

    path = ROOT / "models" / "stp.snn"
    record = path.read_text().splitlines()[0].removeprefix("# record: ")
    assert simulate.default_steps(load(path)) == 20000
    assert main(["run", str(path), "--steps", "300", "--record", record, "--out", str(tmp_path)]) == 0
    data = np.load(tmp_path / "record.npz")
    u_ = data[f"record.{record}"]
    assert u_.shape == (300, 20) and np.all(u_ > 0)
    np.testing.assert_allclose(data["final.facilitating.u"], u_[-1])
    assert main(["run", str(path), "--steps", "3", "--record", "facilitating.nope"]) == 2


def test_nir_export_refuses_plastic_projections(tmp_path, capsys):
    from snndsl.cli import main

    from .conftest import ROOT

    assert main(["export", str(ROOT / "models" / "stp.snn"), "--to", "nir", "-o", str(tmp_path / "x.nir")]) == 1
    assert "projection `facilitating` is not expressible in NIR: its weights change" in capsys.readouterr().err
