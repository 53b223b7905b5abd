"""COBA (Brette et al. 2007, benchmark 1) in Brian2, as models/coba.snn describes it: the reference that
``benchmarks/run.py --only brian2`` compares ``snndsl run models/coba.snn`` with, side by side.

    python benchmarks/brian2_coba.py --target cython --duration 1 [--out DIR] [--n 4000]

4,000 LIF neurons (3,200 E, 800 I), C = 200 pF, g_L = 10 nS (tau 20 ms), V_rest = V_reset = -60 mV,
V_th = -50 mV, tau_ref = 5 ms, I_b = 200 pA; every pair connected with probability 0.02; exponential
conductances (tau_e = 5 ms, E_e = 0 mV, +6 nS; tau_i = 10 ms, E_i = -80 mV, +67 nS); dt = 0.1 ms; initial V
uniform in [-60, -50] mV; exponential Euler (Brian's ``exponential_euler``, as snndsl's ``exp_euler``). The
E -> I and I -> E synapses have snndsl's 0.1 ms delay; the recurrent E -> E and I -> I ones deliver within the
step (snndsl's read last step's spikes: a 0.1 ms difference in latency, which does not change the cost).

Prints one JSON line: ``build_s`` (network objects and connectivity), ``first_run_s`` (code generation and,
for cython, compilation or loading from Brian's cache, plus one step), ``loop_s`` (the simulation of
``duration`` seconds, code already built), ``write_s`` (spikes saved with ``--out``), ``rates_hz`` and
``target``. With ``--n`` the network is scaled (80 % E), weights scaled by 4000 / n.
"""

from __future__ import annotations

import argparse
import json
import time

T0 = time.perf_counter()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--target", choices=("cython", "numpy"), default="cython")
    ap.add_argument("--duration", type=float, default=1.0, help="biological time, seconds")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--out", help="save the spikes (npz: i, t per population) here")
    args = ap.parse_args(argv)

    import brian2 as b2
    import numpy as np

    t_import = time.perf_counter()
    b2.prefs.codegen.target = args.target
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    n = args.n
    n_e = n * 4 // 5
    scale = 4000 / n
    ns = {"C": 200 * b2.pF, "g_L": 10 * b2.nS, "E_L": -60 * b2.mV, "V_th": -50 * b2.mV, "V_r": -60 * b2.mV,
          "tau_e": 5 * b2.ms, "tau_i": 10 * b2.ms, "E_e": 0 * b2.mV, "E_i": -80 * b2.mV, "I_b": 200 * b2.pA,
          "w_e": 6 * b2.nS * scale, "w_i": 67 * b2.nS * scale}
    eqs = """
    dv/dt = (g_L * (E_L - v) + g_e * (E_e - v) + g_i * (E_i - v) + I_b) / C : volt (unless refractory)
    dg_e/dt = -g_e / tau_e : siemens
    dg_i/dt = -g_i / tau_i : siemens
    """
    t0 = time.perf_counter()
    group = b2.NeuronGroup(n, eqs, threshold="v >= V_th", reset="v = V_r", refractory=5 * b2.ms,
                           method="exponential_euler", namespace=ns)
    group.v = "V_r + rand() * (V_th - V_r)"
    exc, inh = group[:n_e], group[n_e:]
    ee = b2.Synapses(exc, exc, on_pre="g_e += w_e", namespace=ns)
    ei = b2.Synapses(exc, inh, on_pre="g_e += w_e", delay=0.1 * b2.ms, namespace=ns)
    ie = b2.Synapses(inh, exc, on_pre="g_i += w_i", delay=0.1 * b2.ms, namespace=ns)
    ii = b2.Synapses(inh, inh, on_pre="g_i += w_i", namespace=ns)
    for syn in (ee, ei, ie, ii):
        syn.connect(p=0.02)
    mon = b2.SpikeMonitor(group)
    net = b2.Network(group, ee, ei, ie, ii, mon)
    t1 = time.perf_counter()
    net.run(b2.defaultclock.dt)                       # code generation / compilation (or Brian's cache), 1 step
    t2 = time.perf_counter()
    net.run(args.duration * b2.second)
    t3 = time.perf_counter()
    i, t = np.asarray(mon.i[:]), np.asarray(mon.t[:] / b2.second)
    rates = {"exc": float((i < n_e).sum() / n_e / args.duration), "inh": float((i >= n_e).sum() / (n - n_e) /
                                                                              args.duration)}
    if args.out:
        from pathlib import Path

        Path(args.out).mkdir(parents=True, exist_ok=True)
        np.savez(Path(args.out) / "spikes.npz", i=i.astype(np.int32), t=t.astype(np.float32))
    t4 = time.perf_counter()
    print(json.dumps({"target": args.target, "n": n, "synapses": int(sum(len(s) for s in (ee, ei, ie, ii))),
                      "import_s": t_import - T0, "build_s": t1 - t0, "first_run_s": t2 - t1, "loop_s": t3 - t2,
                      "write_s": t4 - t3, "rates_hz": rates}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
