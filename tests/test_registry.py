"""The registry: its library targets exist and agree with the libraries, every declared hook is
implemented by the phase that owns it, and no phase branches on an entry's name."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import snndsl.lower  # noqa: F401  (implements the lowering hooks)
import snndsl.runtime.data  # noqa: F401  (implements the data hooks)
from snndsl.registry import FUNCTIONS, INITIALISERS, REGISTRIES, SURROGATES, HookMissing

ALL = [(key, e) for key, r in REGISTRIES.items() for e in r]


@pytest.mark.parametrize("entry", list(SURROGATES), ids=lambda e: e.name)
def test_surrogate_parameters_and_defaults_match_braintools(entry):
    cls = entry.target.resolve()
    sig = inspect.signature(cls.__init__)
    params = {n: p.default for n, p in sig.parameters.items() if n != "self"}
    assert {p.name: p.default for p in entry.params} == params


@pytest.mark.parametrize("entry", list(INITIALISERS), ids=lambda e: e.name)
def test_initialiser_parameters_exist_in_braintools(entry):
    names = set(inspect.signature(entry.target.resolve().__init__).parameters)
    assert {p.name for p in entry.params} <= names


@pytest.mark.parametrize("entry", [e for _, e in ALL if e.target is not None], ids=lambda e: str(e.target))
def test_library_targets_exist(entry):
    assert callable(entry.target.resolve())


@pytest.mark.parametrize("key,entry", ALL, ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_declared_hook_is_implemented_and_nothing_else(key, entry):
    assert entry.implemented() == tuple(sorted(entry.needs))
    for hook in entry.needs:
        assert callable(entry.hook(hook))
    with pytest.raises(HookMissing):
        entry.hook("no_such_hook")


@pytest.mark.parametrize("key,entry", ALL, ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_entry_lowers_somehow(key, entry):
    """An entry lowers to a library target, through a hook, or is plain data read by a phase (traits)."""
    assert entry.target is not None or entry.needs or entry.traits is not None, entry.name


def test_math_functions_fold_like_their_targets():
    import math

    import jax.numpy as jnp

    for entry in FUNCTIONS:
        fn = entry.traits
        lo, _ = fn.arity
        args = [0.3, 0.1, 0.9][:lo]
        folded = float(fn.fold(*args))
        emitted = float(entry.target.resolve()(*[jnp.asarray(a) for a in args], *fn.extra))
        assert math.isclose(folded, emitted, rel_tol=1e-6, abs_tol=1e-7), entry.name


def test_every_braintools_surrogate_is_registered():
    import braintools

    classes = {c for n, c in vars(braintools.surrogate).items()
               if inspect.isclass(c) and issubclass(c, braintools.surrogate.Surrogate)
               and c is not braintools.surrogate.Surrogate}
    assert {e.target.resolve() for e in SURROGATES} == classes


def test_names_are_snake_case_and_unique():
    for registry in REGISTRIES.values():
        names = registry.names()
        assert len(names) == len(set(names))
        assert all(n == n.lower() for n in names)


def test_no_phase_branches_on_entry_names():
    """Lowering, checks and the run time dispatch through the registry, never on a literal entry name."""
    names = {e.name for _, e in ALL}
    pattern = re.compile(r"""\.(?:name|method|kind)\s*(?:==|!=|\bin|not in)\s*\(?\s*["'](%s)["']"""
                         % "|".join(sorted(names)))
    root = Path(snndsl.lower.__file__).parents[1]
    offenders = []
    for folder in ("lower", "checks", "runtime", "ir"):
        for path in (root / folder).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_heaviside_is_a_unit_free_step_and_not_linear():
    """``heaviside(x)``: H(x) = 1 for x >= 0, else 0, for x of any unit (folded and emitted alike); a step of an
    integrated state is not linear, so ``method exact`` refuses it (SNN309)."""
    import brainunit as u
    import jax.numpy as jnp

    import snndsl

    entry = FUNCTIONS["heaviside"]
    target = entry.target.resolve()
    for x in (-2.0, -1e-30, 0.0, 3.0):
        assert entry.traits.fold(x) == (1.0 if x >= 0 else 0.0)
        assert float(target(jnp.asarray(x) * u.mV, *entry.traits.extra)) == entry.traits.fold(x)
    text = """synapse Step {
    param T_dur: ms = 1 ms
    state g: 1 = 0
    state t_arr: ms = 0 ms
    dg/dt = (heaviside(g - 0.5) - g) / T_dur
    on_spike t_arr = t
    output g
    method exact
}
"""
    with pytest.raises(snndsl.SnnError) as err:
        snndsl.check_text(text)
    assert "SNN309" in {d.code for d in err.value.diagnostics}
