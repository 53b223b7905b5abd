"""Misusing the command line: every case is one line ``snndsl: error: ...`` on stderr, exit 2, no traceback.

Each case is ``(argv, exit code, a fragment of the message)``; ``{model}``, ``{train}``, ``{file}``, ``{dir}``
and ``{missing}`` are files made once for the module.
"""

from __future__ import annotations

import pytest

from snndsl.cli import main

MODEL = """import LIF, Expon from "std"

network Net {
    dt = 1 ms
    input x: spikes[3]
    pop hidden = LIF(HIDDEN)
    readout out = Expon(2, tau = 10 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA))
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
"""
TRAIN = """
train Net {
    data = poisson_patterns(steps = 3, samples = 4, rate = 50 Hz, classes = 2)
    loss = cross_entropy(mean(out, time), label)
    optimizer = adam(lr = 1e-3)
    epochs = 1
    batch = 2
}
"""

CASES = [
    ([], 2, "required"),
    (["frobnicate"], 2, "invalid choice"),
    (["run"], 2, "required"),
    (["run", "{model}", "--steps", "0"], 2, "at least 1"),
    (["run", "{model}", "--steps", "abc"], 2, "whole number"),
    (["run", "{model}", "--steps", "3", "--seed", "-1"], 2, "from 0 to 4294967295"),
    (["run", "{model}", "--steps", "3", "--seed", str(2 ** 70)], 2, "from 0 to 4294967295"),
    (["run", "{model}", "--steps", "3", "--seed", "1.5"], 2, "whole number"),
    (["run", "{model}", "--steps", "3", "--rate", "nan"], 2, "finite"),
    (["run", "{model}", "--steps", "3", "--rate", "inf"], 2, "finite"),
    (["run", "{model}", "--steps", "3", "--rate", "-5"], 2, "at least 0"),
    (["run", "{model}", "--steps", "3", "--rate", "fast"], 2, "hertz"),
    (["run", "{model}", "--steps", "3", "--out", "{file}"], 2, "is a file, not a folder"),
    (["run", "{model}", "--steps", "3", "--out", "{file}/sub"], 2, "it is a file"),
    (["run", "{model}", "--steps", "3", "--batch", "0"], 2, "at least 1"),
    (["run", "{model}", "--steps", "3", "--record", "hidden.W"], 2, "hidden"),
    (["run", "{model}", "--steps", "3", "--record", "nowhere"], 2, "nowhere"),
    (["run", "{model}", "--steps", "3", "--network", "Nope"], 2, "Nope"),
    (["run", "{model}", "--steps", "3", "--data", "{missing}"], 2, "cannot read"),
    (["run", "{model}", "--steps", "3", "--data", "{model}"], 2, "cannot read"),
    (["run", "{model}", "--steps", str(10 ** 13)], 2, "out of memory"),
    (["run", "{missing}", "--steps", "3"], 2, "cannot read"),
    (["check", "{missing}"], 2, "No such file"),
    (["check", "{dir}"], 2, "not a regular file"),
    (["check", "{model}", "--format", "xml"], 2, "invalid choice"),
    (["fmt", "{dir}"], 2, "not a regular file"),
    (["compile", "{model}", "-o", "{dir}"], 2, "is a folder"),
    (["compile", "{model}", "-o", "{file}/m.py"], 2, "is a file, not a folder"),
    (["train", "{model}"], 2, "no train block"),
    (["train", "{train}", "--epochs", "0"], 2, "at least 1"),
    (["train", "{train}", "--seed", "-3"], 2, "from 0 to"),
    (["train", "{train}", "--out", "{file}"], 2, "is a file"),
    (["train", "{train}", "--devices", "0"], 2, "at least 1"),
    (["train", "{train}", "--devices", "many"], 2, "whole number"),
    (["train", "{train}", "--data", "{missing}"], 2, "missing"),
    (["export", "{model}", "-o", "{dir}"], 2, "is a folder"),
    (["export", "{model}", "-o", "{dir}/m.nir", "--seed", "-1"], 2, "from 0 to"),
    (["export", "{model}", "-o", "{dir}/m.nir", "--network", "Nope"], 2, "Nope"),
    (["export", "{model}", "-o", "{dir}/m.nir", "--params", "{dir}"], 2, "checkpoint"),
    (["import", "{model}", "-o", "{dir}/m.snn"], 2, "cannot read"),
    (["import", "{missing}", "-o", "{dir}/m.snn"], 2, "cannot read"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("misuse")
    (d / "model.snn").write_text(MODEL.replace("HIDDEN", "3"))
    (d / "train.snn").write_text(MODEL.replace("HIDDEN", "3") + TRAIN)
    (d / "file.txt").write_text("not a folder")
    (d / "dir").mkdir()
    return {"model": d / "model.snn", "train": d / "train.snn", "file": d / "file.txt", "dir": d / "dir",
            "missing": d / "missing.snn", "root": d}


def one_line_error(argv, capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as e:         # argparse's own exits (usage errors) come this way
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("snndsl: error: "), err
    return code, lines[0]


@pytest.mark.parametrize("argv,code,fragment", CASES, ids=lambda c: " ".join(c) if isinstance(c, list) else None)
def test_misuse_is_one_line_and_exit_2(argv, code, fragment, files, capsys):
    got, line = one_line_error([a.format(**files) for a in argv], capsys)
    assert got == code and fragment in line, line


def test_gpu_without_a_gpu(files, capsys):
    import jax
    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("this machine has a GPU")
    code, line = one_line_error(["--platform", "gpu", "check", str(files["model"])], capsys)
    assert code == 2 and "no GPU" in line


def test_resume_from_a_differently_sized_model(files, capsys):
    out = files["root"] / "run"
    assert main(["train", str(files["train"]), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    bigger = files["root"] / "bigger.snn"
    bigger.write_text(MODEL.replace("HIDDEN", "5") + TRAIN)
    code, line = one_line_error(["train", str(bigger), "--out", str(out), "--resume", "--no-progress"], capsys)
    assert code == 2 and "differently sized" in line and "(3, " in line and "(5, " in line
