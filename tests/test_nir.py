"""NIR export and import (issue #6): .snn -> NIR -> .snn gives the same simulation for every supported primitive
and for models/seed.snn; hand-built NIR graphs import and simulate to the closed-form (or brainpy.state)
answer; files in other tools' conventions (scalars broadcast, arrays per neuron, nested graphs) import; what NIR
cannot express is refused with SNN701 at its population or projection.

JAX compiles dominate the run time, so each network is compiled once per module (fixtures below)."""

from __future__ import annotations

import argparse
import json

import brainstate as bs
import brainunit as u
import numpy as np
import pytest

nir = pytest.importorskip("nir")

import snndsl  # noqa: E402
from snndsl import SnnError  # noqa: E402
from snndsl.nir import export as nir_export, importer as nir_import  # noqa: E402
from snndsl.nir.recognise import FIELDS  # noqa: E402
from snndsl.syntax.format import format_text  # noqa: E402

from .conftest import ROOT  # noqa: E402

# Every exportable primitive in one network (one compile): stdlib LIF (soft reset, per-neuron tau, trainable,
# custom surrogate), a hard-reset LIF, stdlib IF (leaky), a non-leaky IF, CubaLIF, CubaLI, a threshold unit,
# an integrator, stdlib LI, Expon readouts and an Expon synapse on a recurrent projection; Affine, Linear,
# one_to_one (Scale), fixed_prob, a delay, a current input in uA and a projection from a non-spiking population.
ALL = """
import LIF, IF, LI, Expon from "std"

neuron HardLIF {
    param tau: ms = 10 ms
    param R: ohm = 2 ohm
    param V_rest: mV = -0.2 mV
    param V_th: mV = 1 mV
    param V_reset: mV = -0.5 mV
    input I: mA
    state V: mV = 0 mV
    dV/dt = (V_rest - V + R * I) / tau
    spike when V > V_th
    reset hard V = V_reset
}

neuron Counter {
    param gain: 1/ms = 0.2 / ms
    input I: 1
    state V: 1 = 0
    dV/dt = gain * I
    spike when V >= 1
    reset soft V = 0
}

neuron Acc {
    input I: 1
    state V: 1 = 0
    dV/dt = I / (5 ms)
}

neuron Cuba {
    param tau_syn: ms = 5 ms
    param tau_mem: ms = 10 ms
    param R: ohm = 1 ohm
    param V_th: mV = 0.8 mV
    input S: mA
    state I: mA = 0 mA
    state V: mV = 0 mV
    dI/dt = (S - I) / tau_syn
    dV/dt = (R * I - V) / tau_mem
    spike when V >= V_th
    reset soft V = 0 mV
}

neuron CubaRate {
    param tau_syn: ms = 3 ms
    param tau_mem: ms = 6 ms
    input S: 1
    state I: 1 = 0
    state v: 1 = 0
    dI/dt = (2 * S - I) / tau_syn
    dv/dt = (0.1 - v + 0.5 * I) / tau_mem
}

neuron Thresh {
    param theta = 0.5
    input I: 1
    state v: 1 = 0
    dv/dt = (I - v) / dt
    spike when v > theta
    reset hard v = 0
    method euler
}

network All {
    dt = 0.5 ms
    input x: spikes[4]
    input c: current[3] uA
    pop lif = LIF(3, tau = uniform(5 ms, 10 ms), trainable V_th = 0.5 mV, surrogate = sigmoid(alpha = 2.0))
    pop hard = HardLIF(3)
    pop ifn = IF(3, tau = 10 ms)
    pop cnt = Counter(2)
    pop cuba = Cuba(3)
    pop cli = CubaRate(2)
    pop th = Thresh(3)
    pop acc = Acc(2)
    readout li = LI(2, tau = 4 ms)
    readout ex = Expon(2, tau = 6 ms)
    readout d = Expon(3, tau = 2 ms)
    connect x -> lif: dense(w = normal(2 mA, 1 mA), b = constant(0.05 mA))
    connect c -> hard: dense(w = normal(0.6, 0.2))
    connect lif -> lif: dense(w = normal(0 mA, 0.5 mA)), synapse = Expon(tau = 3 ms)
    connect x -> ifn: fixed_prob(p = 0.5, w = 4 mA), delay = 1 ms
    connect lif -> cnt: dense(w = uniform(0.2, 0.6))
    connect x -> cuba: dense(w = normal(1.5 mA, 0.5 mA))
    connect cuba -> cli: dense(w = normal(0.5, 0.2))
    connect hard -> th: one_to_one(w = 0.7)
    connect lif -> li: dense(w = kaiming_normal)
    connect cnt -> acc: dense(w = uniform(0.5, 1.0))
    connect ifn -> ex: dense(w = normal(1, 0.3))
    connect li -> d: dense(w = normal(0, 1))
    output ex, d, th, cli, acc
}
"""
ALL_TYPES = {"lif": "LIF", "hard": "LIF", "ifn": "LIF", "cnt": "IF", "cuba": "CubaLIF", "cli": "CubaLI",
             "th": "Threshold", "acc": "I", "li": "LI", "ex": "LI", "d": "LI", "lif_to_lif_syn": "LI",
             "x_to_lif": "Affine", "c_to_hard": "Linear", "x_to_ifn": "Linear", "x_to_ifn_delay": "Delay",
             "hard_to_th": "Scale"}
