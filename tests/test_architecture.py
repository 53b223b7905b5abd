"""The package's shape: phases import only phases below them, no import cycles, small modules, every module
listed in docs/architecture.md, and the CLI starts without JAX."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "snndsl"

#: The phases, lowest first (docs/architecture.md, "Layers"). A module may import its own phase and the
#: phases before it, never a later one.
LAYERS = ("source", "fileio", "units", "diagnostics", "registry", "syntax", "ir", "resolve", "checks", "lower", "compiler",
          "runtime", "nir", "lsp", "cli", "__main__")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every snndsl module ``name`` imports, at module level or inside functions (resolved to modules)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("snndsl"):
                found.add(t)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _phase(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_phase_is_known():
    assert {_phase(m) for m in MODULES} - {None} <= set(LAYERS)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _phase(m)))
def test_a_phase_imports_only_phases_below_it(module):
    mine = LAYERS.index(_phase(module))
    above = [m for m in GRAPH[module] if _phase(m) and LAYERS.index(_phase(m)) > mine]
    assert not above, f"{module} ({_phase(module)}) imports later phases: {above}"


def test_no_import_cycles():
    """Module-level and lazy imports together form no cycle (Tarjan's strongly connected components)."""
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v] - {"snndsl"}:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_modules_are_small():
    big = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 500}
    assert not big, f"modules over 500 lines: {big}"


def test_architecture_doc_lists_every_module():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(ROOT)) for p in MODULES.values() if str(p.relative_to(ROOT)) not in doc]
    assert not missing, f"docs/architecture.md does not list: {missing}"


@pytest.mark.parametrize("code", ["import snndsl.cli", "import snndsl.syntax.format, snndsl.syntax.highlight",
                                  "from snndsl.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"])
def test_light_entry_points_do_not_import_jax(code):
    probe = code + ("\nimport sys\nprint(sorted(m for m in ('jax', 'brainunit', 'brainstate', 'matplotlib', 'pygls', "
                    "'lsprotocol') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_front_end_does_not_import_jax_or_brainunit():
    """``check_file`` (what ``snndsl check`` runs) computes with snndsl.units, and lowering only writes text: no
    JAX, no brainunit, so ``check`` and ``compile`` start in a fraction of a second."""
    files = ["seed.snn", "coba.snn", "hh.snn", "stdp.snn", "shd.snn"]
    probe = ("import sys\nfrom snndsl.compiler import check_file, compile_source\n"
             "from snndsl.source import SourceFile\n"
             + "".join(f"check_file({str(ROOT / 'models' / f)!r})\n" for f in files)
             + f"compile_source(SourceFile.read({str(ROOT / 'models' / 'seed.snn')!r}))\n"
             + "print(sorted(m for m in ('jax', 'brainunit', 'saiunit', 'brainstate', 'matplotlib')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
