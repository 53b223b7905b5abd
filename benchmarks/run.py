"""snndsl benchmarks: compiled models against the same networks handwritten in brainstate and in plain JAX.

    .venv/bin/python benchmarks/run.py            # everything (about 8 minutes on 2 CPU cores)
    .venv/bin/python benchmarks/run.py --quick    # a short version (about 2 minutes)
    .venv/bin/python benchmarks/run.py --only seed,coba --json out.json --plot docs/memory-vs-T.png

Workloads: seed-size and SHD-size training steps, a long-rollout sweep of the SHD-size network over T (BPTT and
the checkpointed loop), the COBA network simulated for one second, and the front end on a 20-population model.
Contenders run interleaved in one process; each time is the median over repetitions after a warm-up, every
call ended by ``block_until_ready``. See docs/performance.md for what each figure means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore", message=".*is deprecated.*")

import brainstate as bs  # noqa: E402
import brainunit as u  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import snndsl  # noqa: E402
from benchmarks import handwritten as H  # noqa: E402
from benchmarks import plainjax as P  # noqa: E402
from benchmarks.frontend import model_text, time_front_end  # noqa: E402

MODELS = ROOT / "benchmarks" / "models"
COMPILED, HAND, PLAIN = "snndsl compiled", "handwritten brainstate", "plain JAX (lax.scan)"

ROWS: list[dict] = []
NOTES: list[str] = []


T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - T0:6.0f} s] {msg}", file=sys.stderr, flush=True)


def block(x):
    return jax.block_until_ready(x)


def compile_stats(jitted, *args) -> dict:
    """Trace + lower + XLA-compile the program once, timed (``compile_s``), and XLA's temporary buffer size for
    it (``mem``, bytes) — brainstate and jax jit objects alike."""
    t0 = time.perf_counter()
    compiled = jitted.lower(*args).compile()
    return {"compile_s": time.perf_counter() - t0, "mem": int(compiled.memory_analysis().temp_size_in_bytes),
            "loops": loop_signature(compiled.as_text())}


def loop_signature(hlo: str) -> list:
    """Per ``while`` loop of the optimized HLO: the number of instructions, fusions and dots in its body (sorted):
    two programs with the same signature run the same kernels per time step."""
    bodies, current = {}, None
    for line in hlo.split("\n"):
        if line and not line.startswith(" ") and "{" in line:
            current = line.split(" ")[1] if line.startswith("ENTRY") else line.split(" ")[0]
            bodies[current] = []
        elif current and line.startswith("  "):
            bodies[current].append(line)
    names = [line.split("body=")[1].split(",")[0].split("}")[0].strip()
             for body in bodies.values() for line in body if " while(" in line and "body=" in line]
    return sorted((len(bodies.get(n, [])), sum(" fusion(" in x for x in bodies.get(n, [])),
                   sum(" dot(" in x for x in bodies.get(n, []))) for n in names)


def race(contenders: dict, reps: int) -> dict:
    """Call every contender twice (warm-up), then ``reps`` rounds, interleaved (the order reversed every other
    round, so a drift in machine load hits every contender alike); returns ``{name: {"median_s", "times"}}``."""
    out = {}
    for name, f in contenders.items():
        block(f())
        block(f())
        out[name] = {"times": []}
    for i in range(reps):
        for name, f in (list(contenders.items()) if i % 2 == 0 else list(contenders.items())[::-1]):
            t0 = time.perf_counter()
            block(f())
            out[name]["times"].append(time.perf_counter() - t0)
    for name, r in out.items():
        r["median_s"] = statistics.median(r["times"])
        log(f"    {name}: {r['median_s'] * 1e3:.1f} ms (median of {len(r['times'])})")
    return out


def front_end(path: Path) -> float:
    return time_front_end(path.read_text(), str(path), reps=3)["warm_s"]


def add(workload, contender, timing=None, stats=None, unit="ms/step", front=None, **extra):
    stats = stats or {}
    row = {"workload": workload, "contender": contender, "unit": unit, "mem": stats.get("mem"),
           "compile_s": stats.get("compile_s"), "loops": stats.get("loops"), "front_s": front, **extra}
    if timing is not None:
        row.update(time=timing["median_s"], times=timing["times"])
    ROWS.append(row)
    return row


# ------------------------------------------------------------------------------------------------ training


def _with_loop(text: str, loop: str) -> str:
    """The model text with its train block's loop policy replaced (the models say `loop = bptt`)."""
    new, n = re.subn(r"^(\s*loop\s*=\s*)bptt\s*$", lambda m: m.group(1) + loop, text, flags=re.M)
    if n != 1:
        raise ValueError("the benchmark model must have exactly one `loop = bptt` line")
    return new


