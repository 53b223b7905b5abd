"""End-to-end rows of benchmarks/run.py: whole processes of the command line, COBA's cost as N grows, and the
comparison with Brian2 on COBA (``run.py --only e2e,scaling,brian2``).

* ``e2e``: ``snndsl --help``, ``snndsl fmt --check``, ``snndsl check`` of models/seed.snn, ``snndsl run
  models/coba.snn --steps 10000`` (1 s of biological time; with and without ``--out``) and ``snndsl train
  models/seed.snn --epochs 2``, each a fresh process (median of ``reps`` after one warm-up run), with the
  split that ``SNNDSL_TIMINGS=1`` prints (import, front end, construction, compilation, run / training,
  writing results). Run with the persistent compilation cache warm (its folder is a temporary one, warmed
  by the warm-up run) and, for ``run``, also cold (``--no-compile-cache``).
* ``scaling``: COBA at 4,000, 16,000 and 40,000 neurons (80 % E, p = 0.02 as in models/coba.snn, weights
  scaled by 4000 / N so each neuron's total input stays the same): construction, compilation of the
  simulation loop and its time per simulated second, in this process.
* ``brian2``: Brian2's COBA (benchmarks/brian2_coba.py; cython target when Cython and a C compiler are there,
  numpy otherwise), whole process and loop, interleaved with ``snndsl run`` and snndsl's loop so the ratios
  are measured side by side.

Each subprocess runs with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed, as in an installed package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COBA = ROOT / "models" / "coba.snn"
SEED = ROOT / "models" / "seed.snn"
BRIAN = ROOT / "benchmarks" / "brian2_coba.py"


def _env(cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "SNNDSL_NO_COMPILE_CACHE")}
    env |= {"XDG_CACHE_HOME": str(cache), "SNNDSL_TIMINGS": "1", "JAX_PLATFORMS": "cpu",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")}
    return env


def _process(cmd: list[str], env: dict, cwd: Path) -> dict:
    """Run ``cmd``; its wall time, the CPU time of the children, and the ``snndsl: timing`` phases it printed."""
    before = os.times()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    found = list(re.finditer(r"snndsl: timing (.+?) ([0-9.]+) s(?: \(CPU ([0-9.]+) s\))?", done.stderr))
    phases = {m.group(1): float(m.group(2)) for m in found}
    phases |= {m.group(1) + " (CPU)": float(m.group(3)) for m in found if m.group(3)}
    return {"wall": wall, "cpu": (after.children_user - before.children_user) + (after.children_system -
                                                                                 before.children_system),
            "phases": phases, "stdout": done.stdout}


def _snndsl(*args: str) -> list[str]:
    return [sys.executable, "-m", "snndsl", *args]


def _median_row(name: str, runs: list[dict], **extra) -> dict:
    phases: dict = {}
    for r in runs:
        for k, v in r["phases"].items():
            phases.setdefault(k, []).append(v)
    return {"name": name, "wall": statistics.median(r["wall"] for r in runs), "walls": [r["wall"] for r in runs],
            "cpu": statistics.median(r["cpu"] for r in runs),
            "phases": {k: statistics.median(v) for k, v in phases.items()}, **extra}


def cli_rows(reps: int, log) -> list[dict]:
    """The whole-process rows (``e2e``)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="snndsl-e2e-") as tmp:
        tmp = Path(tmp)
        env = _env(tmp / "cache")
        cases = [("snndsl --help", _snndsl("--help")),
                 ("snndsl fmt --check models/seed.snn", _snndsl("fmt", "--check", str(SEED))),
                 ("snndsl check models/seed.snn", _snndsl("check", str(SEED))),
                 ("snndsl run coba (1 s), cache warm", _snndsl("run", str(COBA), "--steps", "10000")),
                 ("snndsl run coba (1 s) --out, cache warm",
                  _snndsl("run", str(COBA), "--steps", "10000", "--out", str(tmp / "out"))),
                 ("snndsl run coba (1 s), cache off", _snndsl("--no-compile-cache", "run", str(COBA), "--steps",
                                                              "10000")),
                 ("snndsl train seed (2 epochs), cache warm",
                  _snndsl("train", str(SEED), "--epochs", "2", "--no-progress", "--out", str(tmp / "train")))]
        for name, cmd in cases:
            _process(cmd, env, tmp)                                      # warm-up: bytecode, caches
            runs = [_process(cmd, env, tmp) for _ in range(reps)]
            rows.append(_median_row(name, runs))
            log(f"    {name}: {rows[-1]['wall']:.2f} s wall, {rows[-1]['cpu']:.2f} s CPU")
    return rows


