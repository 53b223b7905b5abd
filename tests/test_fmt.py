"""`snndsl fmt` and highlighting: the printer keeps the tree and the comments, is idempotent, and leaves the
canonical golden file byte-identical; the CLI's --check / in-place / error behaviour; the Pygments lexer (via its
entry point) and the TextMate grammar cover the corpus. No JAX compiles: everything here is front-end only."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from snndsl import SnnError
from snndsl.cli import main
from snndsl.syntax.format import format_source, format_text
from snndsl.syntax.fastparse import parse_fast
from snndsl.syntax.parser import parse_text, parse_with_comments
from snndsl.source import SourceFile

from .conftest import FIXTURES, ROOT

IDENTITY = FIXTURES / "fmt" / "identity.snn"


def _utf8(paths):
    out = []
    for p in paths:
        try:
            p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        out.append(p)
    return out


CORPUS = _utf8(sorted((ROOT / "models").glob("*.snn")) + sorted((ROOT / "snndsl" / "stdlib").glob("*.snn"))
               + sorted((FIXTURES / "valid").glob("*.snn")) + sorted((FIXTURES / "lib").glob("*.snn"))
               + [IDENTITY])


def _id(p):
    return str(p.relative_to(ROOT))


def fmt(text, path="t.snn"):
    """The printer alone (format_text also re-parses its result to verify it; these tests check that directly)."""
    return format_source(SourceFile(str(path), text), verify=False)


def comments_of(text):
    return [c.text for c in parse_with_comments(SourceFile("t.snn", text))[1]]


# ---------------------------------------------------------------- the corpus


@pytest.mark.parametrize("path", CORPUS, ids=_id)
def test_round_trip_idempotent_and_comments_kept(path):
    text = path.read_text(encoding="utf-8")
    out = fmt(text, path)
    assert parse_text(out) == parse_text(text)                  # spans take no part in equality
    assert fmt(out) == out
    # Every comment of the input is in the output, in order (and nothing else was turned into a comment).
    want = comments_of(text)
    assert comments_of(out) == want
    pos = 0
    for c in want:
        pos = out.index(c, pos) + len(c)


def test_identity_fixture_is_byte_identical():
    text = IDENTITY.read_text(encoding="utf-8")
    assert format_text(text, str(IDENTITY)) == text


def test_syntactically_valid_invalid_fixtures_round_trip_too():
    done = 0
    for path in _utf8(sorted((FIXTURES / "invalid").glob("*.snn"))):
        text = path.read_text(encoding="utf-8")
        try:
            module = parse_text(text)
        except SnnError:
            continue
        out = fmt(text, path)
        assert parse_text(out) == module, path.name
        assert fmt(out) == out, path.name
        done += 1
    assert done > 10


def _repository_models():
    """Every .snn file of the repository outside tests/: tracked ones (``git ls-files``), or, outside a git
    checkout (an unpacked sdist), every one under the root except in hidden folders, virtualenvs and runs."""
    try:
        run = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--", "*.snn"], capture_output=True,
                             timeout=60)
    except (OSError, subprocess.SubprocessError):
        run = None
    if run is not None and run.returncode == 0:
        paths = [ROOT / name for name in run.stdout.decode("utf-8").split("\0") if name]
    else:
        paths = [p for p in ROOT.rglob("*.snn")
                 if not any(part.startswith(".") or part in ("runs", "build", "dist")
                            for part in p.relative_to(ROOT).parts[:-1])]
    return sorted(p for p in paths if p.relative_to(ROOT).parts[0] != "tests" and p.is_file())


def test_repository_models_are_in_canonical_form():
    """CI's `snndsl fmt --check`: the shipped models, the standard library and the benchmarks stay formatted."""
    paths = _repository_models()
    assert any(p.parent.name == "stdlib" for p in paths) and any(p.parent.name == "models" for p in paths)
    bad = []
    for path in paths:
        text = path.read_bytes().decode("utf-8")
        try:
            canonical = format_text(text, str(path)) == text
        except SnnError:
            canonical = False
        if not canonical:
            bad.append(_id(path))
    assert not bad, "not in canonical form; run `snndsl fmt " + " ".join(bad) + "`"


# ---------------------------------------------------------------- style rules


def fmt_expr(text):
    out = format_text(f"network N {{\n    dt = {text}\n}}\n")
    return out.splitlines()[1].strip().removeprefix("dt = ")


