"""The fast reader (snndsl/syntax/fastparse.py) against Lark, the reference: same trees, spans included.

Wherever the fast reader returns a tree, Lark must return the same one (same nodes, values and every span's
offsets, lines and columns); where Lark refuses a file, the fast reader must not have accepted it. Checked on
every file of the repository and on mutated copies (the fuzzer's mutations make a good supply of near-misses).
"""

from __future__ import annotations

import os

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from snndsl import SnnError
from snndsl.source import SourceFile
from snndsl.syntax import ast as A
from snndsl.syntax.fastexpr import PATTERNS
from snndsl.syntax.fastparse import parse_fast
from snndsl.syntax.grammar import parser
from snndsl.syntax.parser import MAX_DEPTH, parse_lark

from .conftest import FIXTURES, ROOT
from .test_fuzz import mutated

FILES = sorted(ROOT.glob("models/*.snn")) + sorted((ROOT / "snndsl" / "stdlib").glob("*.snn")) + sorted(
    p for sub in ("valid", "invalid", "hostile", "lib", "fmt") for p in (FIXTURES / sub).glob("*.snn"))
EXAMPLES = int(os.environ.get("SNNDSL_FUZZ_EXAMPLES", "150"))


def difference(a, b, path="module") -> str | None:
    """Where two syntax trees differ, spans included (``None`` when they are the same)."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} vs {len(b)} items"
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := difference(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, A.Node):
        sa, sb = ((s.start, s.end, s.line, s.column, s.end_line, s.end_column) for s in (a.span, b.span))
        if sa != sb:
            return f"{path} ({type(a).__name__}): span {sa} vs {sb}"
        return next((d for f in attrs.fields(type(a)) if f.name != "span"
                     and (d := difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}"))), None)
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def agree(text: str, name: str = "x.snn") -> bool:
    """Assert the readers agree on ``text``; whether the fast one read it."""
    source = SourceFile(name, text)
    fast = parse_fast(source, MAX_DEPTH)
    try:
        ref = parse_lark(source)
    except SnnError:
        assert fast is None, f"the fast reader accepted what Lark refuses: {text[:200]!r}"
        return False
    if fast is not None:
        assert difference(fast, ref) is None, difference(fast, ref)
    return fast is not None


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fast_reader_agrees_with_lark(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    read = agree(text, str(path))
    if path.parent.name in ("valid", "models", "stdlib") or text.startswith("# expect: ok"):
        assert read or path.stem.startswith("depth_parentheses"), "the fast reader should read every valid file"


def test_the_patterns_are_the_grammars():
    lark_terminals = {t.name: t.pattern.to_regexp().replace("\t", "\\t") for t in parser().terminals}
    for name, pattern in PATTERNS.items():
        assert lark_terminals[name] == pattern, name


@pytest.mark.parametrize("text", [
    "neuronX { }",                                  # Lark reads a keyword glued to a name as the two
    "neuron N { paramx: ms = 1 ms }",
    "neuron N { state V: mV = 0 mV\n reset hardV = 0 mV }",
    "network N { dt = 1 ms input x: spikes[3] pop = LIF(2) }",
    "network N { input x: spikes[3] pop\n pop h = L(2) }",
    "neuron N { param a: 1 dV/dt = 1 }",
    "train T { lr = 3.\n x = 4 }",
    "network N { dt = a.5 }",
    "neuron N { let x = dV/dt }",
    "neuron N { param x: mV^ -1 }",
    "network N { connect a - > b: dense() }",
    "neuron N { param x = f(trainable(3)) }",
    "neuron N { param x = f(trainable = 3) }",
    "neuron N { param x = 1e999 }",
    "neuron N { param x: 2 = 1 }",
    "neuron N { param x = 2 ** 3 }",
    "neuron N { spike when V == 1 }",
    "import A, from from \"x.snn\"",
    "neuron N { param x = " + "(" * 300 + "1" + ")" * 300 + " }",
    "neuron N { param x = " + " + ".join(["a"] * 300) + " }",
])
def test_near_misses(text):
    agree(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(mutated())
def test_fast_reader_agrees_on_mutated_models(text):
    agree(text)
