"""Shared fixtures. Tests run on CPU; JAX compiles are slow, so compiled models are shared per session."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The command line keeps compiled programs (and Lark's grammar analysis) in the user's cache folder; tests that
# call it in-process must not write there (tests/test_e2e_perf.py turns it on explicitly, in a temporary folder).
os.environ.setdefault("SNNDSL_NO_COMPILE_CACHE", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files from the current output instead of comparing")
