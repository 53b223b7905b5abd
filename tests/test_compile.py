"""The emitted module: golden files, standalone execution without snndsl, atomic `compile -o`, no trace of
code injection from a model file; only the prelude helpers it uses, lines within 99 characters, trainable
parameters settled at compile time, models documented with their equations."""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
import textwrap

import pytest

import snndsl
import snndsl.registry.model_entries as connectivity
from snndsl import SnnError
from snndsl.cli import main
from snndsl.compiler import compile_source
from snndsl.lower import prelude_definitions
from snndsl.lower.layout import WIDTH
from snndsl.source import SourceFile

from .conftest import FIXTURES, ROOT

MODELS = sorted((ROOT / "models").glob("*.snn"))
VALID = sorted((FIXTURES / "valid").glob("*.snn"))
GOLDEN = ROOT / "tests" / "golden" / "emitted"
ALLOWED_IMPORTS = {"brainstate", "braintools", "brainunit", "jax", "jax.numpy", "braintrace", "numpy"}


@functools.cache
def emitted(path) -> str:
    """The module emitted for ``path``, compiled as `snndsl compile models/seed.snn` from the repository root
    writes it (source comments name files relative to it, as the golden files do)."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return compile_source(SourceFile.read(os.path.relpath(path, ROOT)))[0]
    finally:
        os.chdir(cwd)


def top_level(text: str) -> list[str]:
    return [n.name for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_emitted_module_matches_golden(path, request):
    text = emitted(path)
    golden = GOLDEN / f"{path.stem}.py"
    if request.config.getoption("--update-golden"):
        golden.write_text(text)
    assert golden.exists(), f"no golden module for {path.name}: run pytest --update-golden"
    assert text == golden.read_text()


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_emitted_module_imports_only_the_brain_stack(path):
    tree = ast.parse(emitted(path))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS


def test_emitted_seed_runs_without_snndsl(tmp_path):
    out = tmp_path / "seed_module.py"
    assert main(["compile", str(ROOT / "models" / "seed.snn"), "-o", str(out)]) == 0
    script = textwrap.dedent("""
        import sys
        sys.modules['snndsl'] = None          # any import of snndsl now fails
        import numpy as np, brainstate as bs
        import seed_module as m
        net = m.SeedClassifier()
        x = (np.random.default_rng(0).random((30, 2, 100)) < 0.1).astype(np.float32)
        out, _ = m.simulate(net, (x,), batch_size=2)
        assert out.shape == (30, 2, 2), out.shape
        opt, step, evaluate = m.make_trainer(net, 2)
        loss, acc, finite = step(x, np.array([0, 1]))
        print(float(loss))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert 0.0 < float(done.stdout.strip().splitlines()[-1]) < 10.0


def test_compile_error_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.snn"
    bad.write_text("network N { dt = 1 ms\n pop a = Nope(3) }\n")
    out = tmp_path / "out.py"
    assert main(["compile", str(bad), "-o", str(out)]) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert "SNN211" in capsys.readouterr().err


INJECTIONS = [
    # (model text, expected error code or None if it must compile cleanly)
    ('neuron __import__ { state V: mV = 0 mV }\nnetwork N { dt = 1 ms }', "SNN221"),
    ('neuron N { param __class__: mV = 1 mV\n state V: mV = 0 mV }\nnetwork M { dt = 1 ms }', "SNN221"),
    ('neuron N { param x: mV = 1 mV"); import os; os.system("echo pwned\n state V: mV = 0 mV }', "SNN1"),
    ('neuron N { param x: mV = 1e999 mV\n state V: mV = 0 mV }', "SNN104"),
    ('neuron N { param x = nan\n state V: mV = 0 mV }', "SNN201"),
    ('neuron N { param x = inf\n state V: mV = 0 mV }', "SNN201"),
    ("neuron N { param x: mV = 1 mV\\\n state V: mV = 0 mV }", "SNN102"),
]


@pytest.mark.parametrize("text,code", INJECTIONS)
def test_injection_attempts_fail_with_located_errors(text, code):
    with pytest.raises(SnnError) as info:
        snndsl.loads(text, "evil.snn")
    assert any(c.startswith(code) for c in info.value.codes)
    assert all(d.span is not None for d in info.value.errors)


