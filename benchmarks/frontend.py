"""The front-end workload: a generated model with many populations, timed through parse + resolve + check + lower
(``snndsl.compiler.compile_source``: the text of the emitted module, not its execution)."""

from __future__ import annotations

import statistics
import time


def model_text(n_pops: int = 20) -> str:
    """``n_pops`` populations of four neuron models (LIF, ALIF, AdEx, a custom conductance neuron) in a chain,
    each with a recurrent projection, fed by one input, read out by one Expon readout, with a train block."""
    models = ["LIF", "ALIF", "AdEx", "Cond"]
    lines = ['import LIF, ALIF, AdEx, Expon from "std"', "",
             "neuron Cond {",
             "    param tau: ms = 10 ms",
             "    param C: pF = 200 pF",
             "    param V_rest: mV = -60 mV",
             "    param V_th: mV = -50 mV",
             "    input I: pA",
             "    state V: mV = V_rest",
             "    let I_leak = C * (V_rest - V) / tau",
             "    dV/dt = (I_leak + I) / C",
             "    spike when V >= V_th",
             "    reset hard V = V_rest",
             "    refractory 2 ms",
             "}", "",
             f"network Big{n_pops} {{",
             "    dt = 1 ms",
             "    input x: spikes[64]"]
    for i in range(n_pops):
        m = models[i % len(models)]
        extra = {"LIF": "tau = 20 ms", "ALIF": "tau = 20 ms, tau_a = 200 ms", "AdEx": "tau = 10 ms",
                 "Cond": "tau = 15 ms"}[m]
        lines.append(f"    pop p{i} = {m}({32 + i}, {extra})")
    lines.append("    readout out = Expon(10, tau = 10 ms)")
    unit = {"LIF": "mA", "ALIF": "mA", "AdEx": "mA", "Cond": "pA"}
    for i in range(n_pops):
        m = models[i % len(models)]
        src = "x" if i == 0 else f"p{i - 1}"
        lines.append(f"    connect {src} -> p{i}: dense(w = kaiming_normal({unit[m]})), synapse = Expon(tau = 5 ms)")
        lines.append(f"    connect p{i} -> p{i}: fixed_prob(p = 0.1, w = 0.5 {unit[m]})")
    lines.append(f"    connect p{n_pops - 1} -> out: dense(w = kaiming_normal)")
    lines += ["    output out", "}", "",
              f"train Big{n_pops} {{",
              "    data = poisson_patterns(steps = 50, samples = 32, rate = 20 Hz, classes = 10)",
              "    loss = cross_entropy(mean(out, time), label)",
              "    optimizer = adam(lr = 1e-3)",
              "    epochs = 1", "    batch = 32", "}", ""]
    return "\n".join(lines)


def time_front_end(text: str, path: str = "big.snn", reps: int = 5) -> dict:
    """Seconds for parse + resolve + check + lower: the first call in this process (``cold``: it builds the
    parser) and the median of ``reps`` more (``warm``)."""
    from snndsl.compiler import compile_source
    from snndsl.source import SourceFile

    t0 = time.perf_counter()
    code, _ = compile_source(SourceFile(path, text))
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(reps):
        t0 = time.perf_counter()
        compile_source(SourceFile(path, text))
        warm.append(time.perf_counter() - t0)
    return {"cold_s": cold, "warm_s": statistics.median(warm), "lines": code.count("\n")}
