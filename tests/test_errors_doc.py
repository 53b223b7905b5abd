"""docs/errors.md documents every code, and its rendered diagnostics are what the checker prints today."""

from __future__ import annotations

import importlib.util
import re

from snndsl.diagnostics import CODES

from .conftest import ROOT


def test_every_code_has_a_section():
    text = (ROOT / "docs" / "errors.md").read_text()
    documented = set(re.findall(r"^## (SNN\d{3})", text, re.M))
    assert documented == set(CODES)


def test_rendered_examples_are_current():
    spec = importlib.util.spec_from_file_location("errors_doc", ROOT / "tools" / "errors_doc.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.run(update=False) == 0, "run: python tools/errors_doc.py --update"