def test_keywords_and_emitted_names_are_mangled_not_executed():
    text = textwrap.dedent("""\
        neuron lambda {
            param import: ms = 10 ms
            param self: mV = 1 mV
            param u: mV = 0 mV
            input I: mA
            state V: mV = 0 mV
            dV/dt = (u - V + 1 ohm * I) / import
            spike when V >= u + 1 mV
            reset soft V = u
        }
        network class {
            dt = 1 ms
            input def: spikes[2]
            pop return = lambda(3)
            connect def -> return: dense(w = kaiming_normal(mA))
            output return
        }
        """)
    with pytest.raises(SnnError) as info:   # `self` is reserved in the language
        snndsl.loads(text, "kw.snn")
    assert info.value.codes == ["SNN221"]
    model = snndsl.loads(text.replace("self", "gain").replace("param gain: mV = 1 mV", "param gain = 1"),
                         "kw.snn")
    tree = ast.parse(model.code)
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert {"lambda_", "class_"} <= names
    net = model.network()
    import numpy as np
    out, _ = model.simulate(net, (np.ones((5, 2), np.float32),))
    assert out.shape == (5, 3)


# ---------------------------------------------------------------- only the helpers a module uses

SPARSE_HELPERS = {"_sparse_op", "_EventProb", "_SparseProb"}


def test_seed_carries_no_unused_helper():
    names = set(top_level(emitted(ROOT / "models" / "seed.snn")))
    assert not names & (SPARSE_HELPERS | {"_Delay", "_rk4", "_OneToOne", "_running_max"})
    assert {"_state", "_loop", "simulate", "LIF", "Expon", "SeedClassifier"} <= names


FEATURES = {
    "rk4": ("""
        neuron Decay { param tau: ms = 10 ms
            input I: mA
            state V: mV = 1 mV
            dV/dt = (-V + 1 ohm * I) / tau
            method rk4 }
        network N { dt = 1 ms
            input x: current[2] mA
            pop a = Decay(2)
            connect x -> a: one_to_one(w = 1.0)
            output a }""", {"_rk4", "_OneToOne"}, set()),
    "delay": ("""
        import Expon from "std"
        network N { dt = 1 ms
            input x: spikes[2]
            readout r = Expon(2, tau = 5 ms)
            connect x -> r: dense(w = constant(1.0)), delay = 2 ms
            output r }""", {"_Delay"}, SPARSE_HELPERS),
    "events": ("""
        import LIF, Expon from "std"
        network N { dt = 1 ms
            input x: spikes[2]
            pop a = LIF(3, tau = 10 ms)
            connect x -> a: fixed_prob(p = 0.5, w = 5 mA), synapse = Expon(tau = 5 ms)
            output a }""", SPARSE_HELPERS | {"_fixed_prob_pairs", "_host_param"},
        {"_Delay", "_rk4", "_fixed_prob_mask"}),
    "sparse": ("""
        import LIF from "std"
        network N { dt = 1 ms
            input x: current[2] mA
            pop a = LIF(3, tau = 10 ms)
            connect x -> a: fixed_prob(p = 0.5, w = 5.0)
            output a }""", {"_sparse_op", "_SparseProb"}, {"_EventProb", "_Delay"}),
}


@pytest.mark.parametrize("feature", FEATURES)
def test_a_model_using_a_feature_gets_its_helpers_and_runs(feature, monkeypatch):
    import numpy as np

    text, wanted, unwanted = FEATURES[feature]
    monkeypatch.setattr(connectivity, "SPARSE_ABOVE", 0)       # fixed_prob stored sparsely at any size
    model = snndsl.loads(textwrap.dedent(text), f"{feature}.snn")
    names = set(top_level(model.code))
    assert wanted <= names and not unwanted & names
    out, _ = model.simulate(model.network(), (np.ones((4, 2), np.float32),))
    assert np.all(np.isfinite(np.asarray(getattr(out, "mantissa", out))))


