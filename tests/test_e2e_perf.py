"""End-to-end speed features, tested for behaviour (never timed): fixed_prob connectivity drawn on the host
(reproducible, row-major, the right density, no XLA compilation while a network is built), spikes recorded as
booleans, the persistent compilation cache's switches, the cached Lark analysis and ``SNNDSL_TIMINGS``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl.cli import jaxsetup, main

ROOT = Path(__file__).resolve().parent.parent

SPARSE = """\
import LIF from "std"
network N {
    dt = 1 ms
    input x: spikes[600]
    pop h = LIF(500, tau = 10 ms)
    connect x -> h: fixed_prob(p = 0.05, w = 3 mA, seed = 7)
    output h
}
"""


@pytest.fixture(scope="module")
def sparse_model():
    return snndsl.loads(SPARSE, "sparse.snn")


def test_fixed_prob_pairs_are_reproducible_sorted_and_of_the_right_density(sparse_model):
    pairs = sparse_model.module._fixed_prob_pairs
    pre, post = pairs(600, 500, 0.05, 7)
    again = pairs(600, 500, 0.05, 7)
    np.testing.assert_array_equal(pre, again[0])
    np.testing.assert_array_equal(post, again[1])
    assert pre.dtype == np.int32 and post.dtype == np.int32
    flat = pre.astype(np.int64) * 500 + post
    assert np.all(np.diff(flat) > 0)                                  # row-major, no pair twice
    assert pre.min() >= 0 and pre.max() < 600 and post.min() >= 0 and post.max() < 500
    n, mean = len(pre), 600 * 500 * 0.05
    assert abs(n - mean) < 5 * (mean * 0.95) ** 0.5                    # binomial count within 5 sigma
    assert not np.array_equal(pairs(600, 500, 0.05, 8)[0][:50], pre[:50]) or n == 0
    assert len(pairs(30, 20, 0.0, 1)[0]) == 0 and len(pairs(30, 20, 1.0, 1)[0]) == 600
    small = snndsl.loads(SPARSE.replace("600", "30").replace("500", "20"), "masked.snn")   # stored masked
    pre, post = pairs(30, 20, 0.05, 7)
    mask = np.asarray(small.module._fixed_prob_mask(30, 20, 0.05, 7))
    np.testing.assert_array_equal(np.argwhere(mask), np.stack([pre, post], 1))   # masked and sparse: one graph


def test_building_a_sparse_network_compiles_nothing(sparse_model):
    import brainstate as bs
    import jax.monitoring

    compiles, listening = [], [True]

    def listen(event, duration, **kw):            # stays registered (JAX has no public way to remove it): muted
        if listening[0] and event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    bs.random.seed(0)
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        sparse_model.network()
    finally:
        listening[0] = False
    assert "_EventProb(600" in sparse_model.code or "_SparseProb(600" in sparse_model.code
    assert compiles == []


def test_spikes_are_recorded_as_booleans(sparse_model):
    import brainstate as bs

    x = (np.random.default_rng(0).random((20, 600)) < 0.3).astype(np.float32)
    bs.random.seed(0)
    outs, recs = sparse_model.simulate(sparse_model.network(), (x,), record=("h.V",), spikes=("h",))
    assert recs["h"].dtype == bool and recs["h"].shape == (20, 500)
    np.testing.assert_array_equal(recs["h"], np.asarray(outs) != 0)
    assert recs["h"].any()
    assert recs["h.V"].dtype != bool


def test_spike_counts_equal_the_summed_record(sparse_model):
    """``counts=True`` sums each neuron's spikes inside the loop: the same numbers as the boolean record summed
    over time, with or without thinned records; ``run(keep=False)`` reports the same rates from them."""
    import brainstate as bs

    from snndsl.runtime import simulate as S

    x = (np.random.default_rng(1).random((30, 600)) < 0.3).astype(np.float32)
    runs = {}
    for counts, thin in ((False, ()), (True, ()), (True, ("h.V",))):
        bs.random.seed(0)
        net = sparse_model.network()
        runs[counts, thin] = sparse_model.simulate(net, (x,), spikes=("h",), counts=counts, thin=thin, every=7,
                                                   outputs=False)[1]
    record = runs[False, ()]["h"]
    assert record.any()
    for key in ((True, ()), (True, ("h.V",))):
        assert runs[key]["h"].dtype == np.int32 and runs[key]["h"].shape == (500,)
        np.testing.assert_array_equal(runs[key]["h"], record.sum(axis=0))
    assert runs[True, ("h.V",)]["h.V"].shape == (30 // 7, 500)
    kept = S.run(sparse_model, 25, rate_hz=200.0, seed=3)
    counted = S.run(sparse_model, 25, rate_hz=200.0, seed=3, keep=False)
    assert counted.rates_hz == kept.rates_hz and kept.rates_hz["h"] > 0
    assert counted.spikes == {} and counted.outputs == {} and kept.spikes["h"].shape == (25, 500)


def test_compile_cache_switches(tmp_path, monkeypatch):
    import jax

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert jaxsetup.compile_cache_dir() == tmp_path / "snndsl" / "jax"
    monkeypatch.setenv("SNNDSL_NO_COMPILE_CACHE", "1")
    assert jaxsetup.enable_compile_cache(False) is None
    monkeypatch.setenv("SNNDSL_NO_COMPILE_CACHE", "0")
    assert jaxsetup.enable_compile_cache(True) is None                  # --no-compile-cache
    assert jax.config.jax_compilation_cache_dir == before and not (tmp_path / "snndsl").exists()
    try:
        assert jaxsetup.enable_compile_cache(False) == tmp_path / "snndsl" / "jax"
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "snndsl" / "jax")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0
    finally:
        jax.config.update("jax_compilation_cache_dir", before)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert jaxsetup.compile_cache_dir() == Path.home() / ".cache" / "snndsl" / "jax"


def test_the_flag_is_parsed_and_documented(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "--no-compile-cache" in capsys.readouterr().out
    for doc in ("README.md", "docs/performance.md", "docs/tooling.md"):
        text = (ROOT / doc).read_text()
        assert "--no-compile-cache" in text and "SNNDSL_NO_COMPILE_CACHE" in text, doc


def test_lark_analysis_is_cached_and_parses_the_same(tmp_path, monkeypatch):
    from snndsl.syntax import grammar

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("SNNDSL_NO_COMPILE_CACHE", "0")
    text = (ROOT / "models" / "seed.snn").read_text()
    first = grammar.lalr("test").parse(text)
    assert list((tmp_path / "snndsl").glob("lark-test-*.cache"))
    assert grammar.lalr("test").parse(text) == first                    # loaded from the cache


@pytest.mark.slow
def test_run_writes_the_cache_only_when_allowed_and_reports_timings(tmp_path):
    model = tmp_path / "m.snn"
    model.write_text(SPARSE)
    env = {k: v for k, v in os.environ.items() if k != "SNNDSL_NO_COMPILE_CACHE"}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "c"), "SNNDSL_TIMINGS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "snndsl", "run", str(model), "--steps", "5", "--rate", "100"]
    off = subprocess.run(cmd[:3] + ["--no-compile-cache"] + cmd[3:] + ["--out", str(tmp_path / "out")], env=env,
                         capture_output=True, text=True)
    assert off.returncode == 0, off.stderr
    assert not list((tmp_path / "c").glob("snndsl/jax/*"))
    # the console entry ends the process with os._exit: stdout must still arrive, flushed, through the pipe
    assert off.stdout.startswith("h: ") and off.stdout.endswith(" Hz\n")
    assert "wrote " in off.stderr and (tmp_path / "out" / "record.npz").is_file()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "c").glob("snndsl/jax/*"))
    phases = [line.split()[2] for line in done.stderr.splitlines() if line.startswith("snndsl: timing")]
    assert phases[:4] == ["import", "front", "construction", "run"] and phases[-1] == "total"


DEFERRED_CHECK = """
import sys
from snndsl.cli import jaxsetup
jaxsetup.import_libraries()
assert "scipy.signal" not in sys.modules and "scipy.io" not in sys.modules and "optax" not in sys.modules
assert "matplotlib" not in sys.modules                  # brainunit's unit converter was skipped
import braintools, snndsl
model = snndsl.loads(sys.argv[1], "m.snn")
net = model.network()
import numpy as np
model.simulate(net, (np.zeros((3, 4), np.float32),))
assert "scipy.signal" not in sys.modules                # a simulation never needs braintools.analysis
model.module.make_trainer(net, batch_size=2)            # a trainer loads braintools.optim on first use
assert "optax" in sys.modules
spectral = braintools.analysis.spectral                 # a deferred module works as the real one
assert sys.modules["braintools.analysis"] is braintools.analysis and "scipy.signal" in sys.modules
import braintools.file as bf
assert bf is braintools.file and callable(bf.load_hdf5) and type(bf).__name__ == "module"
print("ok")
"""

TRAINABLE = """\
import LIF, Expon from "std"
network N {
    dt = 1 ms
    input x: spikes[4]
    pop h = LIF(3, tau = 10 ms)
    readout o = Expon(2, tau = 5 ms)
    connect x -> h: dense(w = kaiming_normal(mA))
    connect h -> o: dense(w = kaiming_normal)
    output o
}
train N {
    data = poisson_patterns(steps = 5, samples = 4, rate = 50 Hz, classes = 2)
    loss = cross_entropy(mean(o, time), label)
    optimizer = adam(lr = 1e-3)
    epochs = 1
    batch = 2
}
"""


@pytest.mark.slow
def test_import_libraries_defers_what_a_simulation_never_uses():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", DEFERRED_CHECK, TRAINABLE], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_the_console_entry_exits_at_once_with_mains_code_after_jax(monkeypatch, capsys):
    """``entry()``: with JAX loaded, the exit handlers run, the streams are flushed and ``os._exit`` ends the
    process with :func:`main`'s code (patched here: this process goes on); without JAX, a normal exit."""
    import atexit

    import snndsl.cli as cli

    calls = []

    class Exited(Exception):
        pass

    def fake_exit(code):
        calls.append(("exit", code))
        raise Exited

    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: calls.append(("atexit",)))
    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(cli, "main", lambda: print("out") or 2)
    import jax  # noqa: F401 - loaded, as after a command that ran a network
    with pytest.raises(Exited):
        cli.entry()
    assert calls == [("atexit",), ("exit", 2)] and capsys.readouterr().out == "out\n"
    monkeypatch.delitem(sys.modules, "jax")              # restored afterwards
    with pytest.raises(SystemExit) as exc:
        cli.entry()
    assert exc.value.code == 2 and calls == [("atexit",), ("exit", 2)]
