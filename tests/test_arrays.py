"""Array values (literals, .npy/.npz files), parameter files, float64 precision and the simulate API.

Each test network is tiny (a handful of neurons, tens of steps); compiled models are shared per module.
"""

from __future__ import annotations

import jax
import brainunit as u
import numpy as np
import pytest

import snndsl
from snndsl import SnnError
from snndsl.runtime.params import ParamsError, apply_params, collect_params, read_params, write_params
from snndsl.runtime.record import RecordError

from .conftest import FIXTURES, ROOT

DECAY = """
import LIF, Expon from "std"
network Decay {
    dt = 1 ms
    input p: spikes[2] = poisson(rate = 400 Hz)
    pop h = LIF(3, tau = [10, 20, 30] * ms, V_th = 100 mV, V = [1 mV, 2 mV, 3 mV])
    connect ee: p -> h: dense(w = [[0.5, 0.0, 0.0], [0.0, 0.5, 0.5]] * mA), synapse = Expon(tau = [5, 6, 7] * ms)
    output h
}
"""

WEIGHTS = """
import LIF, Expon from "std"
network Weights {
    dt = 1 ms
    input x: spikes[2]
    pop h = LIF(3, tau = 10 ms, V_th = 100 mV)
    connect ee: x -> h: dense(w = [[0.5, 0.1, 0.2], [0.3, 0.4, 0.0]] * mA, b = [1, 2, 3] * uA),
        synapse = Expon(tau = 5 ms)
    connect d: h -> h: one_to_one(w = [0.1, 0.2, 0.3] * mA), delay = 1 ms
    output h
}
"""


@pytest.fixture(scope="module")
def decay():
    return snndsl.loads(DECAY)


@pytest.fixture(scope="module")
def weights():
    return snndsl.loads(WEIGHTS)


def test_per_neuron_literal_gives_per_neuron_traces(decay):
    # no input arrives (weights set to zero): V_i(k dt) = V_i(0) exp(-k dt / tau_i), exactly (exponential Euler)
    net = decay.network(seed=0)
    apply_params(decay, net, {"ee.w": (np.zeros((2, 3)), None)})
    _, rec = decay.simulate(net, steps=20, record=["h.V"], seed=0)
    v = np.asarray(rec["h.V"].to_decimal(u.mV))
    k = np.arange(1, 21)[:, None]
    want = np.array([1.0, 2.0, 3.0]) * np.exp(-k / np.array([10.0, 20.0, 30.0]))
    np.testing.assert_allclose(v, want, rtol=1e-5)


def test_weight_matrix_rows_are_presynaptic(weights):
    net = weights.network(seed=0)
    x = np.zeros((3, 2), np.float32)
    x[0, 1] = 1.0                                    # presynaptic neuron 1 fires at step 0
    _, rec = weights.simulate(net, (x,), record=["ee.g"])
    g = np.asarray(rec["ee.g"].to_decimal(u.mA))
    np.testing.assert_allclose(g[0], [0.3 + 0.001, 0.4 + 0.002, 0.0 + 0.003], rtol=1e-5)   # row 1 + the bias
    code = weights.code
    assert "jnp.asarray([[0.5, 0.1, 0.2], [0.3, 0.4, 0.0]]) * u.mA" in code
    assert "_OneToOne(3, jnp.asarray([0.1, 0.2, 0.3]) * u.mA)" in code


def test_arrays_print_back_in_canonical_form():
    from snndsl.syntax.format import format_text
    text = format_text("network N { pop h = L(2, tau = [ 1,2 ]*ms, w = [[1, -2],[3,4]] ) }\n")
    assert "tau = [1, 2] * ms, w = [[1, -2], [3, 4]]" in text


def _npz_model(tmp_path, tau, key="tau"):
    np.savez(tmp_path / "p.npz", tau=np.asarray(tau, dtype=np.float64), other=np.ones(2))
    np.save(tmp_path / "w.npy", np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.5]]))
    path = tmp_path / "m.snn"
    path.write_text(DECAY.replace("tau = [10, 20, 30] * ms", f'tau = load("p.npz", "{key}") * ms')
                    .replace("w = [[0.5, 0.0, 0.0], [0.0, 0.5, 0.5]] * mA", 'w = load("w.npy") * mA'))
    return path


