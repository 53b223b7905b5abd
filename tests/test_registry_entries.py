"""Every registry entry goes through check, lowering and one simulated (or trained) step.

The models below use every entry of every registry between them; a test fails when an entry is added that
none of them uses, so each new entry arrives with a model that exercises it."""

from __future__ import annotations

import numpy as np
import pytest

import snndsl
from snndsl import ir
from snndsl.registry import REGISTRIES
from snndsl.runtime import data
from snndsl.runtime import train_driver as training

from .synth import nmnist_bytes, random_shd, write_nmnist

SIMULATED = {
    "functions_and_integrators": """\
import LIF, Expon from "std"
neuron Fns {
    param tau: ms = 10 ms
    param on: bool = true
    input I: mA
    state V: mV = 0 mV
    let a = exp(V / mV * 0.01) + log(2.0) + exprel(0.1) + tanh(0.2) + sin(0.3) + cos(0.4) + sigmoid(0.5) + select(on, 1, 0) + heaviside(V - 1 mV)
    let b = abs(V) + min(V, 1 mV) + max(V, -1 mV) + clip(V, -1 mV, 1 mV) + sqrt(V * V)
    dV/dt = (-V + 0.001 * b + a * 0.001 mV + 1 ohm * I) / tau
    spike when V >= 1 mV
    reset hard V = 0 mV
    method euler
}
neuron Rk {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau
    method rk4
}
neuron Ex {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau
    method exact
}
neuron Seq {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    state w: mV = 0 mV
    dV/dt = (-V - w + 1 ohm * I) / tau
    dw/dt = (V - w) / tau
    method exp_euler_sequential
}
network Net {
    dt = 1 ms
    input x: spikes[4]
    pop a = Fns(4)
    pop b = Rk(4)
    pop c = Ex(4)
    pop d = LIF(4)
    pop e = Seq(4)
    connect x -> a: dense(w = kaiming_normal(mA), b = zeros(mA))
    connect x -> b: all_to_all(w = xavier_normal(mA))
    connect x -> c: one_to_one(w = 1 mA)
    connect x -> d: fixed_prob(p = 0.5, w = 1 mA), synapse = Expon(tau = 5 ms)
    connect x -> e: one_to_one(w = 1 mA)
    output a, b, c, d, e
}
""",
    "surrogates": "\n".join(
        ['import LIF from "std"', "network Net {", "    dt = 1 ms", "    input x: spikes[3]"]
        + [f"    pop p{i} = LIF(2, surrogate = {name}())" for i, name in enumerate(REGISTRIES["surrogate"].names())]
        + [f"    connect x -> p{i}: dense(w = 1 mA)" for i in range(len(REGISTRIES["surrogate"]))]
        + ["    output " + ", ".join(f"p{i}" for i in range(len(REGISTRIES["surrogate"]))), "}", ""]),
    "initialisers_outputs_inputs_encoders": """\
import LIF, Expon from "std"
synapse G {
    param tau: ms = 5 ms
    state g: nS
    dg/dt = -g / tau
    on_spike g += w
    output g
}
network Net {
    dt = 1 ms
    input x: spikes[4]
    input i: current[4] nA
    input noise: spikes[4] = poisson(rate = 50 Hz)
    input bias: current[4] nA = constant(value = 0.1 nA)
    input stim: current[4] nA = step(0.2 nA, start = 1 ms, stop = 3 ms)
    input swept: current[4] nA = ramp(0 nA, 1 nA, duration = 2 ms)
    input wave: current[4] nA = sine(0.1 nA, 50 Hz, phase = 0.5, offset = 0.1 nA)
    pop h = LIF(4, tau = normal(10 ms, 1 ms), V_th = uniform(0.9 mV, 1.1 mV), R = constant(1 ohm))
    pop k = LIF(4, tau = truncated_normal(10 ms, 1 ms, low = 5 ms, high = 15 ms))
    readout out = Expon(2, tau = 10 ms)
    connect x -> h: dense(w = kaiming_uniform(nS)), synapse = G(), output = conductance(E = 0 mV)
    connect i -> h: dense(w = lecun_normal()), output = current()
    connect noise -> k: dense(w = xavier_uniform(mA))
    connect bias -> k: dense(w = orthogonal())
    connect stim -> k: one_to_one(w = 1)
    connect swept -> k: one_to_one(w = 1)
    connect wave -> k: one_to_one(w = 1)
    connect h -> out: dense(w = kaiming_normal)
    connect k -> out: dense(w = kaiming_normal)
    output out
}
""",
}

