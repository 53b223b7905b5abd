"""Front-end speed on a large file: a generated ~5 MB model checked end to end (parse, resolve, checks).

Not a timed test: run it by hand and compare the seconds before and after a change to the front end::

    python -m benchmarks.parse_speed            # ~5 MB, prints seconds per phase
    python -m benchmarks.parse_speed --mb 1 --profile

The file holds many neuron models (each with parameters, a state, a `let`, an ODE, a spike, a reset and a
long flat sum), one network using some of them and a train block, so every phase sees realistic work.
"""

from __future__ import annotations

import argparse
import time


def model_text(megabytes: float = 5.0) -> str:
    """A valid model file of about ``megabytes`` MB."""
    parts = ['import Expon from "std"', ""]
    size, i = 0, 0
    target = int(megabytes * 1_000_000)
    while size < target:
        terms = " + ".join(f"{k + 1} * a{k % 4}" for k in range(24))
        block = "\n".join([
            f"# model {i}: a leaky neuron with an adaptation-like sum",
            f"neuron N{i} {{",
            "    param tau: ms = 20 ms",
            "    param a0: mV = 1 mV",
            "    param a1: mV = 2 mV",
            "    param a2: mV = 0.5 mV",
            "    param a3: mV = -1 mV",
            "    param V_th: mV = 10 mV",
            "    input I: mA",
            "    state V: mV = 0 mV",
            f"    let drive = ({terms}) / 100",
            "    dV/dt = (-V + drive + 1 ohm * I) / tau",
            "    spike when V >= V_th",
            "    reset soft V = 0 mV",
            "}", "", ""])
        parts.append(block)
        size += len(block) + 1
        i += 1
    n = min(i, 50)
    net = ["network Big {", "    dt = 1 ms", "    input x: spikes[8]"]
    net += [f"    pop p{k} = N{k}(4)" for k in range(n)]
    net += ["    readout out = Expon(2, tau = 10 ms)"]
    net += [f"    connect x -> p{k}: dense(w = kaiming_normal(mA))" for k in range(n)]
    net += [f"    connect p{k} -> out: dense(w = kaiming_normal)" for k in range(n)]
    net += ["    output out", "}", "",
            "train Big {",
            "    data = poisson_patterns(steps = 10, samples = 8, rate = 5 Hz, classes = 2)",
            "    loss = cross_entropy(mean(out, time), label)",
            "    optimizer = adam(lr = 1e-3)",
            "    epochs = 1",
            "}"]
    parts.append("\n".join(net))
    return "\n".join(parts) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=5.0, help="file size in MB (default 5)")
    ap.add_argument("--profile", action="store_true", help="print the 25 most expensive functions")
    ap.add_argument("--phase", choices=("parse", "resolve", "check", "all"), default="all",
                    help="time one phase only (each includes the ones before it)")
    args = ap.parse_args(argv)

    from snndsl.compiler import check_source
    from snndsl.ir.infer import infer
    from snndsl.resolve import resolve_source
    from snndsl.source import SourceFile
    from snndsl.syntax.parser import parse

    text = model_text(args.mb)
    print(f"{len(text) / 1e6:.2f} MB, {text.count(chr(10))} lines")
    parse(SourceFile("warmup.snn", "network N { dt = 1 ms }"))       # build the parser once, untimed

    def timed(label, fn):
        t0 = time.process_time()
        out = fn()
        print(f"{label:>8}: {time.process_time() - t0:7.2f} s CPU")
        return out

    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("check_source(SourceFile('big.snn', text))", globals(), locals(), "/tmp/parse_speed.prof")
        pstats.Stats("/tmp/parse_speed.prof").sort_stats("cumulative").print_stats(25)
        return
    if args.phase in ("parse", "all"):
        timed("parse", lambda: parse(SourceFile("big.snn", text)))
    if args.phase in ("resolve", "all"):
        timed("resolve", lambda: infer(resolve_source(SourceFile("big.snn", text))[0]))
    if args.phase in ("check", "all"):
        timed("check", lambda: check_source(SourceFile("big.snn", text)))


if __name__ == "__main__":
    main()