@pytest.mark.parametrize("src, want", [
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("(a * b) / c", "a * b / c"),
    ("a / (b * c)", "a / (b * c)"),
    ("a * (b / c)", "a * (b / c)"),
    ("(a + b) * c", "(a + b) * c"),
    ("a ^ b ^ c", "a^b^c"),
    ("(a ^ b) ^ c", "(a^b)^c"),
    ("a ^ (b ^ c)", "a^b^c"),
    ("x ^ -2", "x^-2"),
    ("-x ^ 2", "-x^2"),
    ("(-x) ^ 2", "(-x)^2"),
    ("-(x ^ 2)", "-x^2"),
    ("-(a * b)", "-(a * b)"),
    ("a * -b", "a * -b"),
    ("- - x", "- -x"),
    ("a - -b", "a - -b"),
    ("+x", "x"),
    ("2 ms ^ 2", "(2 ms)^2"),              # not `2 ms^2`, which is one quantity with unit ms^2
    ("2 ms^2", "2 ms^2"),
    ("(2 ms) / tau", "2 ms / tau"),          # a quantity is an atom
    ("5Hz", "5 Hz"),
    ("0.5   nS/mm^2", "0.5 nS/mm^2"),
    ("3e-3", "3e-3"),
    (".5E+2 mV", ".5E+2 mV"),
    ("2.", "2."),
    ("f( x,y , k=2 ms )", "f(x, y, k = 2 ms)"),
    ("f()", "f()"),
    ("out . V", "out.V"),
    ('npz(path = "a b.npz")', 'npz(path = "a b.npz")'),
    ("((((x))))", "x"),
])
def test_expressions_use_the_fewest_parentheses(src, want):
    assert fmt_expr(src) == want
    assert parse_text(format_text(f"network N {{ dt = {src} }}")) == parse_text(f"network N {{ dt = {src} }}")


def test_statements_are_joined_spaced_and_indented():
    src = ('import LIF ,Expon from "std"\n'
           'neuron N{param a:1/ms=0.02/ms param b : mS * cm^-2\n'
           'state V:(mV)=0 mV input I:mV/(ms*cm)\n'
           'dV/dt=(V-\n  1 mV)/a spike when V>=1 mV,scale=2 mV reset hard V=0 mV on_spike V-=1 mV}\n'
           'network Net{dt=1 ms input x:spikes[3]  input c:current[2]mA=constant(value=1 mA)\n'
           'pop h=N(2,trainable a=1/ms) connect  p : x->h:dense(w=1),delay=1 ms output h,x}\n'
           'train Net{epochs=2 batch=1}')
    assert format_text(src) == (
        'import LIF, Expon from "std"\n'
        "\n"
        "neuron N {\n"
        "    param a: 1/ms = 0.02 / ms\n"
        "    param b: mS*cm^-2\n"
        "    state V: mV = 0 mV\n"
        "    input I: mV/(ms*cm)\n"
        "    dV/dt = (V - 1 mV) / a\n"
        "    spike when V >= 1 mV, scale = 2 mV\n"
        "    reset hard V = 0 mV\n"
        "    on_spike V -= 1 mV\n"
        "}\n"
        "\n"
        "network Net {\n"
        "    dt = 1 ms\n"
        "    input x: spikes[3]\n"
        "    input c: current[2] mA = constant(value = 1 mA)\n"
        "    pop h = N(2, trainable a = 1 / ms)\n"
        "    connect p: x -> h: dense(w = 1), delay = 1 ms\n"
        "    output h, x\n"
        "}\n"
        "\n"
        "train Net {\n"
        "    epochs = 2\n"
        "    batch = 1\n"
        "}\n")


def test_comments_blank_lines_and_item_separation():
    src = ("# header\n"
           "\n\n\n"
           'import "std"  # trailing\n'
           "# about b\n"
           'import "b.snn"\n'
           "neuron N {   # on the header\n"
           "\n"
           "    param a = 1        # aligned\n"
           "\n\n"
           "    # own line\n"
           "    param b = LIF(1,  # inside a multi-line statement\n"
           "          # also inside\n"
           "          2)  # after it\n"
           "  # before the brace\n"
           "\n"
           "} # after the brace\n"
           "# the end\n")
    assert format_text(src) == (
        "# header\n"
        "\n"
        'import "std"  # trailing\n'
        "# about b\n"
        'import "b.snn"\n'
        "\n"
        "neuron N {  # on the header\n"
        "    param a = 1  # aligned\n"
        "\n"
        "    # own line\n"
        "    # inside a multi-line statement\n"
        "    # also inside\n"
        "    param b = LIF(1, 2)  # after it\n"
        "    # before the brace\n"
        "}  # after the brace\n"
        "\n"
        "# the end\n")


