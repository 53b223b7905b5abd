"""Every public function (and method) of the documented modules states its contract in a docstring, and so
does every check rule. Read with :mod:`ast`, so nothing is imported (no JAX)."""

from __future__ import annotations

import ast

import pytest

from snndsl.checks import RULES

from .conftest import ROOT

PACKAGE = ROOT / "snndsl"
DOCUMENTED = sorted(
    [PACKAGE / "source.py", PACKAGE / "diagnostics.py", PACKAGE / "fileio.py"]
    + [p for sub in ("syntax", "resolve", "checks", "runtime") for p in (PACKAGE / sub).rglob("*.py")]
)


def _undocumented(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node, prefix=""):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not child.name.startswith("_") and not ast.get_docstring(child):
                    yield f"{prefix}{child.name}"
            elif isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                yield from visit(child, f"{child.name}.")

    return list(visit(tree))


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_public_functions_have_docstrings(path):
    assert _undocumented(path) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.__module__}.{r.__name__}")
def test_check_rules_have_docstrings(rule):
    assert rule.__doc__ and len(rule.__doc__.split()) >= 8