def test_npz_arrays_are_read_by_path_and_equal_the_literal(tmp_path, decay):
    path = _npz_model(tmp_path, [10.0, 20.0, 30.0])
    model = snndsl.load(path)
    assert "_load_array(" in model.code and "[10.0, 20.0, 30.0]" not in model.code
    assert str((tmp_path / "p.npz").resolve()) in model.code
    _, a = model.simulate(model.network(seed=0), steps=10, record=["h.V"], seed=0)
    _, b = decay.simulate(decay.network(seed=0), steps=10, record=["h.V"], seed=0)
    np.testing.assert_allclose(np.asarray(a["h.V"].mantissa), np.asarray(b["h.V"].mantissa), rtol=1e-6)
    # the emitted module refuses a file changed after the model was checked
    np.savez(tmp_path / "p.npz", tau=np.array([1.0, 2.0, 3.0]), other=np.ones(2))
    with pytest.raises(ValueError, match="changed since the model was compiled"):
        model.network()


def test_array_files_are_read_again_only_when_changed(tmp_path, monkeypatch):
    from snndsl.resolve import arrays
    path = _npz_model(tmp_path, [10.0, 20.0, 30.0])
    reads, real = [], arrays.read_array
    monkeypatch.setattr(arrays, "read_array", lambda data, key: reads.append(key) or real(data, key))
    snndsl.check_file(path)
    snndsl.check_file(path)
    assert reads.count("tau") == 1                    # the second check reuses the array read
    import os
    np.savez(tmp_path / "p.npz", tau=np.array([1.0, 2.0]), other=np.ones(2))
    os.utime(tmp_path / "p.npz", ns=(1, 1))           # a new stamp even within the clock's resolution
    with pytest.raises(SnnError) as err:
        snndsl.check_file(path)
    assert err.value.errors[0].code == "SNN272"


@pytest.mark.parametrize("tau, key, code", [
    ([10.0, 20.0], "tau", "SNN272"),
    ([10.0, np.inf, 30.0], "tau", "SNN276"),
    ([10.0, 20.0, 30.0], "tua", "SNN275"),
])
def test_bad_array_files_are_located_errors(tmp_path, tau, key, code):
    path = _npz_model(tmp_path, tau, key)
    with pytest.raises(SnnError) as err:
        snndsl.check_file(path)
    found = err.value.errors[0]
    assert found.code == code and found.line == 6
    if code == "SNN275":
        assert "tau" in found.hint


def test_math_on_arrays():
    text = DECAY.replace("tau = [10, 20, 30] * ms", "tau = [1, 2, 3]^2 * ms")
    assert snndsl.check_text(text).program.networks[0].populations[0].value("tau").value.shape == (3,)
    with pytest.raises(SnnError) as err:
        snndsl.check_text(DECAY.replace("tau = [10, 20, 30] * ms", "tau = exp([1, 2, 3]) * ms"))
    assert err.value.errors[0].code == "SNN270" and "single numbers" in err.value.errors[0].message


def test_load_never_unpickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    text = DECAY.replace("tau = [10, 20, 30] * ms", 'tau = load("obj.npy") * ms')
    with pytest.raises(SnnError) as err:
        snndsl.loads(text, str(tmp_path / "m.snn"))
    assert err.value.errors[0].code == "SNN274"


def test_load_refuses_a_member_too_large_to_inflate(tmp_path, monkeypatch):
    from snndsl.resolve import arrays
    np.savez_compressed(tmp_path / "p.npz", tau=np.zeros(1000))      # ~8 kB inflated, a few bytes stored
    monkeypatch.setattr(arrays, "MAX_ARRAY_BYTES", 4096)
    text = DECAY.replace("tau = [10, 20, 30] * ms", 'tau = load("p.npz", "tau") * ms')
    with pytest.raises(SnnError) as err:
        snndsl.check_text(text, str(tmp_path / "m.snn"))
    assert err.value.errors[0].code == "SNN274" and "limit" in err.value.errors[0].message


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes")
def test_load_does_not_block_on_a_pipe(tmp_path):
    import os
    os.mkfifo(tmp_path / "pipe.npy")
    text = DECAY.replace("tau = [10, 20, 30] * ms", 'tau = load("pipe.npy") * ms')
    with pytest.raises(SnnError) as err:
        snndsl.check_text(text, str(tmp_path / "m.snn"))
    assert err.value.errors[0].code == "SNN274" and "not a regular file" in err.value.errors[0].message