def training_workload(label, snn, hand_cls, t, b, n_in, n_out, rate, lr, recurrent, tau_out, reps,
                      loops=("bptt",), plain=True, hand_loops=("bptt",)):
    """Compiled (one row per loop policy), handwritten and plain-JAX train steps of one network at one T."""
    text = (MODELS / snn).read_text()
    x, y = H.random_batch(t, b, n_in, n_out, rate_hz=rate)
    contenders, mems = {}, {}
    for loop in loops:
        src = _with_loop(text, loop)
        model = snndsl.loads(src, str(MODELS / snn))
        bs.random.seed(0)
        net = model.network()
        _, step, _ = model.module.make_trainer(net, b)
        name = f"{COMPILED} ({loop})"
        contenders[name] = (lambda step=step: step(x, y))
        mems[name] = compile_stats(step, x, y)
        base_net = net
    for loop in hand_loops:
        hand = hand_cls()
        hstep, _ = H.make_trainer(hand, b, lr=lr, loop=loop)
        hand.copy_from(base_net)
        name = f"{HAND} ({'for_loop' if loop == 'bptt' else 'checkpointed_for_loop'})"
        mems[name] = compile_stats(hstep, x, y)
        if loop == "bptt" or t <= 1000:
            contenders[name] = (lambda hstep=hstep: hstep(x, y))
    if plain:
        pstep, pstate = P.make_train_step(P.params_from(base_net, recurrent), recurrent, tau_out, lr)
        contenders[PLAIN] = (lambda: pstep(pstate, x, y)[1])
        mems[PLAIN] = compile_stats(pstep, pstate, x, y)
    log(f"  {label}: T = {t}, batch {b}")
    timing = race(contenders, reps)
    front = front_end(MODELS / snn)
    rows = {}
    for name in mems:
        rows[name] = add(label, name, timing.get(name), mems[name], front=front if name.startswith(COMPILED) else None,
                         T=t)
    if "checkpointed" in loops and "bptt" in loops:
        rows[f"{COMPILED} (checkpointed)"]["grad_rel_diff"] = _grad_diff(text, x, y)
    return rows


def _grad_diff(text: str, x, y) -> float:
    """max |g_bptt - g_checkpointed| / max |g_bptt| over every parameter, for fresh networks with the same
    initial parameters (compiled from ``text`` with each loop policy)."""
    out = {}
    for loop in ("bptt", "checkpointed"):
        model = snndsl.loads(_with_loop(text, loop), "grad-check.snn")
        bs.random.seed(0)
        net = model.network()
        bs.nn.init_all_states(net, batch_size=x.shape[1])
        params = net.states(bs.ParamState)

        def grads(model=model, net=net, params=params):
            bs.nn.reset_all_states(net, batch_size=x.shape[1])
            return bs.transform.grad(lambda: model.module.loss_fn(net, x, y)[0], params)()

        out[loop] = [np.asarray(u.get_mantissa(g)) for g in jax.tree_util.tree_leaves(bs.transform.jit(grads)())]
    scale = max(float(np.abs(g).max()) for g in out["bptt"])
    return max(float(np.abs(a - c).max()) for a, c in zip(out["bptt"], out["checkpointed"])) / scale


# ------------------------------------------------------------------------------------------------ COBA


