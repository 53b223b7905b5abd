"""The train-step lowering passes (issue #15): the compiled seed-size and SHD-size train steps against the
handwritten brainstate step and a lean plain-JAX step, side by side in one process.

    .venv/bin/python -m benchmarks.train_step            # both workloads, 15 interleaved rounds (~1-2 minutes)
    .venv/bin/python -m benchmarks.train_step --quick    # 3 rounds
    .venv/bin/python benchmarks/run.py --only passes     # the same, from the benchmark driver

Contenders per workload:

* **snndsl compiled**: the emitted module's ``make_trainer`` with every lowering pass (snndsl.lower.passes);
* **snndsl compiled, passes off**: the same model lowered inside ``passes.disabled()`` (what the compiler
  emitted before the passes: the handwritten step's per-step program);
* **handwritten brainstate**: benchmarks/handwritten.py (the seed tutorial's style);
* **plain JAX, lean**: :func:`lean_train_step` below, written by hand with the transformations the passes
  apply (a carried spike for the reset, boolean residuals for the hidden spikes' matrix products).

Time: the median over rounds of the per-round ratio to the handwritten step (each round runs every contender
once, back to back, the order reversed every other round; two warm-up calls each), so a change of machine load
between rounds cancels. Memory: XLA's temporary buffers of the compiled step
(``lower(...).compile().memory_analysis().temp_size_in_bytes``), deterministic. Targets: time <= 0.85 and
memory <= 0.75 of the handwritten step's.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=".*is deprecated.*")

import brainstate as bs  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import snndsl  # noqa: E402
from benchmarks import handwritten as H  # noqa: E402
from benchmarks import plainjax as P  # noqa: E402
from snndsl.lower import passes  # noqa: E402

MODELS = ROOT / "benchmarks" / "models"
COMPILED, OFF, HAND, LEAN = ("snndsl compiled (passes)", "snndsl compiled (passes off)",
                             "handwritten brainstate", "plain JAX, lean")
TIME_TARGET, MEM_TARGET = 0.85, 0.75
#: Rounds of a full run. Single SHD-size calls vary by +-15 % on a shared 2-core machine (per-round ratios
#: 0.70-1.08 in one run); the median of 15 per-round ratios moves by about half as much as that of 7.
ROUNDS = 15


# ------------------------------------------------------------------------------------------------ lean plain JAX


@jax.custom_vjp
def _bool_dot(s, w):
    """``s @ w`` for 0/1 spikes ``s``; the backward pass keeps ``s`` as booleans."""
    return s @ w


def _bool_dot_fwd(s, w):
    return s @ w, (s != 0, w)


def _bool_dot_bwd(res, g):
    fired, w = res
    return jax.vjp(jnp.dot, fired.astype(w.dtype), w)[1](g)


_bool_dot.defvjp(_bool_dot_fwd, _bool_dot_bwd)


def lean_train_step(params, recurrent: bool, tau_out: float, lr: float, dt: float = 1.0):
    """``(step, state)`` as :func:`benchmarks.plainjax.make_train_step` (the same arithmetic, Adam, loss), written
    lean: the LIF carries its last output spike for the reset (one surrogate per step), and the products of the
    hidden layer's spikes (recurrent and output projections) keep them as booleans for the backward pass. The
    data input's product keeps its float input: the residual is then a slice of the scan's input, which JAX
    forwards without a copy (a boolean residual would be a new [T, B, N] array)."""
    d_mem, d_syn, d_out = math.exp(-dt / 20.0), math.exp(-dt / 5.0), math.exp(-dt / tau_out)
    spike = P.spike

    def loss_fn(p, x, y):
        b = x.shape[1]
        n_rec, n_out = p["w_in"].shape[1], p["w_out"].shape[1]
        z = jnp.zeros((b, n_rec), x.dtype)

        def body(carry, x_t):
            v, s, g_in, g_rec, g_out, acc = carry
            g_in = g_in * d_syn + x_t @ p["w_in"] + p["b_in"]        # x_t: a slice of the argument, no copy
            current = g_in
            if recurrent:
                g_rec = g_rec * d_syn + _bool_dot(s, p["w_rec"])          # last step's spikes, carried
                current = g_in + g_rec
            v = v - s                                                       # soft reset (V_th - V_reset = 1)
            v = v * d_mem + (1.0 - d_mem) * current
            s = spike(v - 1.0)
            g_out = g_out * d_out + _bool_dot(s, p["w_out"]) + p["b_out"]
            return (v, s, g_in, g_rec, g_out, acc + g_out), None

        init = (z, spike(z - 1.0), z, z, jnp.zeros((b, n_out), x.dtype), jnp.zeros((b, n_out), x.dtype))
        (*_, acc), _ = jax.lax.scan(body, init, x)
        pred = acc / x.shape[0]
        logp = jax.nn.log_softmax(pred)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1)), pred

    return P.adam_step(loss_fn, params, lr)


# ------------------------------------------------------------------------------------------------ measuring


def temp_bytes(jitted, *args) -> int:
    """XLA's temporary buffer size of ``jitted`` compiled for ``args`` (bytes)."""
    return int(jitted.lower(*args).compile().memory_analysis().temp_size_in_bytes)