# ------------------------------------------------------------------------------------------------ scaling


def coba_text(n: int) -> str:
    """models/coba.snn scaled to ``n`` neurons (80 % excitatory), weights times 4000 / n, p unchanged."""
    text = COBA.read_text()
    n_e, n_i, k = n * 4 // 5, n - n * 4 // 5, 4000 / n
    text = text.replace("LIFCond(3200,", f"LIFCond({n_e},").replace("LIFCond(800,", f"LIFCond({n_i},")
    text = text.replace("w = 6 nS", f"w = {6 * k:.6g} nS").replace("w = 67 nS", f"w = {67 * k:.6g} nS")
    return text


def coba_loop(n: int, steps: int, reps: int = 1):
    """Build COBA at ``n`` neurons in this process and time: construction, compilation of a ``steps``-step loop
    (``update`` under ``for_loop``, spike counts out) and the loop (median of ``reps`` after the compiling call);
    returns a dict with the times, the synapse count and the rates, and ``again``, a function timing one more
    run of the compiled loop."""
    import brainstate as bs
    import jax
    import jax.numpy as jnp

    import snndsl

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"coba{n}.snn"
        path.write_text(coba_text(n))
        t0 = time.perf_counter()
        model = snndsl.load(path)
        t1 = time.perf_counter()
    bs.random.seed(0)
    net = model.network()
    jax.block_until_ready(jax.tree_util.tree_leaves(net.states().to_dict_values()))
    t2 = time.perf_counter()
    bs.nn.init_all_states(net)
    jax.block_until_ready(jax.tree_util.tree_leaves(net.states().to_dict_values()))
    t2b = time.perf_counter()

    @bs.transform.jit
    def loop():
        bs.nn.reset_all_states(net)

        def body(i):
            e, s = net.update()
            return jnp.stack([e.sum(), s.sum()])

        return bs.transform.for_loop(body, jnp.arange(steps)).sum(axis=0)

    def again() -> float:
        t = time.perf_counter()
        jax.block_until_ready(loop())
        return time.perf_counter() - t

    t3 = time.perf_counter()
    counts = jax.block_until_ready(loop())
    t4 = time.perf_counter()
    times = [again() for _ in range(reps)]
    loop_s = statistics.median(times)
    synapses = sum(int(m.pre.shape[0]) for m in (net.ee, net.ei, net.ie, net.ii))
    n_e = n * 4 // 5
    bio = steps * 1e-4
    return {"n": n, "synapses": synapses, "front_s": t1 - t0, "construction_s": t2 - t1, "init_s": t2b - t2,
            "compile_s": (t4 - t3) - loop_s, "loop_s": loop_s, "per_sim_s": loop_s / bio, "loops": times,
            "rates_hz": {"exc": float(counts[0]) / n_e / bio, "inh": float(counts[1]) / (n - n_e) / bio},
            "again": again}