def coba_workload(steps, reps):
    model = snndsl.load(ROOT / "models" / "coba.snn")
    bs.random.seed(0)
    net = model.network()
    bs.nn.init_all_states(net)

    @bs.transform.jit
    def compiled_run():
        bs.nn.reset_all_states(net)

        def body(i):
            e, s = net.update()
            return e.sum() + s.sum()

        return bs.transform.for_loop(body, jnp.arange(steps)).sum()

    @bs.transform.jit
    def compiled_simulate():
        outs, _ = model.module.simulate(net, steps=steps)
        return outs[0].sum() + outs[1].sum()

    hand = H.coba_runner(steps)
    plain = P.coba_runner(steps)
    key = jax.random.PRNGKey(0)
    contenders = {f"{COMPILED} (update loop)": compiled_run,
                  f"{COMPILED} (simulate(), records spikes)": compiled_simulate,
                  f"{HAND} (brainpy.state, EventFixedProb)": hand,
                  "plain JAX (event-driven fori_loop)": lambda: plain(key)}
    mems = {f"{COMPILED} (update loop)": compile_stats(compiled_run),
            f"{COMPILED} (simulate(), records spikes)": compile_stats(compiled_simulate),
            f"{HAND} (brainpy.state, EventFixedProb)": compile_stats(hand),
            "plain JAX (event-driven fori_loop)": compile_stats(plain, key)}
    rates = {name: float(block(f())) / 4000 / (steps * 1e-4) for name, f in contenders.items()}
    log(f"  COBA: {steps} steps of 0.1 ms")
    timing = race(contenders, reps)
    front = front_end(ROOT / "models" / "coba.snn")
    scale = 1e4 / steps                       # seconds per simulated second
    for name in contenders:
        t = dict(timing[name])
        t["median_s"] *= scale
        t["times"] = [x * scale for x in t["times"]]
        add("COBA (4000 LIF, 1 s at 0.1 ms)", name, t, mems[name], unit="s per sim. s",
            front=front if name.startswith(COMPILED) else None, rate_hz=rates[name])


# ------------------------------------------------------------------------------------------------ report


def reference(row, kind):
    """The row ``row`` (a compiled contender) is compared with: the same workload and T, contender ``kind``,
    the checkpointed one for a checkpointed row."""
    group = [q for q in ROWS if q["workload"] == row["workload"] and q.get("T") == row.get("T")
             and q["contender"].startswith(kind)]
    ckpt = "checkpointed" in row["contender"]
    return next((q for q in group if ("checkpointed" in q["contender"]) == ckpt), group[0] if group and not ckpt
                else None)


def time_ratio(row, ref) -> float | None:
    """``row``'s time over ``ref``'s: the median of the per-round ratios when both ran in the same rounds (each
    pair ran back to back, so a change in machine load between rounds cancels), else the ratio of medians."""
    if row.get("time") is None or ref is None or ref.get("time") is None:
        return None
    a, b = row.get("times") or [], ref.get("times") or []
    if a and len(a) == len(b):
        return statistics.median(x / y for x, y in zip(a, b))
    return row["time"] / ref["time"]


def fmt_time(row):
    if row.get("time") is None:
        return "—"
    return f"{row['time']:.2f} s" if row["unit"] == "s per sim. s" else f"{row['time'] * 1e3:.1f} ms"


