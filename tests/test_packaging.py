"""The built wheel works on its own: grammar and standard library inside the package, CLI runnable.

Builds the wheel from this checkout, installs it (without dependencies) into a fresh venv in tmp_path, and
runs it from outside the repository. The venv borrows the dependencies of the running environment through a
.pth file, so no network access is needed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

TINY = """\
import LIF from "std"
network Tiny {
    dt = 1 ms
    input x: spikes[3]
    pop h = LIF(2, tau = 10 ms)
    connect x -> h: dense(w = kaiming_normal(mA))
    output h
}
"""


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    return proc


def _clean_env() -> dict[str, str]:
    """The environment minus anything that would point the child at this checkout."""
    return {k: v for k, v in os.environ.items()
            if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV"}}


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repo(tmp_path: Path) -> None:
    # 1. Build the wheel. Without build isolation when hatchling is here already (no network, faster).
    dist = tmp_path / "dist"
    build_cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", dist]
    if importlib.util.find_spec("hatchling") is not None:
        build_cmd.append("--no-isolation")
    _run([*build_cmd, REPO], cwd=tmp_path, env=_clean_env())
    wheels = list(dist.glob("snndsl-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "snndsl/grammars/snn.lark" in names
    assert "snndsl/__init__.py" in names
    for snn in sorted((REPO / "snndsl" / "stdlib").glob("*.snn")):
        assert f"snndsl/stdlib/{snn.name}" in names, f"{snn.name} missing from the wheel"

    # 2. A fresh venv with the same interpreter; the wheel installed without dependencies.
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path)
    python = _venv_python(venv)
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
          "--disable-pip-version-check", wheel], cwd=tmp_path, env=_clean_env())

    # 3. Dependencies come from the running environment's site-packages, appended after the venv's own.
    #    (.pth lines are not processed recursively, so the editable install's .pth there is not followed.)
    venv_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          cwd=tmp_path).stdout.strip())
    ours = dict.fromkeys(sysconfig.get_path(k) for k in ("purelib", "platlib"))
    (venv_site / "_snndsl_test_deps.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")

    # 4. From outside the repository: the installed package, not the checkout, with its grammar inside.
    work = tmp_path / "work"
    work.mkdir()
    env = _clean_env()
    where = _run([python, "-c",
                  "import snndsl, importlib.resources as r\n"
                  "assert r.files('snndsl').joinpath('grammars/snn.lark').is_file()\n"
                  "print(snndsl.__file__)"], cwd=work, env=env).stdout.strip()
    installed = Path(where).resolve()
    assert installed.is_relative_to(venv.resolve()), installed
    assert not installed.is_relative_to(REPO), installed

    # 5. The CLI checks a model that imports the packaged standard library.
    model = work / "tiny.snn"
    model.write_text(TINY, encoding="utf-8")
    _run([python, "-m", "snndsl", "check", model], cwd=work, env=env)
    script = venv / ("Scripts/snndsl.exe" if os.name == "nt" else "bin/snndsl")
    _run([script, "check", model.name], cwd=work, env=env)