def race(contenders: dict, reps: int) -> tuple[dict, dict]:
    """``({name: [wall seconds per round]}, {name: [CPU seconds per round]})``: two warm-up calls each, then
    ``reps`` rounds running every contender once, back to back (the order reversed every other round), each call
    ended by ``block_until_ready``. CPU time is the process's (every XLA thread): the work a call did, which a
    machine loaded by other jobs distorts less than wall time."""
    for f in contenders.values():
        for _ in range(2):
            jax.block_until_ready(f())
    wall: dict = {name: [] for name in contenders}
    cpu: dict = {name: [] for name in contenders}
    names = list(contenders)
    for r in range(reps):
        for name in (names if r % 2 == 0 else names[::-1]):
            t0, c0 = time.perf_counter(), time.process_time()
            jax.block_until_ready(contenders[name]())
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return wall, cpu


def workload(label, snn, hand_cls, t, b, n_in, n_classes, rate, lr, recurrent, tau_out, reps) -> list[dict]:
    """One workload's rows: time (median), per-round time ratio to the handwritten step (median), temp memory
    and its ratio, for each contender."""
    x, y = H.random_batch(t, b, n_in, n_classes, rate)
    model = snndsl.load(MODELS / snn)
    with passes.disabled():
        model_off = snndsl.load(MODELS / snn)
    contenders, mems = {}, {}
    base = None
    for name, m in ((COMPILED, model), (OFF, model_off)):
        bs.random.seed(0)                       # the same initial parameters for every contender
        net = m.network()
        _, step, _ = m.module.make_trainer(net, b)
        contenders[name] = (lambda step=step: step(x, y))
        mems[name] = temp_bytes(step, x, y)
        base = base or net
    hand = hand_cls()
    hstep, _ = H.make_trainer(hand, b, lr=lr)
    hand.copy_from(base)
    contenders[HAND] = lambda: hstep(x, y)
    mems[HAND] = temp_bytes(hstep, x, y)
    lstep, lstate = lean_train_step(P.params_from(base, recurrent), recurrent, tau_out, lr)
    contenders[LEAN] = lambda: lstep(lstate, x, y)[1]
    mems[LEAN] = temp_bytes(lstep, lstate, x, y)
    times, cpu = race(contenders, reps)
    rows = []
    for name in contenders:
        ratios = [a / h for a, h in zip(times[name], times[HAND])]
        cpu_ratios = [a / h for a, h in zip(cpu[name], cpu[HAND])]
        rows.append({"workload": label, "T": t, "contender": name, "time": statistics.median(times[name]),
                     "times": times[name], "time_ratio": statistics.median(ratios),
                     "cpu": statistics.median(cpu[name]), "cpu_ratio": statistics.median(cpu_ratios),
                     "mem": mems[name], "mem_ratio": mems[name] / mems[HAND]})
    return rows


WORKLOADS = (
    ("seed-size (100-128-2, batch 128)", "seed128.snn", H.SeedNet, 100, 128, 100, 2, 5.0, 3e-3, False, 10.0),
    ("SHD-size (700-256r-20, batch 64)", "shd.snn", H.SHDNet, 250, 64, 700, 20, 10.0, 1e-3, True, 20.0),
)


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    head = ["workload", "contender", "time (median)", "time ÷ handwritten", "CPU time (median)",
            "CPU time ÷ handwritten", "temp memory", "memory ÷ handwritten"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r['workload']}, T = {r['T']} | {r['contender']} | {r['time'] * 1e3:.1f} ms | "
                     f"{r['time_ratio']:.2f} | {r['cpu'] * 1e3:.1f} ms | {r['cpu_ratio']:.2f} | "
                     f"{r['mem'] / 2**20:.1f} MiB | {r['mem_ratio']:.3f} |")
    return "\n".join(lines)


def targets(rows: list[dict]) -> list[str]:
    """One ``MET``/``MISS`` line per target and workload."""
    out = []
    for r in rows:
        if r["contender"] != COMPILED:
            continue
        out.append(f"{'MET ' if r['time_ratio'] <= TIME_TARGET else 'MISS'} train step time ≤ {TIME_TARGET} × "
                   f"handwritten: {r['time_ratio']:.2f} wall, {r['cpu_ratio']:.2f} CPU  ({r['workload']})")
        out.append(f"{'MET ' if r['mem_ratio'] <= MEM_TARGET else 'MISS'} train step temp memory ≤ {MEM_TARGET} × "
                   f"handwritten: {r['mem_ratio']:.3f}  ({r['workload']})")
    return out


def main(argv=None, quick: bool | None = None) -> list[dict]:
    """Run both workloads, print the table and the target lines; return the rows."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 rounds instead of 15")
    ap.add_argument("--reps", type=int, default=None, help="rounds (default 15, 3 with --quick)")
    ap.add_argument("--only", default="seed,shd", help="seed, shd or both (comma-separated)")
    args = ap.parse_args([] if argv is None else argv)
    reps = args.reps or (3 if (args.quick if quick is None else quick) else ROUNDS)
    only = set(args.only.split(","))
    rows = []
    for w in WORKLOADS:
        if w[1].split(".")[0].replace("128", "") in only:
            rows += workload(*w, reps)
    print(table(rows))
    print()
    for line in targets(rows):
        print(line)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