def table() -> str:
    head = ["workload", "contender", "time (median)", "compile", "front end", "temp memory",
            "time ÷ handwritten", "time ÷ plain JAX", "memory ÷ handwritten", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in ROWS:
        group = [q for q in ROWS if q["workload"] == r["workload"] and q.get("T") == r.get("T")]
        hand, plain = reference(r, HAND), reference(r, "plain JAX")
        compiled = r["contender"].startswith(COMPILED)
        rt, rp = (time_ratio(r, hand), time_ratio(r, plain)) if compiled else (None, None)
        ratio_t = f"{rt:.2f}" if rt is not None else ""
        ratio_p = f"{rp:.2f}" if rp is not None else ""
        ratio_m = f"{r['mem'] / hand['mem']:.3f}" if compiled and hand and r["mem"] and hand["mem"] else ""
        notes = []
        if "rate_hz" in r:
            notes.append(f"{r['rate_hz']:.1f} Hz")
        if compiled and hand and r.get("loops") and r.get("loops") == hand.get("loops"):
            notes.append("same per-step HLO as handwritten")
        if "grad_rel_diff" in r:
            notes.append(f"grad Δ {r['grad_rel_diff']:.1e}")
        if r.get("vs_bptt_mem"):
            notes.append(f"mem ÷ bptt {r['vs_bptt_mem']:.3f}, time ÷ bptt {r['vs_bptt_time']:.2f}")
        lines.append("| " + " | ".join([
            r["workload"] + (f", T = {r['T']}" if r.get("T") else ""), r["contender"], fmt_time(r),
            f"{r['compile_s']:.1f} s" if r.get("compile_s") is not None else "—",
            f"{r['front_s'] * 1e3:.0f} ms" if r.get("front_s") else "",
            f"{r['mem'] / 2**20:.1f} MiB" if r.get("mem") is not None else "—",
            ratio_t, ratio_p, ratio_m, "; ".join(notes)]) + " |")
    return "\n".join(lines)


def plot(path: Path, sweep: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, pts in sweep.items():
        ts = sorted(pts, key=int)
        style = dict(marker="o", linestyle="--" if name.startswith(HAND) else "-",
                     markerfacecolor="none" if name.startswith(HAND) else None)
        ax.plot([int(t) for t in ts], [pts[t] / 2**20 for t in ts], label=name, **style)
    bptt = sweep.get(f"{COMPILED} (bptt)")
    if bptt:
        ts = sorted(bptt, key=int)
        ax.plot([int(t) for t in ts], [0.1 * bptt[t] / 2**20 for t in ts], color="grey", linestyle=":",
                label="target: 0.1 x compiled bptt")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = sorted({int(t) for pts in sweep.values() for t in pts})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("T (time steps)")
    ax.set_ylabel("XLA temp memory of the train step (MiB)")
    ax.set_title("SHD-size network (700-256r-20, batch 64)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def targets() -> list[str]:
    out = []

    def find(workload, contender, t=None):
        return next((r for r in ROWS if r["workload"].startswith(workload) and r["contender"].startswith(contender)
                     and (t is None or r.get("T") == t)), None)

    for r in ROWS:
        if not r["contender"].startswith(COMPILED):
            continue
        hand = reference(r, HAND)
        if hand is None or r.get("time") is None or hand.get("time") is None:
            continue
        where = r["workload"] + (f", T = {r['T']}" if r.get("T") else "") + f" [{r['contender']}]"
        rt, rm = time_ratio(r, hand), r["mem"] / hand["mem"]
        same = r.get("loops") and r.get("loops") == hand.get("loops")
        best = min(r["times"]) / min(hand["times"]) if r.get("times") and hand.get("times") else None
        out.append(f"{'MET ' if rt <= 1.05 else 'MISS'} time ≤ 1.05 × handwritten: {rt:.2f}  ({where})"
                   + (f"  [best-of-{len(r['times'])} ratio {best:.2f}"
                      + ("; the per-step HLO is the handwritten one's" if same else "") + "]"
                      if rt > 1.05 and best is not None else ""))
        if "simulate" not in r["contender"]:
            out.append(f"{'MET ' if rm <= 1.05 else 'MISS'} memory ≤ handwritten + 5%: {rm:.3f}  ({where})")
    for r in ROWS:
        if r["contender"] == f"{COMPILED} (checkpointed)" and r.get("vs_bptt_mem"):
            t = r["T"]
            out.append(f"{'MET ' if r['vs_bptt_mem'] <= 0.1 or t < 4000 else 'MISS'} checkpointed memory "
                       f"{'≤ 0.1 × bptt ' if t >= 4000 else ''}at T = {t}: {r['vs_bptt_mem']:.3f} × bptt")
            if r.get("vs_bptt_time"):
                out.append(f"{'MET ' if r['vs_bptt_time'] <= 1.3 else 'MISS'} checkpointed time ≤ 1.3 × bptt at "
                           f"T = {t}: {r['vs_bptt_time']:.2f}")
            if "grad_rel_diff" in r:
                out.append(f"{'MET ' if r['grad_rel_diff'] <= 1e-4 else 'MISS'} checkpointed gradients = bptt's at "
                           f"T = {t}: max |Δg| / max |g| = {r['grad_rel_diff']:.1e}")
    coba = find("COBA", f"{COMPILED} (update loop)")
    if coba:
        out.append(f"{'MET ' if coba['time'] <= 1.21 else 'MISS'} COBA ≤ 1.21 s per simulated second: "
                   f"{coba['time']:.2f} s")
    fe = find("front end", "")
    if fe:
        out.append(f"{'MET ' if fe['front_s'] < 1.0 else 'MISS'} front end of a 20-population model < 1 s: "
                   f"{fe['front_s'] * 1e3:.0f} ms (cold, first in process; warm {fe['warm_s'] * 1e3:.0f} ms)")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, T up to 1000, 0.2 s of COBA")
    ap.add_argument("--only", default="seed,shd,sweep,coba,frontend,e2e,scaling,brian2,passes",
                    help="comma-separated subset of: seed, shd, sweep, coba, frontend, e2e, scaling, brian2, passes, "
                         "weightgrad (e2e, scaling, brian2: benchmarks/end_to_end.py; passes: "
                         "benchmarks/train_step.py; weightgrad, not in the default set: benchmarks/weight_grad.py)")
    ap.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    ap.add_argument("--render", type=Path, metavar="JSON",
                    help="print the table and targets of an earlier --json file (and redraw its plot), run nothing")
    ap.add_argument("--plot", type=Path, default=None,
                    help="memory-versus-T plot (PNG); default docs/memory-vs-T.png for a full run with the sweep")
    args = ap.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text())
        ROWS.extend(saved["rows"])
        print(table())
        print()
        for line in targets():
            print(line)
        if args.plot and saved.get("sweep_mem"):
            plot(args.plot, saved["sweep_mem"])
        return 0
    only = set(args.only.split(","))
    reps = 3 if args.quick else 7
    t_start = time.perf_counter()
    block(jax.jit(lambda a: a + 1)(jnp.zeros(3)))          # start XLA before the first timed compile
    log(f"snndsl benchmarks on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"jax {jax.__version__} ({jax.default_backend()}), brainstate {bs.__version__}")
    if "seed" in only:
        training_workload("seed-size (100-128-2, batch 128)", "seed128.snn", H.SeedNet, 100, 128, 100, 2, 5.0, 3e-3,
                          False, 10.0, reps)
    if "shd" in only:
        training_workload("SHD-size (700-256r-20, batch 64)", "shd.snn", H.SHDNet, 250, 64, 700, 20, 10.0, 1e-3,
                          True, 20.0, reps)
    sweep_mem: dict = {}
    if "sweep" in only:
        ts = (250, 1000) if args.quick else (250, 1000, 4000)
        for t in ts:
            r = 2 if args.quick else 5 if t >= 4000 else 7
            rows = training_workload("SHD-size long rollout", "shd.snn", H.SHDNet, t, 64, 700, 20, 10.0, 1e-3, True,
                                     20.0, r, loops=("bptt", "checkpointed"), plain=False,
                                     hand_loops=("bptt", "checkpointed"))
            bptt, ck = rows[f"{COMPILED} (bptt)"], rows[f"{COMPILED} (checkpointed)"]
            ck["vs_bptt_mem"] = ck["mem"] / bptt["mem"]
            ck["vs_bptt_time"] = time_ratio(ck, bptt)
            for name, row in rows.items():
                sweep_mem.setdefault(name, {})[t] = row["mem"]
            gc.collect()
    if "coba" in only:
        coba_workload(2000 if args.quick else 10000, 3)
    if "frontend" in only:
        fe = time_front_end(model_text(20), "big20.snn", reps=5)
        add("front end (20 populations, 40 projections)", COMPILED, None, None, unit="", front=fe["cold_s"],
            warm_s=fe["warm_s"], lines=fe["lines"])
    e2e = {}
    if only & {"e2e", "scaling", "brian2"}:
        from benchmarks import end_to_end
        e2e = end_to_end.run(only, args.quick, log)
    if ROWS:
        print(table())
        print()
    if e2e:
        print(end_to_end.table(e2e))
    for line in targets() + (end_to_end.targets(e2e) if e2e else []):
        print(line)
    if "passes" in only:   # the train-step lowering passes, side by side (issue #15): benchmarks/train_step.py
        from benchmarks import train_step
        print()
        train_step.main(["--quick"] if args.quick else [])
    if "weightgrad" in only:   # the narrow_weight_grad pass's calibration: benchmarks/weight_grad.py
        from benchmarks import weight_grad
        print()
        weight_grad.main()
    print(f"\n(total {time.perf_counter() - t_start:.0f} s)")
    plot_path = args.plot or (ROOT / "docs" / "memory-vs-T.png" if sweep_mem and not args.quick else None)
    if plot_path and sweep_mem:
        plot(plot_path, sweep_mem)
        log(f"wrote {plot_path}")
    if args.json:
        args.json.write_text(json.dumps({"rows": ROWS, "targets": targets(), "sweep_mem": sweep_mem,
                                         "end_to_end": e2e}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
