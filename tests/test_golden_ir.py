"""Golden IR dumps of every models/*.snn: the resolved model must not change unnoticed.

Regenerate deliberately with ``pytest tests/test_golden_ir.py --update-golden`` and review the diff.
"""

from __future__ import annotations

import pytest

from snndsl import check_file
from snndsl.ir.text import dump

from .conftest import ROOT

MODELS = sorted((ROOT / "models").glob("*.snn"))
GOLDEN = ROOT / "tests" / "golden" / "ir"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_ir_matches_golden(path, request):
    text = dump(check_file(path).program) + "\n"
    golden = GOLDEN / f"{path.stem}.ir.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(text)
    assert golden.exists(), f"no golden file for {path.name}: run pytest --update-golden"
    assert text == golden.read_text()


def test_every_golden_file_has_a_model():
    stems = {p.stem for p in MODELS}
    assert {g.name.removesuffix(".ir.txt") for g in GOLDEN.glob("*.ir.txt")} <= stems