#: The state traces compared: original path -> imported path (literal NIR models name their membrane `v`).
ALL_TRACES = {"lif.V": "lif.V", "hard.V": "hard.v", "cuba.V": "cuba.v", "cuba.I": "cuba.I", "cli.v": "cli.v",
              "acc.V": "acc.v", "li.V": "li.V", "ex.g": "ex.g"}


def _np(x):
    return np.asarray(x.mantissa if isinstance(x, u.Quantity) else x, dtype=np.float64)


def _strip(graph):
    """The graph as a tool that knows nothing of snndsl writes it: only dt, reset and units stay."""
    for node in graph.nodes.values():
        if getattr(node, "metadata", None):
            node.metadata.pop("snndsl", None)
    return graph


def _round_trip(path, tmp, net_seed=3, scale=None):
    model = snndsl.load(path)
    bs.random.seed(net_seed)
    net = model.network()
    if scale:
        for name, k in scale.items():
            getattr(net, name).weight.value = {a: v * k for a, v in getattr(net, name).weight.value.items()}
    graph = nir_export.to_nir(model, net)
    nir.write(str(tmp / "model.nir"), graph)
    imported = nir_import.read(tmp / "model.nir")
    snn, _ = imported.write(tmp / "imported.snn")
    model2, net2 = nir_import.load(snn)
    return model, net, graph, imported, model2, net2


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    return _round_trip(ROOT / "models" / "seed.snn", tmp_path_factory.mktemp("seed"), scale={"x_to_hidden": 8})


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("all")
    (tmp / "all.snn").write_text(ALL)
    return _round_trip(tmp / "all.snn", tmp)


@pytest.fixture(scope="module")
def all_inputs():
    rng = np.random.default_rng(0)
    return (rng.random((120, 4)) < 0.3).astype(np.float32), (rng.random((120, 3)) * 2000).astype(np.float32)


# ---------------------------------------------------------------- snn -> NIR: what is written


