"""The registry's plain-data tables agree with the libraries they name."""

from __future__ import annotations

import importlib
import inspect

import pytest

from snndsl.registry import INITIALISERS, REGISTRIES, SURROGATES

LIBRARY_PREFIXES = ("braintools.", "brainstate.")


def _target(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("entry", list(SURROGATES), ids=lambda e: e.name)
def test_surrogate_parameters_and_defaults_match_braintools(entry):
    cls = _target(entry.target)
    sig = inspect.signature(cls.__init__)
    params = {n: p.default for n, p in sig.parameters.items() if n != "self"}
    assert {p.name: p.default for p in entry.params} == params


@pytest.mark.parametrize("entry", list(INITIALISERS), ids=lambda e: e.name)
def test_initialiser_parameters_exist_in_braintools(entry):
    cls = _target(entry.target)
    names = set(inspect.signature(cls.__init__).parameters)
    assert {p.name for p in entry.params} <= names


@pytest.mark.parametrize("entry", [e for r in REGISTRIES.values() for e in r
                                   if e.target.startswith(LIBRARY_PREFIXES)], ids=lambda e: e.target)
def test_library_targets_exist(entry):
    assert _target(entry.target) is not None


def test_every_braintools_surrogate_is_registered():
    import braintools

    classes = {c for n, c in vars(braintools.surrogate).items()
               if inspect.isclass(c) and issubclass(c, braintools.surrogate.Surrogate)
               and c is not braintools.surrogate.Surrogate}
    assert {_target(e.target) for e in SURROGATES} == classes


def test_names_are_snake_case_and_unique():
    for registry in REGISTRIES.values():
        names = registry.names()
        assert len(names) == len(set(names))
        assert all(n == n.lower() for n in names)