TRAIN_NET = """\
import LIF, Expon from "std"
network Net {
    dt = 1 ms
    input x: spikes[64]
    pop hidden = LIF(10, tau = 10 ms)
    readout out = Expon(10, tau = 5 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
train Net {
    data = DATA
    loss = LOSS
    optimizer = OPT
    loop = LOOP
    epochs = 1
    batch = 4
}
"""
TRAINED = {
    "poisson_adam_bptt": ("poisson_patterns(steps = 4, samples = 8, rate = 20 Hz, classes = 3)",
                          "cross_entropy(mean(out, time), label) + 0.1 * rate_reg(hidden, target = 5 Hz)",
                          "adam(lr = exponential_decay(1e-2, decay_steps = 1))", "bptt"),
    "npz_sgd_checkpointed": ('npz(path = "DATA.npz")', "mse(max(out, time), target) + mse(sum(out, time), target)",
                             "sgd(lr = cosine(0.1, T_max = 3))", "checkpointed(base = 2)"),
    "digits_rate_rmsprop": ("digits(steps = 4, encoding = rate(max_rate = 100 Hz))",
                            "spike_count_cross_entropy(hidden, label)",
                            "rmsprop(lr = step(1e-3, step_size = 1))", "bptt"),
    "digits_latency_adamw": ("digits(steps = 4, encoding = latency())", "cross_entropy(last(out, time), label)",
                             "adamw(lr = 1e-3)", "bptt"),
    # recorded events (tests/synth.py writes the files in their layouts)
    "shd_held_out": ('shd(path = "DATA.h5", steps = 4, test_fraction = 0.25)',
                     "cross_entropy(max(out, time), label)", "adam", "bptt"),
    "ssc_test_file_pooled_counts": ('ssc(path = "DATA.h5", test_path = "DATA.h5", steps = 4, pool = 2, counts = true)',
                                    "cross_entropy(mean(out, time), label)", "adam", "bptt"),
    "nmnist_folders": ('nmnist(path = "NMNIST", steps = 4, pool = 6)', "cross_entropy(max(out, time), label)",
                       "adam", "bptt", 72),
    "poisson_truncated": ("poisson_patterns(steps = 5, samples = 8, rate = 20 Hz, classes = 3)",
                          "cross_entropy(mean(out, time), label)", "adam", "truncated(window = 2)"),
    "poisson_eprop": ("poisson_patterns(steps = 4, samples = 8, rate = 20 Hz, classes = 3)",
                      "cross_entropy(max(out, time), label) + 0.1 * rate_reg(hidden, target = 5 Hz)", "adam",
                      "online(eprop(kappa = 0.5), window = 2)"),
    "npz_ostl": ('npz(path = "DATA.npz")', "mse(mean(out, time), target)", "sgd(lr = 0.1)", "online(ostl)"),
    "poisson_pp_prop": ("poisson_patterns(steps = 4, samples = 8, rate = 20 Hz, classes = 3)",
                        "spike_count_cross_entropy(hidden, label)", "adam", "online(pp_prop(decay = 0.8))"),
}


def _used(program: ir.Program) -> set[tuple[str, str]]:
    """(registry, entry) pairs a checked program uses."""
    found: set[tuple[str, str]] = set()

    def walk(x):
        if isinstance(x, ir.Spec):
            found.add((x.registry, x.name))
        if isinstance(x, ir.Func):
            for key in ("function", "loss", "reduction"):
                if x.name in REGISTRIES[key]:
                    found.add((key, x.name))
        if isinstance(x, ir.Model):
            found.add(("integrator", x.method))
            if x.surrogate is not None:
                walk(x.surrogate)
        if isinstance(x, ir.InputDef):
            found.add(("input_kind", x.kind))
        if isinstance(x, ir.Projection) and x.output is None:
            found.add(("output", "current"))
        if isinstance(x, tuple):
            for v in x:
                walk(v)
        elif hasattr(type(x), "__attrs_attrs__"):
            for f in type(x).__attrs_attrs__:
                walk(getattr(x, f.name))

    walk(program)
    return found


@pytest.fixture(scope="module")
def npz_file(tmp_path_factory):
    """A folder of small data files: DATA.npz, DATA.h5 (SHD layout), NMNIST/Train and NMNIST/Test."""
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    np.savez(d / "DATA.npz", x=(rng.random((8, 4, 64)) < 0.3).astype(np.float32),
             y=rng.random((8, 10)).astype(np.float32))
    random_shd(d / "DATA.h5", 8, units=64, classes=4, events=40, duration=0.005)
    events = [nmnist_bytes(rng.integers(0, 34, 20), rng.integers(0, 34, 20), rng.integers(0, 2, 20),
                           np.sort(rng.integers(0, 5000, 20))) for _ in range(8)]
    for split in ("Train", "Test"):
        write_nmnist(d / "NMNIST" / split, {digit: events[2 * digit:2 * digit + 2] for digit in range(4)})
    return d


def _train_text(case: str, base) -> str:
    src, loss, opt, loop, *inputs = TRAINED[case]
    text = TRAIN_NET.replace("DATA", src).replace("LOSS", loss).replace("OPT", opt).replace("LOOP", loop)
    for name in ("DATA.npz", "DATA.h5", "NMNIST"):
        text = text.replace(f'"{name}"', f'"{base / name}"')
    return text.replace("spikes[64]", f"spikes[{inputs[0]}]") if inputs else text


@pytest.mark.parametrize("case", sorted(SIMULATED))
def test_simulated_entries_check_lower_and_step(case):
    model = snndsl.loads(SIMULATED[case])
    net = model.network()
    ins = [x for x in model.ir().inputs if x.source is None]
    inputs = tuple(np.ones((2, 2, x.size), np.float32) for x in ins)
    outs, _ = model.simulate(net, inputs, steps=2, batch_size=2)
    for o in outs if isinstance(outs, tuple) else (outs,):
        assert np.all(np.isfinite(np.asarray(getattr(o, "mantissa", o))))


@pytest.mark.parametrize("case", sorted(TRAINED))
def test_training_entries_check_lower_and_train_a_step(case, npz_file, tmp_path):
    model = snndsl.loads(_train_text(case, npz_file))
    spec = model.program.trains[0]
    dataset = data.load(spec.data, model.ir(), 0, npz_file)
    result = training.train(model, dataset, epochs=1, batch=4, seed=0, out=tmp_path / "run", progress=False,
                            log=lambda m: None)
    assert np.isfinite(result.history[-1]["loss"])


def test_the_models_use_every_registry_entry(npz_file):
    used: set[tuple[str, str]] = set()
    for text in SIMULATED.values():
        used |= _used(snndsl.check_text(text).program)
    for case in TRAINED:
        used |= _used(snndsl.check_text(_train_text(case, npz_file)).program)
    every = {(key, name) for key, reg in REGISTRIES.items() for name in reg.names()}
    assert every - used == set(), f"entries no test model uses: {sorted(every - used)}"