def test_seed_exports_continuous_time_parameters_in_seconds(seed):
    model, net, graph, *_ = seed
    kinds = {k: type(v).__name__ for k, v in graph.nodes.items()}
    assert kinds == {"x": "Input", "hidden": "LIF", "out": "LI", "x_to_hidden": "Affine", "x_to_hidden_syn": "LI",
                     "hidden_to_out": "Affine", "output": "Output"}
    assert ("x_to_hidden_syn", "hidden") in graph.edges and ("out", "output") in graph.edges
    lif = graph.nodes["hidden"]
    # tau = 20 ms is 0.02 s: not 20 (ms taken for s), not 20 steps, not a decay factor exp(-dt/tau)
    np.testing.assert_allclose(lif.tau, 0.02, rtol=1e-12)
    np.testing.assert_allclose(lif.r, 1.0)
    np.testing.assert_allclose(lif.v_threshold, 1.0)
    np.testing.assert_allclose(lif.v_leak, 0.0)
    assert float(lif.metadata["dt"]) == pytest.approx(1e-3) and lif.metadata["reset"] == "soft"
    assert lif.metadata["units"]["tau"] == "s" and lif.metadata["units"]["v_threshold"] == "mV"
    syn = graph.nodes["x_to_hidden_syn"]
    np.testing.assert_allclose(syn.tau, 0.005)
    # Expon's jump g += w is NIR's LI with r = 1 / (1 - exp(-dt/tau)), integrated exactly over a step
    np.testing.assert_allclose(syn.r, 1.0 / (1.0 - np.exp(-1.0 / 5.0)), rtol=1e-12)
    w = net.x_to_hidden.weight.value
    np.testing.assert_array_equal(graph.nodes["x_to_hidden"].weight, np.asarray(w["weight"].mantissa).T)  # (out, in)
    assert graph.nodes["x_to_hidden"].metadata["unit"] == "mA"


def test_every_primitive_maps_to_its_nir_node(everything):
    graph = everything[2]
    for name, kind in ALL_TYPES.items():
        assert type(graph.nodes[name]).__name__ == kind, name
    nodes = graph.nodes
    assert ("lif_to_lif_syn", "lif") in graph.edges and ("lif", "lif_to_lif") in graph.edges     # recurrent
    np.testing.assert_allclose(nodes["x_to_ifn_delay"].delay, 1e-3)
    np.testing.assert_allclose(nodes["cnt"].r, 200.0)                    # 0.2 /ms is 200 /s
    np.testing.assert_allclose(nodes["acc"].r, 200.0)
    np.testing.assert_allclose(nodes["th"].threshold, 0.5)
    np.testing.assert_allclose(nodes["cuba"].tau_syn, 5e-3)
    np.testing.assert_allclose(nodes["cli"].w_in, 2.0)
    np.testing.assert_allclose(nodes["cli"].v_leak, 0.1)
    assert nodes["hard"].metadata["reset"] == "hard" and nodes["cnt"].metadata["reset"] == "soft"
    assert np.ptp(nodes["lif"].tau) > 0                                   # one value per neuron
    # uA input, unitless weights: NIR weights deliver mA per uA of input
    assert nodes["c_to_hard"].metadata["unit"] == "mA"


def test_values_are_written_in_one_coherent_unit_system():
    """A model written in volts, amperes and seconds exports the same numbers as one in mV, mA and ms."""
    model = snndsl.loads("""
neuron VoltLIF {
    param tau: second = 0.02 second
    param R: kohm = 2 kohm
    param V_th: V = 0.015 V
    input I: A
    state V: V = 0 V
    dV/dt = (-V + R * I) / tau
    spike when V > V_th
    reset hard V = 0.001 V
}
network N {
    dt = 0.1 ms
    input x: current[2] nA
    pop p = VoltLIF(2)
    connect x -> p: one_to_one(w = 3)
    output p
}
""")
    graph = nir_export.to_nir(model)
    lif = graph.nodes["p"]
    np.testing.assert_allclose(lif.tau, 0.02)
    np.testing.assert_allclose(lif.r, 2000.0)            # ohm = mV / mA
    np.testing.assert_allclose(lif.v_threshold, 15.0)    # mV
    np.testing.assert_allclose(lif.v_reset, 1.0)
    assert lif.metadata["units"]["r"] == "ohm" and lif.metadata["units"]["v_threshold"] == "mV"
    # 3 x (a signal in nA) is 3e-6 mA per nA
    np.testing.assert_allclose(graph.nodes["x_to_p"].scale, 3e-6, rtol=1e-6)
    assert graph.nodes["x_to_p"].metadata["unit"] == "mA"
    # read back, a weight per nA is an expression (`3e-06 1/nA` would not parse)
    text = nir_import.from_nir(graph).text
    assert "connect x -> p: one_to_one(w = 3e-06 / nA)" in text
    snndsl.check_text(text)


# ---------------------------------------------------------------- snn -> NIR -> snn: the same simulation


