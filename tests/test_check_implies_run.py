"""Property: every model ``check`` accepts compiles and simulates (and trains a step when it has a train block).

Models are generated from a small grammar whose names are drawn from hostile identifiers: Python keywords
and builtins, the emitted module's own names (helpers, locals, attributes, derived names), brainstate's
``Module`` API, names with leading, trailing and doubled underscores. Compiling a JAX model takes a second or
two, so the CI budget is small; raise it with ``SNNDSL_PROPERTY_EXAMPLES=200 pytest
tests/test_check_implies_run.py``. Names the language itself refuses (reserved words, unit names) are left
out of the pool, so every generated model must check.
"""

from __future__ import annotations

import keyword
import os

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import snndsl
from snndsl.lower.emit import OWNED
from snndsl.resolve.models import RESERVED
from snndsl.resolve.unit_names import shadows_unit

EXAMPLES = int(os.environ.get("SNNDSL_PROPERTY_EXAMPLES", "8"))

_HOSTILE = (
    sorted(keyword.kwlist + keyword.softkwlist) + sorted(OWNED)
    + ["spike", "held", "projected", "_spike", "_held", "_t", "_w", "_V", "_projected", "_port", "_loop",
       "_state", "_Delay", "_lookup", "_read", "_param", "_i", "_spk_fun", "_last_spike_time", "_rk4",
       "x__syn", "V__init", "V__dt", "I__in", "a__b", "h__out", "x_to_h", "h_to_o", "x_shape", "lambda_",
       "lambda__", "x_", "_x", "a_b_", "V_init", "dV", "g_syn", "last_spike_time", "spk_fun", "i", "V", "I",
       "g", "tau", "hidden", "out", "x", "h", "value", "weight", "bias", "pre", "post", "events"])
NAMES = sorted({n for n in _HOSTILE if n.isidentifier() and not n.startswith("__") and n not in RESERVED
                and n not in ("w", "_") and not shadows_unit(n)})


@st.composite
def models(draw) -> str:
    """A valid model file: a neuron model, maybe a synapse model, a network of 1-3 populations with
    projections (labelled, delayed, through the synapse, recurrent) and maybe a readout with a train block."""
    n_pops = draw(st.integers(1, 3))
    names = iter(draw(st.lists(st.sampled_from(NAMES), min_size=14 + n_pops, max_size=14 + n_pops,
                               unique=True)))
    neuron, tau, gain, port, v, w2, net, inp = (next(names) for _ in range(8))
    syn, syn_tau, g, readout, lab1, lab2 = (next(names) for _ in range(6))
    pops = [next(names) for _ in range(n_pops)]
    second_state = draw(st.booleans())
    lines = [f"neuron {neuron} {{", f"    param {tau}: ms = 10 ms", f"    param {gain}: 1 = 1",
             f"    input {port}: mV", f"    state {v}: mV = 0 mV"]
    if second_state:
        lines += [f"    state {w2}: mV = 0 mV", f"    d{w2}/dt = ({v} - {w2}) / {tau}"]
    lines += [f"    d{v}/dt = (-{v} + {gain} * {port}) / {tau}", f"    spike when {v} >= 1 mV",
              f"    reset {draw(st.sampled_from(['soft', 'hard']))} {v} = 0 mV"]
    if draw(st.booleans()):
        lines.append("    refractory 2 ms")
    lines.append("}")
    use_syn = draw(st.booleans())
    if use_syn:
        lines += ["", f"synapse {syn} {{", f"    param {syn_tau}: ms = 5 ms", f"    state {g}",
                  f"    d{g}/dt = -{g} / {syn_tau}", f"    on_spike {g} += w", f"    output {g}", "}"]
    train = draw(st.booleans())
    body = ["    dt = 1 ms", f"    input {inp}: spikes[3]"]
    body += [f"    pop {p} = {neuron}({draw(st.integers(2, 3))})" for p in pops]
    first = f"    connect {lab1 + ': ' if draw(st.booleans()) else ''}{inp} -> {pops[0]}: dense(w = 1 mV)"
    if use_syn:
        first += f", synapse = {syn}({syn_tau} = 4 ms)"
    if draw(st.booleans()):
        first += ", delay = 1 ms"
    body.append(first)
    for a, b in zip(pops, pops[1:]):
        body.append(f"    connect {a} -> {b}: dense(w = 1 mV)")
    if draw(st.booleans()):
        body.append(f"    connect {lab2}: {pops[-1]} -> {pops[0]}: dense(w = 0.5 mV), delay = 1 ms")
    if train:
        body += [f"    readout {readout} = Expon(2, tau = 10 ms)",
                 f"    connect {pops[-1]} -> {readout}: dense(w = kaiming_normal)", f"    output {readout}"]
    else:
        body.append(f"    output {pops[-1]}")
    text = ('import Expon from "std"\n\n' if train else "") + "\n".join(lines) + f"\n\nnetwork {net} {{\n" \
        + "\n".join(body) + "\n}\n"
    if train:
        text += (f"\ntrain {net} {{\n    data = poisson_patterns(steps = 3, samples = 4, rate = 50 Hz, classes = 2)\n"
                 f"    loss = cross_entropy(mean({readout}, time), label)\n    optimizer = adam(lr = 1e-3)\n"
                 f"    loop = {draw(st.sampled_from(['bptt', 'checkpointed(base = 2)']))}\n"
                 "    epochs = 1\n    batch = 2\n}\n")
    return text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(models())
def test_every_checked_model_compiles_and_runs(text):
    model = snndsl.loads(text, "generated.snn")          # check (raises if invalid) and compile
    net = model.network()
    outs, recs = model.simulate(net, (np.ones((3, 3), np.float32),),
                                record=tuple(p.name for p in model.ir().populations))
    assert all(np.all(np.isfinite(np.asarray(r, np.float32))) for r in recs.values())
    if model.program.trains:
        _, train_step, _ = model.module.make_trainer(model.network(), 2)
        loss, _, finite = train_step(np.ones((3, 2, 3), np.float32), np.zeros((2,), np.int32))
        assert bool(finite) and np.isfinite(float(loss))


def test_the_pool_is_hostile():
    assert {"lambda", "simulate", "_loop", "name", "update", "projected", "x__syn", "lambda_"} <= set(NAMES)
