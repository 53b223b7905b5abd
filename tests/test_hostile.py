"""The hostile corpus: no input gives a traceback or a hang, and every model `check` accepts compiles and runs.

Each file of tests/fixtures/hostile/ starts with ``# expect: ok`` (it checks clean, warnings allowed; then it
is compiled and simulated for a few steps, and a model with a train block takes one training step) or with
``# expect: SNNxxx at LINE:COL`` lines (exactly those errors, as the invalid fixtures). What cannot live in a
committed file (byte-order marks, line ends, named pipes, devices, sizes, file names) is built here.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import snndsl
from snndsl import SnnError, check_file
from snndsl.cli import main
from snndsl.source import MAX_SOURCE_BYTES

from .conftest import FIXTURES

HOSTILE = sorted((FIXTURES / "hostile").glob("*.snn"))
EXPECT = re.compile(r"#\s*expect:\s*(SNN\d{3})\s+at\s+(\d+):(\d+)")
MODEL = """neuron N {
    param tau: ms = 10 ms
    input I: mV
    state V: mV = 0 mV
    dV/dt = (-V + I) / tau
    spike when V >= 1 mV
    reset soft V = 0 mV
}

network Net {
    dt = 1 ms
    input x: spikes[3]
    pop h = N(2)
    connect x -> h: dense(w = 1 mV)
    output h
}
"""


def cli(argv, capsys) -> tuple[int, str]:
    """Run ``snndsl ARGV`` in this process: (exit code, stderr), asserting the one thing every case shares."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err and code != 3, err
    assert not any(not c.isprintable() for c in err.replace("\n", "").replace("\t", "")), "raw control characters"
    return code, err


def runs(model: snndsl.CompiledModel, steps: int = 2) -> None:
    """Simulate the first network a few steps; train one step when the model has a train block."""
    net = model.network()
    inputs = [np.zeros((steps, x.size), np.float32) for x in model.ir().inputs if x.source is None]
    outs, _ = model.simulate(net, inputs, steps=steps)
    assert np.all(np.isfinite(np.asarray(outs[0] if isinstance(outs, tuple) else outs)))
    if model.program.trains:
        train = model.program.trains[0]
        net = model.network(train.network)
        _, train_step, _ = model.module.make_trainer(net, 2)
        n = next(x.size for x in model.ir(train.network).inputs if x.source is None)
        loss, _, finite = train_step(np.zeros((3, 2, n), np.float32), np.zeros((2,), np.int32))
        assert bool(finite) and np.isfinite(float(loss))


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_hostile_file(path, capsys):
    text = path.read_text(encoding="utf-8")
    want = {(c, int(ln), int(col)) for c, ln, col in EXPECT.findall(text)}
    code, _ = cli(["check", path], capsys)
    if want:
        assert code == 1
        with pytest.raises(SnnError) as info:
            check_file(path)
        assert {(d.code, d.line, d.column) for d in info.value.errors} == want
    else:
        assert text.startswith("# expect: ok") and code == 0
        runs(snndsl.load(path))


def test_there_is_a_corpus():
    assert len(HOSTILE) >= 40
    assert sum(p.read_text(encoding="utf-8").startswith("# expect: ok") for p in HOSTILE) >= 20


def test_user_names_reach_the_records_as_written():
    model = snndsl.load(FIXTURES / "hostile" / "names_brainstate_attributes.snn")
    _, rec = model.simulate(model.network(), (np.ones((3, 3), np.float32),),
                            record=("update", "update.V", "init_state.nodes"))
    assert rec["update.V"].shape == (3, 2) and rec["init_state.nodes"].shape == (3, 2)


def test_run_records_mangled_names_from_the_command_line(tmp_path, capsys):
    path = FIXTURES / "hostile" / "names_keywords_and_trailing_underscores.snn"
    code, _ = cli(["run", path, "--steps", "3", "--record", "return.V", "sum", "--out", tmp_path / "o"], capsys)
    assert code == 0
    with np.load(tmp_path / "o" / "record.npz") as f:
        assert {"record.return.V", "record.sum", "spikes.sum", "output.sum"} <= set(f.files)


# ---------------------------------------------------------------- text: marks, line ends, escapes, widths


def test_byte_order_mark_is_not_a_character(tmp_path, capsys):
    p = tmp_path / "bom.snn"
    p.write_bytes("\ufeff".encode() + MODEL.encode())
    assert cli(["check", p], capsys)[0] == 0
    assert cli(["fmt", p], capsys)[0] == 0
    assert not p.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_line_ends_are_read_alike_by_check_and_fmt(tmp_path, capsys, newline):
    bad = MODEL.replace("dV/dt = (-V + I) / tau", "dV/dt = (-V + I) / tua")
    p = tmp_path / "m.snn"
    p.write_bytes(bad.replace("\n", newline).encode())
    code, err = cli(["check", p], capsys)
    assert code == 1 and f"{p}:5:24: error[SNN201]" in err
    p.write_bytes(MODEL.replace("\n", newline).encode())
    assert cli(["fmt", "--check", p], capsys)[0] == 1        # would become "\n"
    assert cli(["fmt", p], capsys)[0] == 0
    assert p.read_bytes() == MODEL.encode()


