"""Broken or unsuitable data files stop `snndsl train` before training, with one line naming the file and
the array (issue: hardening, class 4)."""

from __future__ import annotations

import numpy as np
import pytest

import snndsl
from snndsl.cli import main
from snndsl.runtime import data

NET = """\
import LIF, Expon from "std"
network Net {
    dt = 1 ms
    input x: spikes[8]
    pop hidden = LIF(6, tau = 10 ms)
    readout out = Expon(3, tau = 5 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA))
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
train Net {
    data = npz(path = "d.npz")
    loss = LOSS
    epochs = 1
    batch = 4
}
"""

RNG = np.random.default_rng(0)
X = (RNG.random((8, 5, 8)) < 0.3).astype(np.float32)
LABELS = RNG.integers(0, 3, 8)


def _truncated(p):
    np.savez(p, x=X, y=LABELS)
    p.write_bytes(p.read_bytes()[:50])


READ = {   # file content -> fragment of the error
    "empty file": (lambda p: p.write_bytes(b""), "cannot be read as .npz"),
    "truncated": (_truncated, "cannot be read as .npz"),
    "npy under an npz name": (lambda p: np.save(open(p, "wb"), X), "a single array (.npy)"),
    "no y": (lambda p: np.savez(p, x=X), "no array `y` (it has x)"),
    "0-d y": (lambda p: np.savez(p, x=X, y=np.int64(3)), "`y` is a single value (0-d)"),
    "zero samples": (lambda p: np.savez(p, x=X[:0], y=LABELS[:0]), "`x` has no samples"),
    "zero time steps": (lambda p: np.savez(p, x=X[:, :0], y=LABELS), "`x` has no time steps"),
    "NaN in x": (lambda p: np.savez(p, x=np.where(X > 0, np.nan, 0).astype(np.float32), y=LABELS),
                 "non-finite values (NaN or inf)"),
    "inf in x": (lambda p: np.savez(p, x=np.where(X > 0, np.inf, 0).astype(np.float32), y=LABELS),
                 "non-finite values (NaN or inf), the first at sample 0"),
    "string labels": (lambda p: np.savez(p, x=X, y=np.array(["a"] * 8)), "`y` holds <U1 values"),
    "NaN targets": (lambda p: np.savez(p, x=X, y=np.full((8, 3), np.nan)), "non-finite targets"),
}

FIT = {   # (loss, y) -> fragment of the error
    "float labels": ("cross_entropy(mean(out, time), label)", RNG.random(8), "needs integer class labels"),
    "negative labels": ("cross_entropy(mean(out, time), label)", -np.ones(8, int), "the label -1"),
    "labels beyond the classes": ("cross_entropy(mean(out, time), label)", np.full(8, 3), "classes 0..2"),
    "spike counts beyond the hidden units": ("spike_count_cross_entropy(hidden, label)", np.full(8, 6),
                                             "`hidden`, whose 6 units"),
    "integer targets for mse": ("mse(mean(out, time), target)", LABELS, "needs float targets"),
    "targets of the wrong size": ("mse(mean(out, time), target)", RNG.random((8, 4)), "4 targets per sample"),
}


@pytest.fixture(scope="module")
def net():
    return snndsl.check_text(NET.replace("LOSS", "cross_entropy(mean(out, time), label)")).program.networks[0]


@pytest.mark.parametrize("case", sorted(READ))
def test_unreadable_or_malformed_files_name_the_file_and_array(case, tmp_path, net):
    make, fragment = READ[case]
    make(tmp_path / "d.npz")
    with pytest.raises(data.DataError, match=None) as err:
        data.from_file(tmp_path / "d.npz", net)
    assert str(err.value).startswith(str(tmp_path / "d.npz")) and fragment in str(err.value), str(err.value)


@pytest.mark.parametrize("case", sorted(FIT))
def test_labels_and_targets_must_suit_the_loss(case, tmp_path):
    loss, y, fragment = FIT[case]
    program = snndsl.check_text(NET.replace("LOSS", loss)).program
    np.savez(tmp_path / "d.npz", x=X, y=y)
    dataset = data.from_file(tmp_path / "d.npz", program.networks[0])
    with pytest.raises(data.DataError) as err:
        data.check_fits(dataset, program.networks[0], program.trains[0], "d.npz")
    assert fragment in str(err.value), str(err.value)


def test_good_data_fits(tmp_path, net):
    program = snndsl.check_text(NET.replace("LOSS", "cross_entropy(mean(out, time), label)")).program
    np.savez(tmp_path / "d.npz", x=X, y=LABELS)
    data.check_fits(data.from_file(tmp_path / "d.npz", net), program.networks[0], program.trains[0])


def test_cli_stops_before_training_with_one_line(tmp_path, capsys):
    (tmp_path / "m.snn").write_text(NET.replace("LOSS", "cross_entropy(mean(out, time), label)"))
    np.savez(tmp_path / "d.npz", x=X, y=np.full(8, 7))
    assert main(["train", str(tmp_path / "m.snn"), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("snndsl: error: ") and "the label 7" in err[0]
    assert not (tmp_path / "run" / "params").exists()
