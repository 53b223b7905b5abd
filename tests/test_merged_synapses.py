"""The ``merged_synapses`` lowering pass (snndsl/lower/passes.py): in the train step, equal linear synapses onto
one port run as one synapse fed the sum of their inputs. The gradients equal those of the model lowered without
the pass (to float32 rounding), ``simulate`` keeps one synapse per projection (its records and outputs are those
of the unmerged model, bit for bit), a parameter changed after compilation turns the merge off where it would
no longer be exact, and the pass stays out of every case where summing would change the result.
"""

from __future__ import annotations

import contextlib

import brainstate as bs
import brainunit as u
import numpy as np
import pytest

import snndsl
from snndsl.lower import passes
from snndsl.lower.network import NetworkLowering
from tests.test_lowering_passes import flat, gradients

MERGE = """\
import LIF, Expon, Alpha from "std"
network Merge {
    dt = 1 ms
    input x: spikes[6]
    pop hidden = LIF(8, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV)
    pop deep = LIF(5, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV)
    readout out = Expon(3, tau = 10 ms)
    connect x -> hidden: dense(w = normal(1.5 mA, 1 mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> hidden: dense(w = normal(0 mA, 1 mA)), synapse = Expon(tau = 5 ms)
    connect x -> deep: dense(w = normal(1.5 mA, 1 mA)), synapse = Alpha(tau = 4 ms)
    connect hidden -> deep: dense(w = normal(1 mA, 1 mA)), synapse = Alpha(tau = 4 ms), delay = 2 ms
    connect deep -> deep: dense(w = normal(0 mA, 1 mA)), synapse = Expon(tau = 8 ms)
    connect deep -> out: dense(w = kaiming_normal, b = zeros)
    output out
}
train Merge {
    data = poisson_patterns(steps = 25, samples = 4, rate = 200 Hz, classes = 3)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-3)
    loop = bptt
    epochs = 1
    batch = 4
}
"""

X = (np.random.default_rng(1).random((25, 4, 6)) < 0.3).astype(np.float32)


def compiled(text=MERGE, off=()):
    """``text`` lowered with the passes ``off`` switched off."""
    with passes.disabled(*off) if off else contextlib.nullcontext():
        return snndsl.loads(text, "merge.snn")


def groups(text: str) -> list[list[str]]:
    """The merged groups of the first network of ``text``, by projection name."""
    model = compiled(text)
    nl = NetworkLowering(model.program, model.program.networks[0])
    return [[pr.name for pr in g] for pop in nl.net.populations for g in passes.merged(nl, pop)]


@pytest.fixture(scope="module")
def models():
    """The model with every pass, and without the merged synapses."""
    return compiled(), compiled(off=("merged_synapses",))


def test_merge_shows_as_plain_code(models):
    on, off = (flat(m.code) for m in models)
    assert ("hidden__merged = _merge and _same_synapses((self.x_to_hidden__syn, self.hidden_to_hidden__syn), "
            "('tau',), ('g__init',))") in on
    assert ("deep__merged = _merge and _same_synapses((self.x_to_deep__syn, self.hidden_to_deep__syn), "
            "('tau',), ('g__init', 'h__init'))") in on
    # the merged form: one synapse fed both weighted inputs, and the population reads its output alone
    assert ("x_to_hidden__out = self.x_to_hidden__syn(_projected['x_to_hidden'] + _spike_dense(self.hidden_to_hidden, "
            "self.hidden.output(), narrow=True))") in on
    assert "hidden = self.hidden(x_to_hidden__out)" in on
    assert "hidden = self.hidden(x_to_hidden__out + hidden_to_hidden__out)" in on     # the plain form, kept
    assert "def update(self, x, _projected=None, _merge=False):" in on
    assert "out = net.update(*inputs, _merge=True)" in on                        # the train loss merges
    assert "_merge" not in off and "_same_synapses" not in off
    assert groups(MERGE) == [["x->hidden", "hidden->hidden"], ["x->deep", "hidden->deep"]]


def test_merge_gradients_equal_to_rounding(models):
    """One synapse integrating g_1 + g_2 and fed w_1 + w_2 adds in another order than two: equal to float32
    rounding, in the loss and in every gradient."""
    loss, grads = gradients(models[0])
    loss_off, grads_off = gradients(models[1])
    assert abs(loss - loss_off) <= 1e-6 * abs(loss_off)
    scale = max(float(np.abs(g).max()) for g in grads_off)
    assert scale > 0
    for g, h in zip(grads, grads_off):
        np.testing.assert_allclose(g, h, rtol=0, atol=1e-5 * scale)
    assert sum(np.count_nonzero(g) for g in grads) > 0.5 * sum(g.size for g in grads)


def test_simulate_keeps_one_synapse_per_projection(models):
    """``simulate`` runs the plain form: every projection's synapse state is recorded, and the outputs and
    records are those of the model without the pass, bit for bit."""
    record = ["x->hidden.g", "hidden->hidden.g", "hidden->deep.h", "deep.V"]
    runs = []
    for model in models:
        net = model.network(seed=3)
        runs.append(model.simulate(net, X, batch_size=4, record=record))
    (out, recs), (out_off, recs_off) = runs
    np.testing.assert_array_equal(np.asarray(u.get_mantissa(out)), np.asarray(u.get_mantissa(out_off)))
    for path in record:
        np.testing.assert_array_equal(np.asarray(u.get_mantissa(recs[path])),
                                      np.asarray(u.get_mantissa(recs_off[path])))
    assert np.abs(np.asarray(u.get_mantissa(recs["hidden->hidden.g"]))).max() > 0