def test_comment_only_and_empty_files():
    assert format_text("") == ""
    assert format_text("\n\n  \n") == ""
    assert format_text("  # just a note   \n\n\n# and another\n") == "# just a note\n\n# and another\n"
    assert format_text("neuron N {}") == "neuron N {\n}\n"


def test_windows_line_ends_become_unix():
    assert format_text("neuron N {\r\n    param a = 1  # c\r\n}\r\n") == "neuron N {\n    param a = 1  # c\n}\n"


def test_syntax_error_raises_the_usual_diagnostic():
    with pytest.raises(SnnError) as info:
        format_text("neuron N { param a == 1 }", "bad.snn")
    assert info.value.diagnostics[0].code == "SNN101"


# ---------------------------------------------------------------- the command


MESSY = "neuron N {param a = 1   # keep me\n  state V: mV = 0 mV}\n"
CLEAN = "neuron N {\n    param a = 1  # keep me\n    state V: mV = 0 mV\n}\n"


@pytest.fixture
def files(tmp_path):
    def make(**texts):
        paths = {}
        for name, text in texts.items():
            p = tmp_path / f"{name}.snn"
            p.write_bytes(text.encode("utf-8"))
            paths[name] = p
        return paths
    return make


def test_check_lists_files_that_would_change_and_exits_1(files, capsys):
    p = files(messy=MESSY, clean=CLEAN)
    assert main(["fmt", "--check", str(p["messy"]), str(p["clean"])]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == [str(p["messy"])]
    assert p["messy"].read_text() == MESSY                       # --check changes nothing
    assert main(["fmt", "--check", str(p["clean"])]) == 0
    assert capsys.readouterr().out == ""


def test_rewrites_in_place_only_when_the_text_changes(files, capsys):
    p = files(messy=MESSY, clean=CLEAN)
    os.utime(p["clean"], ns=(1_000_000_000, 1_000_000_000))
    p["messy"].chmod(0o640)
    assert main(["fmt", str(p["messy"]), str(p["clean"])]) == 0
    assert p["messy"].read_text() == CLEAN
    assert stat.S_IMODE(p["messy"].stat().st_mode) == 0o640      # permissions kept by the atomic rewrite
    assert p["clean"].stat().st_mtime_ns == 1_000_000_000        # not rewritten
    err = capsys.readouterr().err
    assert f"reformatted {p['messy']}" in err and str(p["clean"]) not in err
    assert not [f for f in p["messy"].parent.iterdir() if f.name.startswith(".")]   # no temporary left over
    assert main(["fmt", "--check", str(p["messy"])]) == 0


def test_syntax_error_reports_and_leaves_the_file_untouched(files, capsys):
    bad = "neuron N {\n    param a == 1\n}\n"
    p = files(bad=bad, messy=MESSY)
    before = p["bad"].stat().st_mtime_ns
    assert main(["fmt", str(p["bad"]), str(p["messy"])]) == 1
    err = capsys.readouterr().err
    assert f"{p['bad']}:2:14: error[SNN101]" in err
    assert p["bad"].read_text() == bad and p["bad"].stat().st_mtime_ns == before
    assert p["messy"].read_text() == CLEAN                       # the other files are still formatted
    assert main(["fmt", "--check", str(p["bad"])]) == 1


def test_unreadable_file_exits_2(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "missing.snn")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_symlink_is_followed_not_replaced(files, tmp_path):
    p = files(messy=MESSY)
    link = tmp_path / "link.snn"
    link.symlink_to(p["messy"])
    assert main(["fmt", str(link)]) == 0
    assert link.is_symlink() and p["messy"].read_text() == CLEAN


# ---------------------------------------------------------------- highlighting


def test_pygments_lexer_is_registered_and_covers_the_corpus():
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
    from pygments.token import Error, Keyword, Name, Number

    from snndsl.syntax.highlight import SnnLexer

    assert isinstance(get_lexer_for_filename("model.snn"), SnnLexer)
    lexer = get_lexer_by_name("snn", stripnl=False, ensurenl=False)
    assert isinstance(lexer, SnnLexer)
    for path in CORPUS:
        text = path.read_text(encoding="utf-8")
        tokens = list(lexer.get_tokens(text))
        assert "".join(v for _, v in tokens) == text
        errors = [v for t, v in tokens if t in Error]
        assert not errors, f"{path.name}: {errors[:5]}"

    toks = [(t, v) for t, v in lexer.get_tokens(
        "neuron N {\n    param tau: nS/mm^2 = 0.5 nS/mm^2\n    dV/dt = -V / tau + exp(x) # c\n}\n") if v.strip()]
    assert (Keyword.Declaration, "neuron") in toks and (Name.Class, "N") in toks
    assert (Keyword.Type, "nS/mm^2") in toks and (Number, "0.5") in toks
    assert (Name.Variable.Magic, "dV/dt") in toks and (Name.Builtin, "exp") in toks


@pytest.mark.slow
def test_pygmentize_command_line():
    exe = shutil.which("pygmentize", path=os.path.dirname(sys.executable)) or shutil.which("pygmentize")
    if exe is None:
        pytest.skip("pygmentize not installed")
    run = subprocess.run([exe, "-l", "snn", "-f", "raw", str(IDENTITY)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Token.Keyword.Type\t'mV'" in run.stdout and "Token.Error" not in run.stdout


def test_textmate_grammar_is_valid_and_in_step_with_the_lexer():
    from snndsl.syntax.highlight import _BUILTINS

    grammar = json.loads((ROOT / "editors" / "snn.tmLanguage.json").read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.snn" and grammar["fileTypes"] == ["snn"]

    def regexes(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("match", "begin", "end"):
                    yield value
                else:
                    yield from regexes(value)
        elif isinstance(node, list):
            for value in node:
                yield from regexes(value)

    found = list(regexes(grammar))
    assert len(found) > 20
    for rx in found:
        re.compile(rx)                      # Oniguruma is a superset of what these use
    # Every `include` names a rule that exists.
    includes = re.findall(r'"include": "#([^"]+)"', json.dumps(grammar))
    assert set(includes) <= set(grammar["repository"])
    builtin = next(r for r in found if "(?=\\s*\\()" in r and "kaiming_normal" in r)
    assert set(re.search(r"\((.*)\)\\b", builtin).group(1).split("|")) == set(_BUILTINS), \
        "registry names changed: regenerate the builtin list in editors/snn.tmLanguage.json"


def _snn_files():
    """Every .snn file of the checkout that reads as UTF-8 (the models, the standard library, the fixtures)."""
    for path in sorted(ROOT.rglob("*.snn")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(ROOT).parts):
            try:
                yield path, path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                continue


def test_comment_scan_equals_larks_lexer_on_every_file():
    """The formatter's comments of a file the fast reader reads come from one scan of its text: the same
    (line, column, text, own line) as Lark's lexer gives, on every .snn file of the repository that parses."""
    from snndsl.syntax import parser as P
    from snndsl.syntax.larkparse import parse_with_comments_lark
    seen = 0
    for path, text in _snn_files():
        source = SourceFile(str(path), text)
        try:
            lark_module, lark_comments = parse_with_comments_lark(source)
        except SnnError:
            continue
        module, comments = P.parse_with_comments(source)
        assert module == lark_module and comments == lark_comments, path
        seen += bool(comments) and parse_fast(source, P.MAX_DEPTH) is not None   # the scan, not Lark, gave them
    assert seen >= 20


@pytest.mark.parametrize("text", [
    'import LIF from "a#b.snn"  # a comment with "quotes" and # inside\n',
    '# only a comment\n\n   # indented, "quoted"\n',
    'neuron M {\n    param a: mV = 1 mV # trailing\n}\n# end\n',
    'network N { dt = 1 ms  # c\r\n    input x: spikes[2]\n}   \n#x\n',
])
def test_comment_scan_handles_strings_and_positions(text):
    from snndsl.syntax import parser as P
    from snndsl.syntax.larkparse import parse_with_comments_lark
    source = SourceFile("t.snn", text)
    assert parse_fast(source, P.MAX_DEPTH) is not None
    assert P.parse_with_comments(source) == parse_with_comments_lark(source)