def test_seed_round_trip_simulates_identically(seed):
    model, net, _, imported, model2, net2 = seed
    assert 'import Expon, LIF from "std"' in imported.text
    assert "pop hidden = LIF(4, R = 1 ohm, tau = 20 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV)" in imported.text
    assert "synapse = Expon(tau = 5 ms)" in imported.text and "readout out = Expon(2, tau = 10 ms)" in imported.text
    x = (np.random.default_rng(1).random((80, 100)) < 0.05).astype(np.float32)
    o1, r1 = model.simulate(net, (x,), record=("hidden", "hidden.V"))
    o2, r2 = model2.simulate(net2, (x,), record=("hidden", "hidden.V"))
    assert _np(r1["hidden"]).sum() > 0, "the test needs hidden spikes"
    np.testing.assert_array_equal(_np(r1["hidden"]), _np(r2["hidden"]))
    np.testing.assert_array_equal(_np(o1), _np(o2))
    np.testing.assert_array_equal(_np(r1["hidden.V"]), _np(r2["hidden.V"]))


def test_every_primitive_round_trips_identically(everything, all_inputs):
    model, net, _, imported, model2, net2 = everything
    pops = [p.name for p in model.ir().populations]
    o1, r1 = model.simulate(net, all_inputs, record=pops + list(ALL_TRACES))
    o2, r2 = model2.simulate(net2, all_inputs, record=pops + list(ALL_TRACES.values()))
    for p in ("lif", "hard", "ifn", "cnt", "cuba", "th"):
        assert _np(r1[p]).sum() > 0, f"the test needs spikes from {p}"
        np.testing.assert_array_equal(_np(r1[p]), _np(r2[p]), err_msg=p)
    for p in ("cli", "acc", "li", "ex", "d"):
        np.testing.assert_allclose(_np(r1[p]), _np(r2[p]), rtol=1e-5, atol=1e-6, err_msg=p)
    for a, b in ALL_TRACES.items():
        np.testing.assert_allclose(_np(r1[a]), _np(r2[b]), rtol=1e-5, atol=1e-6, err_msg=a)
    for a, b in zip(o1, o2):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-5, atol=1e-6)
    text = imported.text
    assert "trainable V_th = 0.5 mV" in text and "surrogate = sigmoid(alpha = 2.0)" in text
    assert "delay = 1 ms" in text and "synapse = Expon(tau = 3 ms)" in text and "one_to_one(w = 0.7)" in text
    assert "input c: current[3] uA" in text and "readout li = LI(2, tau = 4 ms)" in text
    assert set(imported.params) >= {"lif.tau", "x->lif.w", "lif->lif.w"}     # arrays live in the sidecar


def test_plain_nir_semantics_reproduce_the_network(everything, all_inputs, tmp_path):
    """Without snndsl's metadata every node is read by NIR's own equations (an Expon synapse becomes an LI
    population, the recurrent loop through it gets its one-step lag on the spiking edge) and the network
    still computes the same."""
    model, net, graph, *_ = everything
    imported = nir_import.from_nir(_strip(nir_export.to_nir(model, net)))
    assert "NirLIFSoft" in imported.text and "closes a cycle" in imported.text
    assert 'from "std"' not in imported.text                  # nothing is taken for a stdlib model
    snn, _ = imported.write(tmp_path / "plain.snn")
    model2, net2 = nir_import.load(snn)
    o1, _ = model.simulate(net, all_inputs)
    o2, _ = model2.simulate(net2, all_inputs)
    for a, b in zip(o1, o2):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- NIR built by hand -> snn


DT, TAU, R, VL, THR, VR = 1e-4, 5e-3, 2.0, 0.1, 1.0, -0.2
W = np.array([[0.6], [0.8], [1.0]])