def test_changed_parameter_turns_the_merge_off(models):
    """A synapse parameter changed after compilation (as a parameter file does) makes ``_same_synapses``
    false when the step is traced: the train loss then runs the plain form, bit for bit the unmerged model's."""
    def slower(net):          # both groups: every population then runs the plain form
        net.hidden_to_hidden__syn.tau = net.hidden_to_hidden__syn.tau * 2
        net.hidden_to_deep__syn.tau = net.hidden_to_deep__syn.tau * 2

    on, off = (gradients(m, slower) for m in models)
    assert on[0] == off[0]
    for g, h in zip(on[1], off[1]):
        np.testing.assert_array_equal(g, h)
    assert on[0] != gradients(models[0])[0]        # the change matters: merging anyway would be wrong


def test_same_synapses_reads_the_modules(models):
    module = models[0].module
    net = models[0].network(seed=0)
    a, b = net.x_to_hidden__syn, net.hidden_to_hidden__syn
    assert module._same_synapses((a, b), ("tau",), ("g__init",))
    b.g__init = 0.0 * u.mA
    assert module._same_synapses((a, b), ("tau",), ("g__init",))             # zero given explicitly
    b.g__init = 1.0 * u.mA
    assert not module._same_synapses((a, b), ("tau",), ("g__init",))         # the sum would start at 1 mA
    b.g__init = None
    b.tau = bs.ParamState(b.tau)
    assert not module._same_synapses((a, b), ("tau",), ("g__init",))         # trained: may differ later


def _variant(old: str, new: str) -> str:
    assert old in MERGE
    return MERGE.replace(old, new)


HIDDEN = "connect hidden -> hidden: dense(w = normal(0 mA, 1 mA)), synapse = Expon(tau = 5 ms)"


@pytest.mark.parametrize("text", [
    _variant(HIDDEN, HIDDEN.replace("tau = 5 ms", "tau = 6 ms")),                        # another time constant
    _variant(HIDDEN, HIDDEN.replace("tau = 5 ms", "trainable tau = 5 ms")),              # trained
    _variant(HIDDEN, HIDDEN.replace("tau = 5 ms", "tau = uniform(4 ms, 6 ms)")),         # drawn per projection
    _variant(HIDDEN, HIDDEN.replace("tau = 5 ms", "tau = 5 ms, g = 1 mA")),              # starts elsewhere
    _variant(HIDDEN, HIDDEN.replace("Expon(tau = 5 ms)", "Alpha(tau = 5 ms)")),          # another model
    _variant("pop hidden = LIF(8,", "pop hidden = LIF(8, method = exact,"),               # fused into the neuron
    _variant("loop = bptt", "loop = online(eprop)").replace(", delay = 2 ms", ""),        # traced for online learning
], ids=["tau", "trained", "drawn", "initial", "model", "fused", "online"])
def test_not_merged_where_summing_would_differ(text):
    assert ["x->hidden", "hidden->hidden"] not in groups(text)


COND = """\
import LIF, Expon from "std"
network Cond {
    dt = 1 ms
    input x: spikes[6]
    pop hidden = LIF(8, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV)
    connect x -> hidden: dense(w = 1 nS), synapse = Expon(tau = 5 ms), output = conductance(E = 0 mV)
    connect hidden -> hidden: dense(w = 1 nS), synapse = Expon(tau = 5 ms), output = conductance(E = EREV)
    output hidden
}
"""


def test_conductances_merge_only_with_one_reversal_potential():
    assert groups(COND.replace("EREV", "0 mV")) == [["x->hidden", "hidden->hidden"]]
    assert groups(COND.replace("EREV", "-80 mV")) == []


@pytest.mark.parametrize("name, expected", [("Expon", True), ("Alpha", True), ("DualExpon", True), ("Delta", False)])
def test_summable_stdlib(name, expected):
    std = snndsl.loads(f'import {name} from "std"\n', "std.snn").program
    assert passes.summable(std.model(name)) is expected


@pytest.mark.parametrize("body, expected", [
    ("state g: mA\n    dg/dt = -g / tau\n    on_spike g += w\n    output g", True),
    ("state g: mA\n    dg/dt = -g / tau\n    on_spike g = w\n    output 2 * g", True),     # linear too
    ("state g: mA\n    dg/dt = -g / tau + 1 mA / tau\n    on_spike g += w\n    output g", False),  # a drive
    ("state g\n    dg/dt = -g / tau\n    on_spike g += w * g / (g + w)\n    output g", False),  # not linear
    ("state g: mA\n    dg/dt = -g * g / (tau * 1 mA)\n    on_spike g += w\n    output g", False),  # in g
    ("state g: mA\n    dg/dt = -g / tau\n    on_spike g += w\n    output g + 1 mA", False),  # an offset
    ("state g: mA = 1 mA\n    dg/dt = -g / tau\n    on_spike g += w\n    output g", False),  # starts at 1 mA
    ("state g: mA = 0 mA\n    dg/dt = -g / tau\n    on_spike g += w\n    output g", True),   # at zero
])
def test_summable_custom(body, expected):
    text = f"synapse S {{\n    param tau: ms = 5 ms\n    {body}\n}}\n"
    assert passes.summable(snndsl.loads(text, "s.snn").program.model("S")) is expected
