"""The emitted module's two namespaces (snndsl/lower/emit.py): user names through ``py_name``, generated names
that never end with ``_``. These tests keep the invariants, and OWNED in step with brainstate and the prelude."""

from __future__ import annotations

import ast
import keyword
from importlib import resources

import pytest

from snndsl.lower.emit import KINDS, OWNED, derived, py_name

# what a model may declare: no dunder names, not `_` (snndsl.resolve.models.RESERVED)
SAMPLE = [n for n in sorted(OWNED) if not n.startswith("__") and n != "_"] + [k for k in keyword.kwlist] + [
    "V", "tau", "hidden", "x", "lambda_", "lambda__", "_x", "_x_", "x_", "a__b", "a__b_", "_loop", "_spike",
    "spike", "held", "projected", "x__syn", "V__init", "V__dt", "x_to_h", "I__in", "a___b", "A", "_A", "Z9"]


def _generated_form(name: str) -> bool:
    """A fixed generated name (``_spike``) or a derived one (``hidden__syn``): never ends with ``_``."""
    if name.endswith("_"):
        return False
    return (name.startswith("_") and "__" not in name) or ("__" in name and not name.startswith("__"))


def test_py_name_is_one_to_one():
    assert len({py_name(n) for n in SAMPLE}) == len(set(SAMPLE))


@pytest.mark.parametrize("name", SAMPLE)
def test_a_user_name_is_plain_or_ends_with_an_underscore(name):
    out = py_name(name)
    assert out not in OWNED and not keyword.iskeyword(out)
    assert out == name or out == name + "_"
    assert out.endswith("_") or not _generated_form(out)
    assert not out.startswith("__")          # never mangled as a class-private name, nor what derives from it


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_derived_names_are_generated_and_one_to_one(kind):
    bases = [py_name(n) for n in sorted(set(SAMPLE))]
    made = [derived(b, kind) for b in bases]
    assert len(set(made)) == len(made) and all(_generated_form(m) for m in made)
    assert not set(made) & {py_name(n) for n in SAMPLE + made}
    others = {derived(b, k) for b in bases for k in KINDS - {kind}}
    assert not set(made) & others


def test_owned_covers_brainstate_module_api():
    import brainstate as bs
    public = {n for n in dir(bs.nn.Module) if not n.startswith("_")}
    assert public <= OWNED, sorted(public - OWNED)


def test_prelude_names_are_generated_or_owned():
    text = resources.files("snndsl.lower").joinpath("prelude.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    imports = {a.asname or a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert imports <= OWNED
    assert all(_generated_form(d) or d in OWNED for d in defs), sorted(d for d in defs if not _generated_form(d))