def _hand_graph():
    """A graph as other tools write it: scalars where a value is shared (shape (1,), broadcast to the layer),
    arrays per neuron elsewhere, times in seconds, no snndsl metadata; `soft` carries a reset-mode hint."""
    one = lambda v: np.array([v])  # noqa: E731
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([1])),
            "w_lif": nir.Linear(weight=W),
            "lif": nir.LIF(tau=one(TAU), r=one(R), v_leak=one(VL), v_threshold=one(THR), v_reset=one(VR)),
            "w_soft": nir.Linear(weight=W),
            "soft": nir.LIF(tau=np.full(3, TAU), r=np.full(3, R), v_leak=np.full(3, VL), v_threshold=np.full(3, THR),
                            v_reset=np.zeros(3), metadata={"reset": "soft"}),
            "w_if": nir.Linear(weight=W),
            "if": nir.IF(r=np.full(3, 400.0), v_threshold=np.full(3, 1.0)),
            "w_cuba": nir.Affine(weight=W, bias=np.zeros(3)),
            "cuba": nir.CubaLIF(tau_syn=np.full(3, 2e-3), tau_mem=np.full(3, 4e-3), r=np.full(3, 1.5),
                                v_leak=np.zeros(3), v_threshold=np.full(3, 0.5), w_in=np.full(3, 1.2)),
            "rec": nir.Linear(weight=np.full((3, 3), -0.3)),
            "delay": nir.Delay(delay=np.array([3e-4])),
            "w_li": nir.Scale(scale=np.array([2.0])),
            "li": nir.LI(tau=np.array([3e-3]), r=np.array([1.0]), v_leak=np.array([0.0])),
            "out_lif": nir.Output(output_type=np.array([3])),
            "out_li": nir.Output(output_type=np.array([1])),
        },
        edges=[("input", "w_lif"), ("w_lif", "lif"), ("input", "w_soft"), ("w_soft", "soft"), ("input", "w_if"),
               ("w_if", "if"), ("input", "w_cuba"), ("w_cuba", "cuba"), ("cuba", "rec"), ("rec", "cuba"),
               ("input", "delay"), ("delay", "w_li"), ("w_li", "li"), ("lif", "out_lif"), ("li", "out_li")],
        type_check=False, metadata={})


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hand")
    nir.write(str(tmp / "hand.nir"), _hand_graph())
    imported = nir_import.read(tmp / "hand.nir", dt=0.1 * u.ms)
    snn, params = imported.write(tmp / "hand.snn")
    model, net = nir_import.load(snn)
    steps = 200
    outs, rec = model.simulate(net, (np.ones((steps, 1), np.float32),),
                               record=("lif", "lif.v", "soft", "soft.v", "if_", "if_.v", "cuba", "cuba.I", "li.v"))
    return imported, model, net, {k: _np(v) for k, v in rec.items()}, steps


def test_hand_built_graph_imports_readably(hand):
    imported = hand[0]
    assert "dt = 0.1 ms" in imported.text
    assert "pop lif = NirLIF(3, tau = 5 ms, r = 2, v_leak = 0.1, v_threshold = 1, v_reset = -0.2)" in imported.text
    assert "neuron NirLIF {" in imported.text and "dv/dt = (v_leak - v + r * I) / tau" in imported.text
    assert "pop soft = NirLIFSoft(3," in imported.text and "reset soft v = v_reset" in imported.text
    assert "connect input_ -> li: one_to_one(w = 2), delay = 0.3 ms" in imported.text   # `input` is emitted code's
    assert "connect cuba -> cuba: dense(w = -0.3)" in imported.text                  # recurrent, uniform weights
    assert "pop if_ = NirIF(3" in imported.text                                       # a Python keyword renamed


def _lif_closed_form(v_inf, steps, reset_to=None, soft_by=None):
    """The exact continuous-time solution at the grid points for a constant input, with the reset applied at
    the step the threshold is exceeded."""
    a, v = np.exp(-DT / TAU), np.zeros_like(v_inf)
    trace, spikes = [], []
    for _ in range(steps):
        v = v_inf + (v - v_inf) * a
        s = v > THR
        trace.append(v.copy())
        spikes.append(s.astype(float))
        v = np.where(s, reset_to, v) if reset_to is not None else v - s * soft_by
    return np.array(trace), np.array(spikes)


