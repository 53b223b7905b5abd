"""Property-based: no input makes the front end raise anything but SnnError, or hang.

Mutations of the real models (deletions, insertions, swaps of tokens and characters) reach deep into resolve
and checks; random text exercises the lexer and parser. The CI budget is small; raise it locally with
``SNNDSL_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snndsl import SnnError, check_text
from snndsl.syntax.format import format_text
from snndsl.lower import emit_module
from snndsl.syntax.parser import parse_text

from .conftest import FIXTURES, ROOT

EXAMPLES = int(os.environ.get("SNNDSL_FUZZ_EXAMPLES", "150"))
CORPUS = [p.read_text() for p in sorted((ROOT / "models").glob("*.snn"))
          + sorted((FIXTURES / "valid").glob("*.snn"))] or ["network N { dt = 1 ms }"]
TOKENS = ["{", "}", "(", ")", "=", ",", ":", "->", "^", "*", "/", "+", "-", ">=", "neuron", "synapse",
          "network", "train", "param", "state", "input", "pop", "readout", "connect", "output", "spike when",
          "reset soft", "on_spike", "dV/dt", "1 ms", "0 mV", "1e999", "nan", "__import__", "V", "tau", "mV",
          "ms", "w", "self", "t", "import \"std\"", "\n", "#", "\"", "1/ms", "x^2", "exp(", "trainable", "dense(w = 1 mA)"]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                derandomize=True)


def front_end(text: str) -> None:
    """check, then (when valid) lower to the module text; and fmt, which must round-trip or refuse."""
    try:
        checked = check_text(text, "fuzz.snn")
    except SnnError:
        pass
    else:
        code = emit_module(checked.program, "fuzz.snn")
        compile(code, "fuzz.py", "exec")
    try:
        format_text(text, "fuzz.snn")   # verifies parse(fmt(x)) == parse(x) itself
    except SnnError:
        pass


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(CORPUS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=3)))
        text = text[:i] + ("" if op == "delete" else piece) + (text[j:] if op != "insert" else text[i:])
    return text


@FUZZ
@given(mutated())
def test_mutated_models_give_only_snn_errors(text):
    front_end(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup_gives_only_snn_errors(text):
    front_end(text)


@FUZZ
@given(st.text(max_size=200))
def test_random_text_gives_only_snn_errors(text):
    front_end(text)


def test_deep_nesting_is_a_located_error():
    text = "neuron N { state V: mV = 0 mV\n dV/dt = " + "(V + " * 5000 + "V" + ")" * 5000 + " / 1 ms }"
    try:
        parse_text(text, "deep.snn")
    except SnnError as e:
        assert e.codes == ["SNN105"]
        assert e.diagnostics[0].line == 2
    else:
        raise AssertionError("expected SNN105")


def test_a_long_model_parses_in_bounded_time():
    import time

    body = "\n".join(f"    param p{i}: mV = {i} mV" for i in range(20000))
    text = "neuron Big {\n" + body + "\n    state V: mV = 0 mV\n    dV/dt = -V / (1 ms)\n}\n"
    start = time.perf_counter()
    parse_text(text, "big.snn")
    assert time.perf_counter() - start < 30