def _unused_helpers(text: str) -> list[str]:
    """The prelude definitions in ``text`` that nothing else in it reads or exports (``__all__``)."""
    tree = ast.parse(text)
    helpers = set(prelude_definitions()[1])
    exported = {x.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "__all__"
                for x in n.value.elts}
    unused = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in helpers:
            others = [n for n in tree.body if n is not node]
            read = any(isinstance(x, ast.Name) and x.id == node.name for o in others for x in ast.walk(o))
            if not read and node.name not in exported:
                unused.append(node.name)
    return unused


@pytest.mark.parametrize("path", MODELS + VALID, ids=lambda p: p.stem)
def test_every_emitted_module_compiles_and_uses_each_helper_it_carries(path):
    text = emitted(path)
    compile(text, path.name, "exec")
    assert _unused_helpers(text) == []


@pytest.mark.parametrize("path", MODELS + VALID, ids=lambda p: p.stem)
def test_emitted_lines_fit_the_width(path):
    long = [ln for ln in emitted(path).splitlines() if len(ln) > WIDTH]
    assert long == [], long


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.py")), ids=lambda p: p.stem)
def test_golden_modules_fit_the_width(path):
    assert max(len(ln) for ln in path.read_text().splitlines()) <= WIDTH


def test_prelude_source_fits_the_width():
    text = (ROOT / "snndsl" / "lower" / "prelude.py").read_text(encoding="utf-8")
    assert max(len(ln) for ln in text.splitlines()) <= WIDTH


# ---------------------------------------------------------------- trainable parameters, docstrings

TWO_LIFS = """
import LIF from "std"
network N {
    dt = 1 ms
    input x: current[2] mA
    pop fixed = LIF(2, tau = 10 ms)
    pop tuned = LIF(2, trainable tau = 10 ms, trainable V_th = 1 mV)
    connect x -> fixed: one_to_one(w = 1.0)
    connect x -> tuned: one_to_one(w = 1.0)
    output fixed, tuned
}
"""


def test_trainable_parameters_are_settled_at_compile_time():
    import brainstate as bs
    import numpy as np

    model = snndsl.loads(TWO_LIFS, "two.snn")
    classes = {n.name: n for n in ast.parse(model.code).body if isinstance(n, ast.ClassDef)}
    assert {"LIF", "LIF_trainable_tau_V_th"} <= set(classes)
    assert "_read" not in model.code and "trainable=" not in model.code
    fixed, tuned = (ast.unparse(classes[c]) for c in ("LIF", "LIF_trainable_tau_V_th"))
    states = ("self.V.value", "self._spike.value")      # the membrane and the carried spike (lower/passes.py)
    assert "tau = self.tau\n" in fixed and ".value" not in fixed.replace(states[0], "").replace(states[1], "")
    assert "tau = self.tau.value" in tuned and "V_th = self.V_th.value" in tuned
    assert "V_reset = self.V_reset\n" in tuned
    net = model.network()
    bs.nn.init_all_states(net)
    trained = {".".join(map(str, k)) for k in net.states(bs.ParamState)}
    assert {"tuned.tau", "tuned.V_th"} <= trained and not any(k.startswith("fixed.") for k in trained)
    assert isinstance(net.fixed.tau, u_quantity()) and isinstance(net.tuned.tau, bs.ParamState)
    out, _ = model.simulate(model.network(), (np.ones((3, 2), np.float32),))
    assert len(out) == 2


def u_quantity():
    import brainunit as u
    return u.Quantity


def test_model_classes_carry_their_equations():
    tree = ast.parse(emitted(ROOT / "models" / "seed.snn"))
    docs = {n.name: ast.get_docstring(n) for n in tree.body if isinstance(n, ast.ClassDef)}
    assert "dV/dt = (-V + V_rest + R * I) / tau" in docs["LIF"]
    assert "spike when V >= V_th, scale = V_th - V_reset" in docs["LIF"]
    assert "reset soft V = V_reset" in docs["LIF"]
    assert "dg/dt = -g / tau" in docs["Expon"] and "on_spike g += w" in docs["Expon"]


def test_importing_the_prelude_module_does_not_break_compilation():
    """``import snndsl.lower.prelude`` binds the submodule on the package; the lowering must not rely on a
    package attribute of the same name."""
    import snndsl.lower.prelude  # noqa: F401

    assert "class " in compile_source(SourceFile("seed.snn", (ROOT / "models" / "seed.snn").read_text()))[0]
