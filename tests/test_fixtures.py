"""Paired fixtures: every invalid model reports exactly the errors its header names; every valid one checks.

An invalid fixture starts with one or more lines ``# expect: SNNxxx at LINE:COL``; the test compares the set
of (code, line, column) of the reported errors with them exactly, so a fixture also guards against cascades.
"""

from __future__ import annotations

import re

import pytest

from snndsl import SnnError, check_file

from .conftest import FIXTURES, ROOT

EXPECT = re.compile(r"#\s*expect:\s*(SNN\d{3})\s+at\s+(\d+):(\d+)")
INVALID = sorted((FIXTURES / "invalid").glob("*.snn"))
VALID = sorted((FIXTURES / "valid").glob("*.snn"))
MODELS = sorted((ROOT / "models").glob("*.snn"))


def expected(path):
    return {(c, int(ln), int(col)) for c, ln, col in EXPECT.findall(path.read_text())}


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_fixture_reports_exactly_its_errors(path):
    want = expected(path)
    assert want, f"{path.name} has no '# expect:' line"
    with pytest.raises(SnnError) as info:
        check_file(path)
    got = {(d.code, d.line, d.column) for d in info.value.errors}
    assert got == want


@pytest.mark.parametrize("path", VALID + MODELS, ids=lambda p: p.stem)
def test_valid_model_checks_clean(path):
    checked = check_file(path)
    assert checked.program.networks or checked.program.models


def test_there_are_enough_fixtures():
    assert len(INVALID) >= 30
    codes = {c for p in INVALID for c, _, _ in expected(p)}
    assert len(codes) >= 25
