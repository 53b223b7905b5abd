"""Every module of the snndsl package has a docstring, and so does every public function, method and class in
it; every check rule states what it checks; every helper the emitted modules carry is documented.

Read with :mod:`ast`, so nothing is imported (no JAX) and the whole package takes well under a second.
Private names (``_name``) are exempt, and so is everything inside a private class or a function (local
helpers); dunder methods count as private.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "snndsl"
MODULES = sorted(PACKAGE.rglob("*.py"))
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = (ast.If, ast.Try, ast.With)   # definitions inside these still belong to the module or class


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _definitions(node: ast.AST):
    """The functions and classes defined directly in ``node``'s body (looking into if/try/with blocks)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _DEFS):
            yield child
        elif isinstance(child, _BLOCKS):
            yield from _definitions(child)


def _undocumented(tree: ast.Module, public_only: bool = True) -> list[str]:
    """Qualified names of the definitions in ``tree`` without a docstring (public ones only by default)."""
    missing = []

    def visit(node: ast.AST, prefix: str) -> None:
        for d in _definitions(node):
            if public_only and d.name.startswith("_"):
                continue
            if not ast.get_docstring(d):
                missing.append(f"{prefix}{d.name}")
            if isinstance(d, ast.ClassDef):
                visit(d, f"{prefix}{d.name}.")

    visit(tree, "")
    return missing


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_whole_package_is_covered():
    """Every subpackage is walked (a guard against a glob that silently finds nothing)."""
    found = {p.relative_to(PACKAGE).parts[0] for p in MODULES if len(p.relative_to(PACKAGE).parts) > 1}
    assert {"checks", "cli", "ir", "lower", "nir", "registry", "resolve", "runtime", "syntax"} <= found


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_module_has_a_docstring(path):
    assert ast.get_docstring(_tree(path)), f"{_name(path)} has no module docstring"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_public_functions_methods_and_classes_have_docstrings(path):
    assert _undocumented(_tree(path)) == []


def test_emitted_helpers_are_documented():
    """prelude.py's definitions are private to snndsl but copied verbatim into every emitted module that uses
    them, where users read them: each one, and each method of its classes, has a docstring."""
    assert _undocumented(_tree(PACKAGE / "lower" / "prelude.py"), public_only=False) == []


def _rules() -> list[tuple[str, ast.FunctionDef | None]]:
    """``(module.function, its definition)`` for every entry of ``snndsl.checks.RULES``, found by reading
    ``snndsl/checks/__init__.py``: the ``RULES`` tuple of ``alias.function`` and the imports naming each
    alias's module."""
    init = _tree(PACKAGE / "checks" / "__init__.py")
    aliases = {a.asname or a.name: a.name for n in init.body if isinstance(n, ast.ImportFrom)
               and n.module == "snndsl.checks" for a in n.names}
    rules = next(n.value for n in init.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                 and any(isinstance(t, ast.Name) and t.id == "RULES"
                         for t in (n.targets if isinstance(n, ast.Assign) else [n.target])))
    out = []
    for element in rules.elts:
        assert isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name), ast.unparse(element)
        module = aliases[element.value.id]
        defs = {d.name: d for d in _definitions(_tree(PACKAGE / "checks" / f"{module}.py"))}
        out.append((f"{module}.{element.attr}", defs.get(element.attr)))
    return out


RULES = _rules()


def test_rules_are_found():
    assert len(RULES) >= 10 and all(d is not None for _, d in RULES), [n for n, d in RULES if d is None]


@pytest.mark.parametrize("name, definition", RULES, ids=[n for n, _ in RULES])
def test_check_rules_have_docstrings(name, definition):
    doc = ast.get_docstring(definition) if definition is not None else None
    assert doc and len(doc.split()) >= 8, f"{name} does not say what it checks"