def test_hand_built_lif_follows_the_closed_form(hand):
    rec, steps = hand[3], hand[4]
    v_inf = VL + R * W[:, 0]                     # scalar parameters broadcast to the 3 neurons of the layer
    trace, spikes = _lif_closed_form(v_inf, steps, reset_to=VR)
    assert spikes.sum() > 5
    np.testing.assert_array_equal(rec["lif"], spikes)
    np.testing.assert_allclose(rec["lif.v"], trace, atol=2e-5)
    # a tau/dt mix-up (tau taken in ms or in steps) would move the first spike by orders of magnitude
    first = np.argmax(spikes, axis=0) + 1
    expect = np.ceil(TAU * np.log(v_inf / (v_inf - THR)) / DT)
    np.testing.assert_array_equal(first, expect)


def test_hand_built_if_li_cubalif_follow_the_closed_form(hand):
    rec, steps = hand[3], hand[4]
    n = np.arange(1, steps + 1)[:, None]
    v_if = 400.0 * W[:, 0] * DT * n              # dv/dt = r I: v = r I t until the threshold
    before = v_if <= 1.0
    np.testing.assert_allclose(rec["if_.v"][before], v_if[before], rtol=1e-5)
    assert rec["if_"][~before[:, 0], 0].sum() > 0
    # LI behind a 3-step delay and a gain of 2: v = 2 (1 - exp(-(t - 3 dt) / tau))
    k = np.clip(n[:, 0] - 3, 0, None)
    np.testing.assert_allclose(rec["li.v"][:, 0], 2.0 * (1 - np.exp(-k * DT / 3e-3)), atol=2e-6)
    # CubaLIF's current: I = w_in w (1 - exp(-t / tau_syn)) until the first spike feeds back (-0.3)
    first = int(np.argmax(rec["cuba"].sum(axis=1) > 0))
    assert first > 0
    i_exact = 1.2 * W[:, 0] * (1 - np.exp(-n * DT / 2e-3))
    np.testing.assert_allclose(rec["cuba.I"][:first + 1], i_exact[:first + 1], rtol=1e-5)


def test_hand_built_soft_lif_matches_brainpy_state(hand):
    brainpy = pytest.importorskip("brainpy")
    rec, steps = hand[3], hand[4]
    lif = brainpy.state.LIF(3, R=R * u.ohm, tau=TAU * 1e3 * u.ms, V_th=THR * u.mV, V_reset=0.0 * u.mV,
                            V_rest=VL * u.mV, spk_reset="soft")
    current = (W[:, 0] * u.mA)
    def step(i):
        return lif(current), lif.V.value

    with bs.environ.context(dt=DT * 1e3 * u.ms):
        bs.nn.init_all_states(lif)
        spikes, volts = bs.transform.for_loop(step, np.arange(steps))
    assert rec["soft"].sum() > 5
    np.testing.assert_array_equal(rec["soft"], _np(spikes))
    np.testing.assert_allclose(rec["soft.v"], _np(volts), rtol=1e-5, atol=1e-6)


def test_hand_built_graph_goes_back_to_the_same_nir(hand):
    _, model, net, *_ = hand
    back = nir_export.to_nir(model, net)
    orig = _hand_graph()
    for name in ("lif", "soft", "if", "cuba", "li"):
        node = back.nodes["if_" if name == "if" else name]
        assert type(node) is type(orig.nodes[name]), name
        for field in FIELDS[type(node).__name__].split():
            want = np.broadcast_to(getattr(orig.nodes[name], field), np.shape(getattr(node, field)))
            np.testing.assert_allclose(getattr(node, field), want, rtol=1e-6, err_msg=f"{name}.{field}")
    assert back.nodes["soft"].metadata["reset"] == "soft" and back.nodes["lif"].metadata["reset"] == "hard"
    np.testing.assert_allclose(back.nodes["input__to_lif"].weight, W)          # (out, in), as written by hand
    np.testing.assert_allclose(back.nodes["cuba_to_cuba"].weight, np.full((3, 3), -0.3))
    np.testing.assert_allclose(back.nodes["input__to_li_delay"].delay, 3e-4)
    np.testing.assert_allclose(back.nodes["input__to_li"].scale, 2.0)
    assert ("cuba", "cuba_to_cuba") in back.edges and ("cuba_to_cuba", "cuba") in back.edges


