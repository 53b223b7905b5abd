"""The `snndsl` command: exit codes, rendered diagnostics, JSON with LSP ranges, I/O errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snndsl.cli import main

VALID = """\
neuron N {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = (-V + 1 ohm * I) / tau
    spike when V >= 1 mV
    reset soft V = 0 mV
}
network Net {
    dt = 1 ms
    input x: spikes[3]
    pop h = N(2)
    connect x -> h: dense(w = kaiming_normal(mA))
    output h
}
"""


@pytest.fixture
def write(tmp_path):
    def w(text, name="m.snn"):
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return w


def test_valid_file_exits_0(write, capsys):
    path = write(VALID)
    assert main(["check", path]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"


def test_invalid_file_exits_1_with_located_rendered_error(write, capsys):
    path = write(VALID.replace("N(2)", "N(2, tua = 5 ms)"))
    assert main(["check", path]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:12:18: error[SNN203]: N has no parameter or state `tua`"
    assert err[1] == "        pop h = N(2, tua = 5 ms)"
    assert err[2] == " " * 21 + "^~~"
    assert err[3] == "hint: did you mean `tau`?"


def test_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.snn")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read" in err[0] and "Traceback" not in err[0]


def test_binary_file_is_an_io_error(tmp_path, capsys):
    p = tmp_path / "bin.snn"
    p.write_bytes(b"\xff\xfe\x00neuron")
    assert main(["check", str(p)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_json_format_has_positions_and_lsp_ranges(write, capsys):
    path = write(VALID.replace("dense(w = kaiming_normal(mA))", "dense(w = kaiming_normal(mV))"))
    assert main(["check", "--format", "json", path]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    (d,) = report["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("SNN307", 13, 21)
    assert d["range"] == {"start": {"line": 12, "character": 20}, "end": {"line": 12, "character": 49}}
    assert d["severity"] == "error" and d["message"] and d["file"] == path


def test_warnings_do_not_fail_the_check(write, capsys):
    path = write(VALID.replace("    output h\n", "    pop lonely = N(1)\n    output h\n"))
    assert main(["check", path]) == 0
    assert "warning[SNN405]" in capsys.readouterr().err


def test_python_dash_m_entry_point(write):
    import subprocess
    import sys

    path = write(VALID)
    done = subprocess.run([sys.executable, "-m", "snndsl", "check", path], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_run_writes_records_plots_and_rates(write, tmp_path, capsys):
    import numpy as np

    path = write(VALID)
    out = tmp_path / "sim"
    assert main(["run", path, "--steps", "40", "--batch", "2", "--record", "h.V", "--rate", "200",
                 "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"record.npz", "summary.json", "raster.png", "traces.png"}
    with np.load(out / "record.npz") as f:
        assert f["record.h.V"].shape == (40, 2, 2)
        assert f["spikes.h"].shape == (40, 2, 2)
    assert capsys.readouterr().out.startswith("h: ")


def test_run_with_an_unknown_record_path_is_a_usage_error(write, capsys):
    assert main(["run", write(VALID), "--steps", "5", "--record", "h.W"]) == 2
    assert "N has no state `W`" in capsys.readouterr().err


def test_run_without_steps_needs_a_duration(write, capsys):
    """`snndsl run` without --steps simulates the network's `duration`; without one it is a usage error that
    says what to give, not a traceback."""
    assert main(["run", write(VALID)]) == 2
    assert "--steps N" in capsys.readouterr().err
    timed = VALID.replace("    dt = 1 ms\n", "    dt = 1 ms\n    duration = 4 ms\n")
    assert main(["run", write(timed, "timed.snn"), "--out", str(Path(write(timed, "t.snn")).parent / "out")]) == 0
    assert json.loads((Path(write(timed, "t.snn")).parent / "out" / "summary.json").read_text())["steps"] == 4


def test_compile_refuses_to_overwrite_the_model(write, capsys):
    path = write(VALID)
    assert main(["compile", path, "-o", path]) == 2
    assert "is the model file itself" in capsys.readouterr().err
    assert open(path, encoding="utf-8").read() == VALID


def test_compile_to_stdout_is_the_module(write, capsys):
    assert main(["compile", write(VALID)]) == 0
    code = capsys.readouterr().out
    assert "class Net(bs.nn.Module):" in code and "def simulate(" in code