def scaling_rows(sizes, steps: int, log) -> list[dict]:
    rows = []
    for n in sizes:
        try:
            r = coba_loop(n, steps)
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory at 40,000: report it, keep the other rows
            log(f"    COBA N = {n}: failed: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        r.pop("again")
        rows.append(r)
        log(f"    COBA N = {n}: {r['synapses']} synapses, construction {r['construction_s']:.2f} s, "
            f"state initialisation {r['init_s']:.2f} s, "
            f"compile {r['compile_s']:.1f} s, {r['per_sim_s']:.2f} s per sim. s, rates {r['rates_hz']}")
    return rows


# ------------------------------------------------------------------------------------------------ Brian2


def brian2_target() -> str:
    """``cython`` when Cython and a C compiler are available, else ``numpy``."""
    try:
        import Cython  # noqa: F401
    except ImportError:
        return "numpy"
    return "cython" if shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc") else "numpy"


def brian2_rows(reps: int, log) -> list[dict]:
    """Brian2's COBA against snndsl's, side by side: whole processes simulating 1 s (``snndsl run
    models/coba.snn --steps 10000`` vs brian2_coba.py; then both again saving what they recorded: snndsl's
    ``--out`` writes record.npz, summary.json and a raster plot, Brian's ``--out`` the spike indices and
    times) and loops (snndsl's compiled loop in this process vs Brian's ``run`` after its code is built),
    interleaved round by round (the order reversed every other round)."""
    target = brian2_target()
    with tempfile.TemporaryDirectory(prefix="snndsl-brian2-") as tmp:
        tmp = Path(tmp)
        env = _env(tmp / "cache")
        benv = {k: v for k, v in env.items() if k != "SNNDSL_TIMINGS"}
        run = _snndsl("run", str(COBA), "--steps", "10000")
        brian = [sys.executable, str(BRIAN), "--target", target, "--duration", "1"]
        cases = [(run, env), (brian, benv), (run + ["--out", str(tmp / "snn")], env),
                 (brian + ["--out", str(tmp / "b2")], benv)]
        log(f"    Brian2 target: {target} (warm-up runs: compiles Brian's code once if its cache is cold)")
        for cmd, e in cases:
            _process(cmd, e, tmp)
        runs: list[list[dict]] = [[] for _ in cases]
        snn_loops = []
        built = coba_loop(4000, 10000)
        for i in range(reps):
            order = list(range(len(cases) + 1))
            for k in (order if i % 2 == 0 else order[::-1]):
                if k == len(cases):
                    snn_loops.append(built["again"]())
                    continue
                r = _process(*cases[k], tmp)
                if k % 2:
                    r.update(json.loads(r["stdout"].strip().splitlines()[-1]))
                runs[k].append(r)

    def paired(a: list[dict], b: list[dict]) -> float:
        return statistics.median(x["wall"] / y["wall"] for x, y in zip(a, b))

    def brian_row(name: str, rs: list[dict]) -> dict:
        return _median_row(name, rs, rates=rs[-1]["rates_hz"], loop=statistics.median(b["loop_s"] for b in rs),
                           build=statistics.median(b["build_s"] for b in rs),
                           first_run=statistics.median(b["first_run_s"] for b in rs))

    rows = [_median_row("snndsl run coba (1 s), whole process", runs[0], ratio=paired(runs[0], runs[1])),
            brian_row(f"Brian2 {target} COBA (1 s), whole process", runs[1]),
            _median_row("snndsl run coba (1 s) --out, whole process", runs[2], ratio=paired(runs[2], runs[3])),
            brian_row(f"Brian2 {target} COBA (1 s), spikes saved, whole process", runs[3])]
    loops = [b["loop_s"] for b in runs[1] + runs[3]]
    rows.append({"name": "snndsl COBA loop (1 s, compiled)", "wall": statistics.median(snn_loops),
                 "walls": snn_loops, "ratio": statistics.median(a / b for a, b in zip(snn_loops, loops)),
                 "rates": built["rates_hz"]})
    rows.append({"name": f"Brian2 {target} COBA loop (1 s)", "wall": statistics.median(loops), "walls": loops})
    for r in rows:
        log(f"    {r['name']}: {r['wall']:.2f} s" + (f" (÷ Brian2: {r['ratio']:.2f})" if "ratio" in r else ""))
    return rows


# ------------------------------------------------------------------------------------------------ report


def run(only: set, quick: bool, log) -> dict:
    """The rows asked for in ``only`` (``e2e``, ``scaling``, ``brian2``)."""
    out: dict = {}
    reps = 2 if quick else 3
    if "e2e" in only:
        log("  end to end (whole processes)")
        out["e2e"] = cli_rows(reps, log)
    if "scaling" in only:
        log("  COBA scaling")
        out["scaling"] = scaling_rows((4000, 16000) if quick else (4000, 16000, 40000), 1000 if quick else 2000,
                                      log)
    if "brian2" in only:
        log("  Brian2 comparison")
        try:
            import brian2  # noqa: F401
        except ImportError:
            log("    skipped: brian2 is not installed (pip install -e '.[bench]')")
        else:
            out["brian2"] = brian2_rows(reps, log)
    return out


PHASES = ("import", "front end", "construction", "compilation", "run", "data",
          "training (construction, steps, writing results)", "writing results")


def table(res: dict) -> str:
    lines = []
    if res.get("e2e"):
        lines += ["Per phase: wall seconds (CPU seconds of the process in that phase, compilation included).", "",
                  "| command (whole process) | wall (median) | CPU | " + " | ".join(PHASES) + " | other |",
                  "|---|---|---|" + "---|" * (len(PHASES) + 1)]
        for r in res["e2e"]:
            ph = r["phases"]
            other = ph["total"] - sum(ph.get(p, 0.0) for p in PHASES) if "total" in ph else None
            lines.append(f"| {r['name']} | {r['wall']:.2f} s | {r['cpu']:.2f} s | "
                         + " | ".join((f"{ph[p]:.2f}" + (f" ({ph[p + ' (CPU)']:.2f})" if p + " (CPU)" in ph else ""))
                                      if p in ph else "" for p in PHASES)
                         + (f" | {other:.2f} |" if other is not None else " | |"))
        lines.append("")
    if res.get("scaling"):
        lines += ["| COBA N | synapses | front end | construction | state init | compile | s per sim. s | "
                  "rates (E / I) |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in res["scaling"]:
            lines.append(f"| {r['n']:,} | {r['synapses']:,} | {r['front_s']:.2f} s | {r['construction_s']:.2f} s | "
                         f"{r['init_s']:.2f} s | "
                         f"{r['compile_s']:.1f} s | {r['per_sim_s']:.2f} | {r['rates_hz']['exc']:.1f} / "
                         f"{r['rates_hz']['inh']:.1f} Hz |")
        lines.append("")
    if res.get("brian2"):
        lines += ["| COBA, 1 s | wall (median) | ÷ Brian2 (paired) | notes |", "|---|---|---|---|"]
        for r in res["brian2"]:
            notes = []
            if r.get("rates"):
                notes.append(f"{r['rates']['exc']:.1f} / {r['rates']['inh']:.1f} Hz")
            if r.get("build") is not None:
                notes.append(f"build {r['build']:.2f} s, code {r['first_run']:.2f} s, loop {r['loop']:.2f} s")
            lines.append(f"| {r['name']} | {r['wall']:.2f} s | {r['ratio']:.2f} |" if "ratio" in r else
                         f"| {r['name']} | {r['wall']:.2f} s | |")
            lines[-1] += " " + "; ".join(notes) + " |"
        lines.append("")
    return "\n".join(lines)


def targets(res: dict) -> list[str]:
    out = []

    def find(name):
        return next((r for r in res.get("e2e", []) if r["name"].startswith(name)), None)

    for name, limit in (("snndsl --help", 0.3), ("snndsl fmt", 0.3), ("snndsl check", 1.5)):
        r = find(name)
        if r:
            out.append(f"{'MET ' if r['wall'] < limit else 'MISS'} {name} < {limit} s: {r['wall']:.2f} s "
                       f"(CPU {r['cpu']:.2f} s)")
    r = find("snndsl run coba (1 s), cache warm")
    if r and "construction" in r["phases"]:
        c = r["phases"]["construction"]
        out.append(f"{'MET ' if c < 0.5 else 'MISS'} COBA network construction < 0.5 s: {c:.2f} s")
    b = res.get("brian2") or []
    if len(b) == 6:
        out.append(f"{'MET ' if b[0]['ratio'] <= 1 else 'MISS'} snndsl run (whole process) ≤ Brian2's: "
                   f"{b[0]['ratio']:.2f} × ({b[0]['wall']:.2f} s vs {b[1]['wall']:.2f} s; CPU {b[0]['cpu']:.2f} s vs "
                   f"{b[1]['cpu']:.2f} s); saving results: {b[2]['ratio']:.2f} × ({b[2]['wall']:.2f} s vs "
                   f"{b[3]['wall']:.2f} s)")
        out.append(f"{'MET ' if b[4]['ratio'] <= 1 else 'MISS'} COBA loop ≤ Brian2's: {b[4]['ratio']:.2f} × "
                   f"({b[4]['wall']:.2f} s vs {b[5]['wall']:.2f} s)")
    return out