# ---------------------------------------------------------------- the simulate API


def test_simulate_without_data_inputs_needs_steps(decay):
    net = decay.network(seed=0)
    with pytest.raises(ValueError, match="steps=N"):
        decay.simulate(net)
    with pytest.raises(ValueError, match="takes 0 data inputs"):
        decay.simulate(net, (np.zeros((3, 2)),), steps=3)
    outs, _ = decay.simulate(net, steps=4)
    assert outs.shape == (4, 3)


def test_simulate_seed_makes_runs_reproducible(decay):
    # the Poisson input's draws: the same seed, the same run; another seed, another run
    net = decay.network(seed=0)
    runs = [np.asarray(decay.simulate(net, steps=30, record=["ee.g"], seed=s)[1]["ee.g"].mantissa)
            for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_projection_synapse_states_are_recordable(decay):
    assert decay.recordable() == ("h", "h.V", "ee.g")
    _, rec = decay.simulate(decay.network(seed=0), steps=5, record=["ee.g", "h"], seed=1)
    assert rec["ee.g"].shape == (5, 3) and rec["h"].shape == (5, 3)
    with pytest.raises(RecordError, match="recordable are ee.g"):
        decay.simulate(decay.network(seed=0), steps=5, record=["ee.x"])


def test_cli_records_synapse_state(tmp_path, capsys):
    from snndsl.cli import main
    path = tmp_path / "m.snn"
    path.write_text(DECAY)
    assert main(["run", str(path), "--steps", "5", "--record", "ee.g", "--out", str(tmp_path / "out")]) == 0
    with np.load(tmp_path / "out" / "record.npz") as f:
        assert f["record.ee.g"].shape == (5, 3)
    assert main(["run", str(path), "--steps", "5", "--record", "ee.q"]) == 2
    assert "recordable are ee.g" in capsys.readouterr().err


# ---------------------------------------------------------------- parameter files


def test_params_round_trip_through_a_folder(tmp_path, weights):
    net = weights.network(seed=0)
    net.ee.weight.value = {**net.ee.weight.value, "weight": net.ee.weight.value["weight"] * 2}
    write_params(tmp_path / "p", collect_params(weights, net))
    assert (tmp_path / "p" / "ee.w.npy").exists() and (tmp_path / "p" / "h.tau.npy").exists()
    fresh = weights.network(seed=1, params=tmp_path / "p")
    np.testing.assert_allclose(np.asarray(fresh.ee.weight.value["weight"].to_decimal(u.mA)),
                               [[1.0, 0.2, 0.4], [0.6, 0.8, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fresh.d.weight.value.to_decimal(u.mA)), [0.1, 0.2, 0.3], rtol=1e-6)


def test_params_in_the_declared_unit_and_their_errors(tmp_path, weights):
    net = weights.network(seed=0)
    # without a unit table, numbers are in the model's declared unit (param tau: ms)
    apply_params(weights, net, {"h.tau": (np.array([1.0, 2.0, 3.0]), None), "ee.w": (np.ones((2, 3)), "uA")})
    np.testing.assert_allclose(np.asarray(net.h.tau.to_decimal(u.ms)), [1, 2, 3])
    np.testing.assert_allclose(np.asarray(net.ee.weight.value["weight"].to_decimal(u.mA)), 0.001, rtol=1e-5)
    with pytest.raises(ParamsError, match=r"needs \[2, 3\]"):
        apply_params(weights, net, {"ee.w": (np.ones((3, 2)), None)})
    with pytest.raises(ParamsError, match="did you mean `h.tau`"):
        apply_params(weights, net, {"h.tua": (np.ones(3), None)})
    with pytest.raises(ParamsError, match="NaN"):
        apply_params(weights, net, {"h.tau": (np.array([1.0, np.nan, 1.0]), None)})
    with pytest.raises(ParamsError, match="in mV"):
        apply_params(weights, net, {"h.tau": (np.ones(3), "mV")})
    np.save(tmp_path / "x.npy", np.ones(3))
    with pytest.raises(ParamsError, match="an .npy file"):
        read_params(tmp_path / "x.npy")


@pytest.mark.slow
def test_nir_export_import_runs_with_real_weights(tmp_path, capsys):
    """A model with random weights → export --to params, run with them; export --to nir, import, run the import
    with its parameter file: the same outputs."""
    from snndsl.cli import main
    seed = str(ROOT / "models" / "seed.snn")
    assert main(["export", seed, "--to", "params", "--seed", "5", "-o", str(tmp_path / "p")]) == 0
    assert main(["export", seed, "--to", "nir", "--params", str(tmp_path / "p"), "-o", str(tmp_path / "s.nir")]) == 0
    assert main(["import", str(tmp_path / "s.nir"), "-o", str(tmp_path / "imp" / "s.snn")]) == 0
    common = ["--steps", "40", "--batch", "2", "--rate", "300"]
    assert main(["run", seed, *common, "--params", str(tmp_path / "p"), "--out", str(tmp_path / "a")]) == 0
    assert main(["run", str(tmp_path / "imp" / "s.snn"), *common, "--params",
                 str(tmp_path / "imp" / "s.params.npz"), "--out", str(tmp_path / "b")]) == 0
    assert main(["run", str(tmp_path / "imp" / "s.snn"), *common, "--out", str(tmp_path / "c")]) == 0
    with np.load(tmp_path / "a" / "record.npz") as a, np.load(tmp_path / "b" / "record.npz") as b, \
            np.load(tmp_path / "c" / "record.npz") as c:
        assert np.abs(a["output.out"]).max() > 0.1
        np.testing.assert_allclose(a["output.out"], b["output.out"], atol=1e-5)
        assert np.abs(a["output.out"] - c["output.out"]).max() > 1e-3     # the .snn alone has mean weights
    assert main(["run", seed, "--steps", "3", "--params", str(tmp_path / "imp")]) == 2
    assert "checkpoint" in capsys.readouterr().err


# ---------------------------------------------------------------- precision


def test_float64_keeps_float64_states_and_agrees_with_float32(decay):
    _, r32 = decay.simulate(decay.network(seed=0), steps=30, record=["h.V", "ee.g"], seed=3)
    assert r32["h.V"].dtype == np.float32
    before = jax.config.jax_enable_x64
    try:
        m64 = snndsl.loads(DECAY.replace("dt = 1 ms", "dt = 1 ms\n    precision = float64"))
        assert jax.config.jax_enable_x64 and "precision = 'float64'" in m64.code
        _, r64 = m64.simulate(m64.network(seed=0), steps=30, record=["h.V", "ee.g"], seed=3)
        assert r64["h.V"].dtype == np.float64 and r64["ee.g"].dtype == np.float64
        np.testing.assert_allclose(np.asarray(r64["h.V"].mantissa), np.asarray(r32["h.V"].mantissa), rtol=1e-5)
    finally:
        jax.config.update("jax_enable_x64", before)


def test_cli_x64_records_float64(tmp_path):
    from snndsl.cli import main
    path = tmp_path / "m.snn"
    path.write_text(DECAY)
    before = jax.config.jax_enable_x64
    try:
        assert main(["run", str(path), "--steps", "3", "--x64", "--record", "h.V", "--out", str(tmp_path / "o")]) == 0
    finally:
        jax.config.update("jax_enable_x64", before)
    with np.load(tmp_path / "o" / "record.npz") as f:
        assert f["record.h.V"].dtype == np.float64


def test_precision_is_checked():
    with pytest.raises(SnnError) as err:
        snndsl.check_text(DECAY.replace("dt = 1 ms", "dt = 1 ms\n    precision = float16"))
    assert err.value.errors[0].code == "SNN279" and "float64" in err.value.errors[0].hint


def test_array_fixtures_exist_for_every_new_code():
    for code in range(270, 280):
        assert list((FIXTURES / "invalid").glob(f"SNN{code}_*.snn")), code
