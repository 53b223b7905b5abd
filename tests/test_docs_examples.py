"""The examples in the documentation are models that check clean, and the reference lists every built-in name.

Every fenced block with the info string ``snn`` in docs/language.md (and README.md) is written to a file and
checked with :func:`snndsl.check_file`: it must have no errors and no warnings. Blocks fenced ``snn-fragment``
are excerpts and are skipped. All blocks of one document are written into one directory before any is checked,
so an example may import an earlier one: a line ``<!-- file: lib/cells.snn -->`` right before a fence names
that block's file (the others are ``example_N.snn``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snndsl import SnnError, check_file
from snndsl.registry import FUNCTIONS, REGISTRIES, SETTINGS

from .conftest import ROOT

DOCS = [ROOT / "docs" / "language.md", ROOT / "README.md"]
LANGUAGE = ROOT / "docs" / "language.md"
INFO_STRINGS = ("snn", "snn-fragment")

FENCE = re.compile(r"^```\s*([^\s`]*)\s*$")
FILE_MARK = re.compile(r"^<!--\s*file:\s*(\S+)\s*-->\s*$")


class Block:
    def __init__(self, doc: Path, line: int, info: str, text: str, name: str | None):
        self.doc, self.line, self.info, self.text, self.name = doc, line, info, text, name

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    """Every fenced block of ``doc`` with its info string and 1-based line of the opening fence."""
    if not doc.exists():
        return []
    lines = doc.read_text(encoding="utf-8").splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, info = i, m.group(1)
        mark = FILE_MARK.match(lines[i - 1]) if i > 0 else None
        i += 1
        body = []
        while i < len(lines) and not re.match(r"^```\s*$", lines[i]):
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"{doc.name}:{start + 1}: fenced block is never closed")
        out.append(Block(doc, start + 1, info, "\n".join(body) + "\n", mark.group(1) if mark else None))
        i += 1
    return out


def examples(doc: Path) -> list[Block]:
    return [b for b in blocks(doc) if b.info == "snn"]


ALL = [b for doc in DOCS for b in examples(doc)]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, Path]:
    """Each example written to a file, all examples of one document in one directory."""
    paths: dict[str, Path] = {}
    for doc in DOCS:
        root = tmp_path_factory.mktemp(doc.stem)
        for n, block in enumerate(examples(doc), 1):
            path = root / (block.name or f"example_{n}.snn")
            path.parent.mkdir(parents=True, exist_ok=True)
            assert not path.exists(), f"{block.id}: two examples write {block.name}"
            path.write_text(block.text, encoding="utf-8")
            paths[block.id] = path
    return paths


@pytest.mark.parametrize("block", ALL, ids=lambda b: b.id)
def test_example_checks_clean(block, written):
    try:
        checked = check_file(written[block.id])
    except SnnError as err:
        pytest.fail(f"the example at {block.id} does not check:\n{err.render()}\n\n{block.text}")
    assert not checked.warnings, "\n".join(d.render() for d in checked.warnings)


def test_language_reference_has_examples():
    found = examples(LANGUAGE)
    assert len(found) >= 8
    assert sum("network" in b.text for b in found) >= 5


@pytest.mark.parametrize("doc", [d for d in DOCS if d.exists()], ids=lambda d: d.name)
def test_snn_blocks_are_tagged_snn_or_snn_fragment(doc):
    """A misspelt tag (``snn-fragement``) would silently drop an example from the tests."""
    for block in blocks(doc):
        if block.info.startswith("snn"):
            assert block.info in INFO_STRINGS, f"{block.id}: unknown info string `{block.info}`"


def _rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("| `")]


@pytest.mark.parametrize("key", sorted(REGISTRIES))
def test_reference_tables_list_every_registry_entry(key):
    """Section 8 of docs/language.md has a row for each entry, naming each of its parameters."""
    rows = _rows(LANGUAGE.read_text(encoding="utf-8"))
    for entry in REGISTRIES[key]:
        mine = [r for r in rows if r.startswith(f"| `{entry.name}` |")]
        assert mine, f"docs/language.md has no table row for {key} `{entry.name}`"
        assert any(all(f"`{p.name}`" in r for p in entry.params) for r in mine), \
            f"the row of {key} `{entry.name}` does not name every parameter: {[p.name for p in entry.params]}"
        says = [f"`{entry.target}`"] if entry.target is not None else []
        says += [f"hook `{hook}`" for hook in entry.needs]
        assert any(all(s in r.rsplit(" | ", 1)[1] for s in says) for r in mine), \
            f"the row of {key} `{entry.name}` does not say what it lowers to: {says}"


def test_reference_lists_every_function_and_setting():
    rows = _rows(LANGUAGE.read_text(encoding="utf-8"))
    for name in (*FUNCTIONS.names(), *SETTINGS):
        assert any(r.startswith(f"| `{name}` |") for r in rows), f"docs/language.md does not list `{name}`"