def test_nested_subgraphs_are_inlined():
    """snnTorch writes a recurrent layer as a subgraph with its own Input/Output nodes."""
    inner = nir.NIRGraph(
        nodes={"input": nir.Input(input_type=np.array([2])), "lif": nir.LIF(
            tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)),
            "w_rec": nir.Linear(weight=np.eye(2)), "output": nir.Output(output_type=np.array([2]))},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")], type_check=False)
    outer = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([3])), "fc": nir.Linear(weight=np.ones((2, 3))), "rnn": inner,
               "y": nir.Output(output_type=np.array([2]))},
        edges=[("x", "fc"), ("fc", "rnn"), ("rnn", "y")], type_check=False)
    text = nir_import.from_nir(outer, dt=1e-3).text
    assert "connect x -> rnn_lif: dense(w = 1)" in text and "connect rnn_lif -> rnn_lif: dense(" in text
    assert "output rnn_lif" in text
    snndsl.check_text(text)


def test_imported_files_are_already_in_fmt_form(everything, hand, tmp_path):
    """The import prints a syntax tree with the canonical printer: `snndsl fmt --check` passes on what it
    writes, comments (header, model docs, notes on arrays and cut cycles) included."""
    from snndsl.cli import main

    model, net, *_ = everything
    plain = nir_import.from_nir(_strip(nir_export.to_nir(model, net)))
    for i, imported in enumerate((everything[3], hand[0], plain)):
        assert format_text(imported.text) == imported.text
        snn, _ = imported.write(tmp_path / f"m{i}.snn")
        assert main(["fmt", "--check", str(snn)]) == 0
        assert "<snn>" not in snn.read_text() and f"# m{i}.snn: imported from NIR" in snn.read_text()
    assert "closes a cycle: reads last step's output" in plain.text and "# NIR LIF: tau dv/dt" in plain.text


def test_identity_readout_exports_again(tmp_path):
    """An Output fed through weights is imported as a NirIdentity readout, which exports as a unit Scale."""
    g = nir.NIRGraph(
        nodes={"x": nir.Input(input_type=np.array([2])), "w1": nir.Linear(weight=np.array([[1.0, 2.0], [0.5, 0.1]])),
               "lif": nir.LIF(tau=np.full(2, 0.01), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2),
                              v_reset=np.zeros(2)),
               "w2": nir.Linear(weight=np.ones((2, 2))), "y": nir.Output(output_type=np.array([2]))},
        edges=[("x", "w1"), ("w1", "lif"), ("lif", "w2"), ("w2", "y")], type_check=False)
    imported = nir_import.from_nir(g, dt=1e-3)
    assert "readout y = NirIdentity(2)" in imported.text and "output y" in imported.text
    snn, _ = imported.write(tmp_path / "ident.snn")
    back = nir_export.to_nir(*nir_import.load(snn))
    assert type(back.nodes["y"]).__name__ == "Scale" and ("lif_to_y", "y") in back.edges


def test_unsupported_nir_nodes_are_named():
    g = nir.NIRGraph(nodes={"x": nir.Input(input_type=np.array([1, 4, 4])),
                            "conv": nir.Conv2d(input_shape=(4, 4), weight=np.ones((1, 1, 3, 3)), stride=1, padding=0,
                                               dilation=1, groups=1, bias=np.zeros(1)),
                            "y": nir.Output(output_type=np.array([1, 2, 2]))},
                     edges=[("x", "conv"), ("conv", "y")], type_check=False)
    with pytest.raises(nir_import.NirImportError, match="`conv` is a NIR Conv2d"):
        nir_import.from_nir(g)


# ---------------------------------------------------------------- refused


