"""The emitted module: golden files, standalone execution without snndsl, atomic `compile -o`, and no trace
of code injection from a model file."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap

import pytest

import snndsl
from snndsl import SnnError
from snndsl.cli import main
from snndsl.compiler import compile_source
from snndsl.source import SourceFile

from .conftest import ROOT

MODELS = sorted((ROOT / "models").glob("*.snn"))
GOLDEN = ROOT / "tests" / "golden" / "emitted"
ALLOWED_IMPORTS = {"brainstate", "braintools", "brainunit", "jax", "jax.numpy"}


def emitted(path) -> str:
    return compile_source(SourceFile.read(path))[0]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_emitted_module_matches_golden(path, request):
    text = emitted(path).replace(str(ROOT) + os.sep, "")
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