def test_escape_sequences_are_shown_escaped(tmp_path, capsys):
    path = FIXTURES / "hostile" / "text_terminal_escape_in_import_path.snn"
    _, err = cli(["check", path], capsys)
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_a_long_line_is_clipped_around_the_caret(capsys):
    _, err = cli(["check", FIXTURES / "hostile" / "text_100k_line_error_at_the_end.snn"], capsys)
    lines = err.splitlines()
    assert max(map(len, lines[1:])) < 200
    source, caret = lines[1], lines[2]
    assert source[caret.index("^")] == "3"


def test_lsp_columns_count_utf16_code_units(tmp_path, capsys):
    p = tmp_path / "m.snn"
    p.write_text('import "\U0001F600\U0001F600.snn"\n' + MODEL, encoding="utf-8")
    code = main(["check", "--format", "json", str(p)])
    out = json.loads(capsys.readouterr().out)
    d = out["diagnostics"][0]
    assert code == 1 and d["code"] == "SNN001"
    assert d["end_column"] == 16 and d["range"]["end"]["character"] == 17   # 15 code points, 17 code units


def test_a_file_name_with_a_newline_stays_in_its_comments(tmp_path, capsys):
    p = tmp_path / "two\nlines.snn"
    p.write_text(MODEL, encoding="utf-8")
    out = tmp_path / "m.py"
    assert cli(["compile", p, "-o", out], capsys)[0] == 0
    code = out.read_text()
    compile(code, "m.py", "exec")
    assert "two\\nlines.snn:" in code and "\nlines.snn" not in code


# ---------------------------------------------------------------- files that are not model files


def _within(seconds: float, fn):
    """Run ``fn`` in a thread: its result, or a failure when it has not returned in time (a hang)."""
    box = {}
    t = threading.Thread(target=lambda: box.update(result=fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "hung"
    return box["result"]


def _codes(path):
    try:
        check_file(path)
    except SnnError as e:
        return [(d.code, d.line, d.column) for d in e.errors]
    return []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_refused_without_blocking(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.snn")
    main_file = tmp_path / "m.snn"
    main_file.write_text('import "pipe.snn"\n' + MODEL)
    assert _within(30, lambda: _codes(main_file)) == [("SNN004", 1, 1)]
    code, err = _within(30, lambda: cli(["check", tmp_path / "pipe.snn"], capsys))
    assert code == 2 and err.count("\n") == 1 and "not a regular file" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_devices_are_refused(tmp_path, capsys):
    code, err = _within(30, lambda: cli(["check", "/dev/zero"], capsys))
    assert code == 2 and err.count("\n") == 1
    (tmp_path / "zero.snn").symlink_to("/dev/zero")
    main_file = tmp_path / "m.snn"
    main_file.write_text('import "zero.snn"\n' + MODEL)
    assert _within(30, lambda: _codes(main_file)) == [("SNN004", 1, 1)]
    assert _within(30, lambda: cli(["fmt", "/dev/zero"], capsys))[0] == 2


def test_files_over_the_size_limit_are_refused_unread(tmp_path, capsys):
    big = tmp_path / "big.snn"
    with open(big, "wb") as f:
        f.truncate(MAX_SOURCE_BYTES + 1)
    code, err = cli(["check", big], capsys)
    assert code == 2 and "limit" in err
    main_file = tmp_path / "m.snn"
    main_file.write_text('import "big.snn"\n' + MODEL)
    assert _codes(main_file) == [("SNN005", 1, 1)]


def test_a_folder_is_not_a_model_file(tmp_path, capsys):
    code, err = cli(["check", tmp_path], capsys)
    assert code == 2 and "directory" in err


def test_unreadable_and_undecodable_files(tmp_path, capsys):
    p = tmp_path / "utf16.snn"
    p.write_text(MODEL, encoding="utf-16")
    assert cli(["check", p], capsys)[0] == 2
    q = tmp_path / "m.snn"
    q.write_text('import "utf16.snn"\n' + MODEL)
    assert _codes(q) == [("SNN003", 1, 1)]


def test_no_corpus_input_is_an_internal_error(tmp_path, capsys):
    for path in HOSTILE:
        cli(["compile", path, "-o", tmp_path / "out.py"], capsys)
        cli(["fmt", "--check", path], capsys)


def test_an_internal_error_is_one_line_and_a_file(monkeypatch, capsys):
    from snndsl.cli import check as check_cli

    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(check_cli, "cmd_check", broken)
    from snndsl.cli import build_parser
    monkeypatch.setattr("snndsl.cli.build_parser", lambda: _with(build_parser(), broken))
    code = main(["check", "x.snn"])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "internal error" in err and "boom" in err
    saved = Path(re.search(r"the traceback is in (\S+);", err).group(1))
    assert "RuntimeError: boom" in saved.read_text() and "Traceback" in saved.read_text()
    saved.unlink()


def _with(parser, run):
    parser.set_defaults(run=run)
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(run=run)
    return parser


def test_thousands_of_populations_compile_in_bounded_time():
    import time

    from snndsl.compiler import compile_source
    from snndsl.source import SourceFile

    n = 3000
    lines = ['import LIF from "std"', "network Big {", "    dt = 1 ms", "    input x: spikes[2]"]
    lines += [f"    pop p{i} = LIF(2)" for i in range(n)] + ["    connect x -> p0: dense(w = 1 mA)"]
    lines += [f"    connect p{i} -> p{i + 1}: dense(w = 1 mA)" for i in range(n - 1)] + [f"    output p{n - 1}", "}"]
    start = time.process_time()
    code, _ = compile_source(SourceFile("big.snn", "\n".join(lines) + "\n"))
    assert time.process_time() - start < 60 and f"p{n - 1} = self.p{n - 1}(" in code
