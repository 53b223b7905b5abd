"""NIR files and models that used to crash or mislead ``snndsl export`` / ``snndsl import``."""

from __future__ import annotations

import nir
import numpy as np
import pytest

from snndsl.cli import main

W = np.full((3, 3), 0.5)
MODEL = """import LIF from "std"

network Net {
    dt = 1 ms
    input x: spikes[3]
    pop h = LIF(2)
    connect x -> h: CONN
    output h
}
"""


HARD = """neuron Hard {
    param tau: ms = 5 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau
    spike when V >= 1 mV
    reset hard V = 0 mV
}"""


def _lif(n=3, tau=0.01):
    return nir.LIF(tau=np.full(n, tau), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n),
                   v_reset=np.zeros(n))


def _chain(weights=W, tau=0.01):
    return nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "w": nir.Linear(weights), "a": _lif(tau=tau),
                               "output": nir.Output(np.array([3]))},
                        edges=[("input", "w"), ("w", "a"), ("a", "output")])


def run(argv, capsys) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err and code != 3, err
    return code, err


def test_a_constant_bias_exports_as_an_array(tmp_path, capsys):
    src = tmp_path / "m.snn"
    src.write_text(MODEL.replace("CONN", "dense(w = 0.5 mA, b = 0 mA)"))
    assert run(["export", src, "-o", tmp_path / "m.nir"], capsys)[0] == 0
    node = nir.read(str(tmp_path / "m.nir")).nodes["x_to_h"]
    assert node.bias.shape == (2,) and node.weight.shape == (2, 3)
    np.testing.assert_allclose(node.weight, 0.5)


def test_an_imported_model_exports_its_parameter_file(tmp_path, capsys):
    weights = np.arange(9, dtype=float).reshape(3, 3) / 10
    nir.write(str(tmp_path / "g.nir"), _chain(weights))
    assert run(["import", tmp_path / "g.nir", "-o", tmp_path / "g.snn"], capsys)[0] == 0
    assert (tmp_path / "g.params.npz").exists()
    assert run(["export", tmp_path / "g.snn", "-o", tmp_path / "back.nir"], capsys)[0] == 0
    back = nir.read(str(tmp_path / "back.nir"))
    lin = next(n for n in back.nodes.values() if isinstance(n, (nir.Linear, nir.Affine)))
    np.testing.assert_allclose(lin.weight, weights, rtol=1e-6)


@pytest.mark.parametrize("first", ["alpha", "zeta"])
def test_a_cycle_is_cut_at_its_feedback_edge_whatever_the_names(first, tmp_path, capsys):
    graph = nir.NIRGraph(
        nodes={"input": nir.Input(np.array([3])), "w0": nir.Linear(W), first: _lif(), "beta": _lif(),
               "w1": nir.Linear(W), "w2": nir.Linear(W), "output": nir.Output(np.array([3]))},
        edges=[("input", "w0"), ("w0", first), (first, "w1"), ("w1", "beta"), ("beta", "w2"), ("w2", first),
               ("beta", "output")])
    nir.write(str(tmp_path / "c.nir"), graph)
    assert run(["import", tmp_path / "c.nir", "-o", tmp_path / "c.snn"], capsys)[0] == 0
    lagged = [ln.strip() for ln in (tmp_path / "c.snn").read_text().splitlines() if "closes a cycle" in ln]
    assert len(lagged) == 1 and lagged[0].startswith(f"connect beta -> {first}:")


@pytest.mark.parametrize("graph,fragment", [
    (_chain(tau=-0.01), "time constant `tau` must be positive"),
    (_chain(tau=0.0), "time constant `tau` must be positive"),
    (_chain(W * np.nan), "NaN or infinite"),
    (_chain(W * np.inf), "NaN or infinite"),
    (nir.NIRGraph(nodes={"input": nir.Input(np.array([3])), "a": _lif(), "b": _lif(),
                         "output": nir.Output(np.array([3]))}, edges=[("input", "a"), ("a", "output")]),
     "`b` is connected to nothing"),
], ids=["negative tau", "zero tau", "NaN weights", "infinite weights", "node without edges"])
def test_bad_graphs_are_refused_in_one_line(graph, fragment, tmp_path, capsys):
    nir.write(str(tmp_path / "bad.nir"), graph)
    code, err = run(["import", tmp_path / "bad.nir", "-o", tmp_path / "bad.snn"], capsys)
    assert code == 1 and err.count("\n") == 1 and fragment in err and "bug" not in err
    assert not (tmp_path / "bad.snn").exists()


def test_export_warns_that_nir_has_no_soft_reset(tmp_path, capsys):
    src = tmp_path / "m.snn"
    src.write_text(MODEL.replace("CONN", "dense(w = 0.5 mA)"))
    code, err = run(["export", src, "-o", tmp_path / "m.nir"], capsys)
    assert code == 0 and "warning[SNN701]" in err and "soft" in err
    hard = tmp_path / "hard.snn"
    hard.write_text(MODEL.replace("CONN", "dense(w = 0.5 mA)").replace('import LIF from "std"', HARD).replace(
        "LIF(2)", "Hard(2)"))
    code, err = run(["export", hard, "-o", tmp_path / "h.nir"], capsys)
    assert code == 0 and "warning" not in err