BAD = """import "std"

network Bad {
    dt = 1 ms
    input p: spikes[3] = poisson(rate = 10 Hz)
    input x: spikes[3]
    pop a = ALIF(2)
    pop r = LIFRef(2)
    pop e = ExpIF(2)
    pop z = Izhikevich(2)
    pop l = LIF(2)
    connect x -> a: dense(w = 1 mA)
    connect x -> r: dense(w = 1 mA)
    connect x -> e: dense(w = 1 mA)
    connect x -> z: dense(w = 1 mV/ms)
    connect p -> l: dense(w = 1 nS), output = conductance(E = 0 mV)
    connect x -> l: dense(w = 1 mA), synapse = Alpha(tau = 2 ms)
    connect l -> l: dense(w = 1 mA), synapse = DualExpon()
    output l
}
"""


def test_what_nir_cannot_express_is_refused_at_its_place():
    model = snndsl.loads(BAD, "bad.snn")
    with pytest.raises(SnnError) as err:
        nir_export.to_nir(model)
    found = {(d.line, d.code): d.message for d in err.value.diagnostics}
    assert {code for _, code in found} == {"SNN701"}
    want = {5: "encoder poisson()", 7: "on_spike a", 8: "refractory period", 9: "uses exp()", 10: "on_spike u",
            16: "conductance", 17: "synapse Alpha", 18: "synapse DualExpon"}
    assert sorted(line for line, _ in found) == sorted(want)
    for line, text in want.items():
        assert text in found[line, "SNN701"] and "not expressible in NIR" in found[line, "SNN701"]
    rendered = err.value.render()
    assert "bad.snn:8:5: error[SNN701]: population `r` (LIFRef)" in rendered


# ---------------------------------------------------------------- command line


def _cli(argv):
    from snndsl.cli import nir as nir_cli

    parser = argparse.ArgumentParser(prog="snndsl")
    nir_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_cli_export_import_check(tmp_path, capsys):
    from snndsl.runtime import checkpoint
    from snndsl.cli import main

    # a training checkpoint with known weights: export --params must take them, not fresh ones
    model = snndsl.load(ROOT / "models" / "seed.snn")
    net = model.network()
    optimizer, _, _ = model.module.make_trainer(net, 1)
    w = net.x_to_hidden.weight.value
    net.x_to_hidden.weight.value = {**w, "weight": w["weight"] * 0 + 0.125 * u.mA}
    checkpoint.save(tmp_path / "run" / "params", net, optimizer, {"epoch": 1, "history": []})

    out = tmp_path / "seed.nir"
    assert _cli(["export", str(ROOT / "models" / "seed.snn"), "--to", "nir", "--params", str(tmp_path / "run"),
                 "-o", str(out)]) == 0
    np.testing.assert_allclose(nir.read(str(out)).nodes["x_to_hidden"].weight, 0.125)
    snn = tmp_path / "back" / "seed.snn"
    assert _cli(["import", str(out), "-o", str(snn)]) == 0
    assert snn.exists() and (tmp_path / "back" / "seed.params.npz").exists()
    assert "dense(w = 0.125 mA, b = 0 mA)" in snn.read_text()        # uniform weights need no array
    assert main(["check", str(snn)]) == 0

    bad = tmp_path / "bad.snn"
    bad.write_text(BAD)
    assert _cli(["export", str(bad), "-o", str(tmp_path / "bad.nir")]) == 1
    assert "error[SNN701]" in capsys.readouterr().err and not (tmp_path / "bad.nir").exists()
    assert _cli(["import", str(tmp_path / "missing.nir"), "-o", str(tmp_path / "m.snn")]) == 2
    assert _cli(["export", str(ROOT / "models" / "seed.snn"), "--params", str(tmp_path / "none"),
                 "-o", str(tmp_path / "x.nir")]) == 2
    assert _cli(["import", str(out), "--dt", "0.001", "-o", str(tmp_path / "m.snn")]) == 2   # a dt needs a unit


def test_params_file_is_plain_npz(everything, tmp_path):
    imported = everything[3]
    _, pfile = imported.write(tmp_path / "m.snn")
    with np.load(pfile) as f:
        units = json.loads(str(f["__units__"]))
        assert f["x->lif.w"].shape == (4, 3) and units["x->lif.w"] == "mA" and units["lif.tau"] == "ms"
