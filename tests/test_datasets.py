"""Recorded event data sets: the SHD/SSC HDF5 layout and N-MNIST's binary events, binned to the network's
dt, on small files synthesised in the exact layouts (tests/synth.py): bin edges, the end of the window,
events out of range, channels beyond the input, files not in the layout, and `--data FILE` picking the
reader by the file's content."""

from __future__ import annotations

import numpy as np
import pytest

import snndsl
from snndsl.runtime import data
from snndsl.runtime.datasets.base import stratified_split
from snndsl.runtime.datasets.events import EventSet, bin_times

from .synth import nmnist_bytes, random_shd, write_nmnist, write_shd

MODEL = """\
import LIF, LI from "std"
network N {
    dt = DT
    input x: spikes[CH]
    pop h = LIF(3)
    readout out = LI(2)
    connect x -> h: dense(w = kaiming_normal(mA))
    connect h -> out: dense(w = kaiming_normal)
    output out
}
train N {
    data = SOURCE
    loss = cross_entropy(max(out, time), label)
}
"""


def _spec_net(source: str, channels: int = 4, dt: str = "1 ms"):
    program = snndsl.check_text(MODEL.replace("SOURCE", source).replace("CH", str(channels))
                                .replace("DT", dt)).program
    return program.trains[0].data, program.network("N")


def _load(tmp_path, source: str, **kw):
    spec, net = _spec_net(source, **kw)
    return data.load(spec, net, 0, tmp_path)


# ---------------------------------------------------------------- binning


def test_an_event_on_a_bin_edge_starts_the_later_step():
    dt = 1e-3
    t = np.array([0.0, 0.001, 0.003, 0.0029999, 0.007], np.float32)
    assert list(bin_times(t, dt)) == [0, 1, 3, 2, 7]
    assert list(bin_times(t.astype(np.float64), dt)) == [0, 1, 3, 2, 7]
    assert list(bin_times(np.array([0.0035, 0.0045]), 0.5e-3)) == [7, 9]
    # 0.043 / 0.001 is 42.99999999999999 in floating point, and float32(0.005) is just below 0.005: the edge
    # tolerance puts each in the step that starts there
    assert 0.043 / 0.001 < 43 and bin_times(np.array([0.043]), 0.001)[0] == 43
    assert float(np.float32(0.005)) / 0.001 < 5 and bin_times(np.array([0.005], np.float32), 0.001)[0] == 5


def test_binning_the_end_of_the_window_and_events_out_of_range(tmp_path):
    times = [[0.0, 0.003, 0.0099, 0.010, 0.5], [0.0001, 0.0001, 0.0001]]
    units = [[0, 1, 2, 3, 3], [2, 2, 1]]
    write_shd(tmp_path / "d.h5", times, units, [1, 0])
    ds = _load(tmp_path, 'shd(path = "d.h5", steps = 10)')
    x = ds.x[np.arange(2)]
    assert x.shape == (2, 10, 4) and x.dtype == np.float32
    expected = np.zeros((2, 10, 4), np.float32)
    expected[0, 0, 0] = expected[0, 3, 1] = expected[0, 9, 2] = 1   # 0.0099 s: the last step
    expected[1, 0, 2] = expected[1, 0, 1] = 1                          # two events in one step: 1
    np.testing.assert_array_equal(x, expected)                         # 0.010 s (= 10 × dt) and 0.5 s: out
    assert ds.y.tolist() == [1, 0] and ds.y.dtype == np.int32 and ds.x_test is None
    assert len(ds.notes) == 1 and "2 of 8 events (25.0%)" in ds.notes[0] and "d.h5" in ds.notes[0]


def test_float16_times_and_fixed_size_rows_are_read(tmp_path):
    import h5py

    with h5py.File(tmp_path / "d.h5", "w") as f:      # rows of a 2-D array instead of variable-length arrays
        f.create_dataset("spikes/times", data=np.array([[0.0, 0.002], [0.001, 0.0035]], np.float16))
        f.create_dataset("spikes/units", data=np.array([[0, 3], [1, 2]], np.uint16))
        f.create_dataset("labels", data=np.array([0, 1], np.uint8))
    x = _load(tmp_path, 'shd(path = "d.h5", steps = 4)').x[np.arange(2)]
    assert [tuple(i) for i in np.argwhere(x)] == [(0, 0, 0), (0, 2, 3), (1, 1, 1), (1, 3, 2)]


def test_counts_add_up_events_in_a_step(tmp_path):
    write_shd(tmp_path / "d.h5", [[0.0001, 0.0002, 0.0003, 0.0015]], [[2, 2, 2, 2]], [0])
    ds = _load(tmp_path, 'shd(path = "d.h5", steps = 3, counts = true)')
    assert ds.x[0][:, 2].tolist() == [3.0, 1.0, 0.0] and ds.notes == ()


def test_pool_feeds_several_units_to_one_channel(tmp_path):
    write_shd(tmp_path / "d.h5", [[0.0, 0.0, 0.001, 0.001]], [[0, 1, 6, 7]], [0])
    x = _load(tmp_path, 'shd(path = "d.h5", steps = 2, pool = 2)').x[0]
    assert x.tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]


def test_event_sets_index_like_dense_arrays(tmp_path):
    random_shd(tmp_path / "r.h5", 10, units=4, classes=2, events=30, duration=0.012)
    x = _load(tmp_path, 'ssc(path = "r.h5", steps = 10, counts = true)').x
    dense = x[np.arange(10)]
    assert len(x) == 10 and x.shape == dense.shape
    np.testing.assert_array_equal(x[2:5], dense[2:5])
    np.testing.assert_array_equal(x[7], dense[7])
    rows = np.array([9, 0, 4])
    np.testing.assert_array_equal(x.time_major(rows), np.moveaxis(dense[rows], 1, 0))
    np.testing.assert_array_equal(x.subset(rows)[np.arange(3)], dense[rows])
    assert isinstance(x.subset(rows), EventSet)


# ---------------------------------------------------------------- test sets


def test_a_stratified_share_is_held_out(tmp_path):
    random_shd(tmp_path / "r.h5", 40, units=4, classes=4, duration=0.01)
    ds = _load(tmp_path, 'shd(path = "r.h5", steps = 10, test_fraction = 0.25)')
    assert len(ds.x) == 30 and len(ds.x_test) == 10
    assert np.bincount(ds.y_test).tolist() == [3, 3, 2, 2] or sorted(np.bincount(ds.y_test)) == [2, 2, 3, 3]
    tr, te = stratified_split(np.arange(12) % 3, 0.5, 1)
    assert len(te) == 6 and np.bincount(np.arange(12)[te] % 3).tolist() == [2, 2, 2]
    assert set(tr) | set(te) == set(range(12)) and not set(tr) & set(te)


def test_a_test_file(tmp_path):
    random_shd(tmp_path / "train.h5", 6, units=4, classes=2, duration=0.01)
    random_shd(tmp_path / "test.h5", 4, units=4, classes=2, duration=0.01, seed=1)
    ds = _load(tmp_path, 'shd(path = "train.h5", test_path = "test.h5", steps = 10)')
    assert (len(ds.x), len(ds.x_test)) == (6, 4) and ds.y_test.tolist() == [0, 1, 0, 1]


# ---------------------------------------------------------------- files not in the layout


def _error(tmp_path, source: str, **kw) -> str:
    with pytest.raises(data.DataError) as e:
        _load(tmp_path, source, **kw)
    return str(e.value)


def test_a_unit_beyond_the_input_is_refused_with_the_fix(tmp_path):
    write_shd(tmp_path / "d.h5", [[0.0], [0.0, 0.001]], [[1], [2, 699]], [0, 1])
    msg = _error(tmp_path, 'shd(path = "d.h5", steps = 4)')
    assert msg.startswith(f"{tmp_path / 'd.h5'}: sample 1 has unit 699 in `spikes/units`")
    assert "4 channels" in msg and "pool = 175" in msg
    assert "pool = 2 feeds unit u" in _error(tmp_path, 'shd(path = "d.h5", steps = 4, pool = 2)')


@pytest.mark.parametrize("skip", ["spikes/times", "spikes/units", "labels"])
def test_a_missing_dataset_is_named(tmp_path, skip):
    write_shd(tmp_path / "d.h5", [[0.0]], [[1]], [0], skip=skip)
    msg = _error(tmp_path, 'shd(path = "d.h5", steps = 4)')
    assert msg.startswith(f"{tmp_path / 'd.h5'}: dataset `{skip}` is missing")
    assert "`spikes/times`, `spikes/units` and `labels`" in msg


@pytest.mark.parametrize("kw, name, dtype", [
    ({"labels_dtype": np.float32}, "labels", "float32"),
    ({"times_dtype": np.int32}, "spikes/times", "int32"),
    ({"units_dtype": np.float64}, "spikes/units", "float64"),
])
def test_a_wrong_dtype_is_named(tmp_path, kw, name, dtype):
    write_shd(tmp_path / "d.h5", [[0.0]], [[1]], [0], **kw)
    msg = _error(tmp_path, 'shd(path = "d.h5", steps = 4)')
    assert msg.startswith(f"{tmp_path / 'd.h5'}: dataset `{name}` holds {dtype}"), msg


@pytest.mark.parametrize("times, units, labels, says", [
    ([[0.0], [0.0]], [[1], [1]], [0], "dataset `spikes/times` has 2 samples, but `labels` has 1"),
    ([[0.0], [0.0, 0.001]], [[1], [1]], [0, 1], "sample 1 has 2 times in `spikes/times` but 1 units"),
    ([[0.0], [0.001, -0.002]], [[1], [1, 2]], [0, 1], "sample 1 has the time -0.002 in `spikes/times`"),
    ([[0.0], [np.nan]], [[1], [1]], [0, 1], "sample 1 has the time nan"),
])
def test_inconsistent_samples_are_refused(tmp_path, times, units, labels, says):
    write_shd(tmp_path / "d.h5", times, units, labels)
    assert says in _error(tmp_path, 'shd(path = "d.h5", steps = 4)')


def test_a_file_that_is_not_hdf5_or_missing(tmp_path):
    (tmp_path / "d.h5").write_text("not hdf5")
    assert _error(tmp_path, 'shd(path = "d.h5", steps = 4)').startswith(f"{tmp_path / 'd.h5'}: cannot be read as HDF5")
    assert _error(tmp_path, 'shd(path = "no.h5", steps = 4)') == f"{tmp_path / 'no.h5'}: no such file"


# ---------------------------------------------------------------- --data FILE


def test_data_picks_the_reader_by_content_and_keeps_the_blocks_settings(tmp_path):
    random_shd(tmp_path / "spikes.dat", 8, units=4, classes=2, duration=0.01)   # HDF5, by its first bytes
    spec, net = _spec_net('shd(path = "elsewhere.h5", test_path = "gone.h5", steps = 10, test_fraction = 0)')
    ds = data.from_file(tmp_path / "spikes.dat", net, spec)
    assert ds.x.shape == (8, 10, 4) and ds.x_test is None                      # the block's test file: unused
    ds = data.from_file(tmp_path / "spikes.dat", net, spec, test_path=tmp_path / "spikes.dat")
    assert len(ds.x_test) == 8


def test_data_npz_reads_as_before(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((3, 5, 4), np.float32), y=np.array([0, 1, 0]))
    spec, net = _spec_net('shd(path = "x.h5", steps = 10)')
    ds = data.from_file(tmp_path / "d.npz", net, spec)
    assert ds.x.shape == (3, 5, 4) and ds.y.dtype == np.int32


def test_data_errors_say_what_is_missing(tmp_path):
    random_shd(tmp_path / "s.h5", 2, units=4, classes=2)
    spec, net = _spec_net('npz(path = "d.npz")')
    with pytest.raises(data.DataError, match=r"s\.h5: reading it as `shd` needs `steps`"):
        data.from_file(tmp_path / "s.h5", net, spec)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(data.DataError, match=r"notes\.txt: no data source reads this file.*nmnist: a folder"):
        data.from_file(tmp_path / "notes.txt", net, spec)
    with pytest.raises(data.DataError, match="no such file or folder"):
        data.from_file(tmp_path / "none.h5", net, spec)


# ---------------------------------------------------------------- N-MNIST


def test_nmnist_events_overflow_and_channels(tmp_path):
    # digit 3: ON at (0, 0) t = 0; OFF at (33, 33) t = 1.5 ms; an overflow marker; then ON at (1, 2) at
    # 2^13 µs + 100 µs = 8.292 ms; pool = 6: 6 x 6 pixels, 72 channels
    sample = nmnist_bytes([0, 33, 0, 1], [0, 33, 240, 2], [1, 0, 0, 1], [0, 1500, 0, 100])
    write_nmnist(tmp_path / "Train", {3: [sample], 5: [nmnist_bytes([6], [6], [0], [0])]})
    write_nmnist(tmp_path / "Test", {3: [sample]})
    ds = _load(tmp_path, 'nmnist(path = ".", steps = 10, pool = 6)', channels=72)
    assert ds.y.tolist() == [3, 5] and ds.y_test.tolist() == [3]
    x = ds.x[0]
    on, off = 36, 0
    assert {tuple(i) for i in np.argwhere(x)} == {(0, on + 0), (1, off + 5 * 6 + 5), (8, on + 0)}
    assert ds.x[1][0, 1 * 6 + 1] == 1 and ds.notes == ()
    assert len(_load(tmp_path, 'nmnist(path = "Train", steps = 10, pool = 6)', channels=72).x) == 2


def test_nmnist_refuses_a_wrong_input_size_and_broken_files(tmp_path):
    write_nmnist(tmp_path / "Train", {0: [nmnist_bytes([0], [0], [1], [0])]})
    msg = _error(tmp_path, 'nmnist(path = "Train", steps = 4)', channels=100)
    assert "has 2312 channels (2 polarities x 34 x 34 pixels), but the network's input has 100" in msg
    (tmp_path / "Train" / "0" / "00001.bin").write_bytes(b"\x00" * 7)
    assert "7 bytes is not a whole number of 5-byte N-MNIST events" in _error(
        tmp_path, 'nmnist(path = "Train", steps = 4)', channels=2312)
    (tmp_path / "Train" / "0" / "00001.bin").write_bytes(nmnist_bytes([40], [0], [1], [0]))
    assert "outside the 34 x 34 sensor" in _error(tmp_path, 'nmnist(path = "Train", steps = 4)', channels=2312)
    (tmp_path / "empty").mkdir()
    assert "no class folders with .bin files" in _error(tmp_path, 'nmnist(path = "empty", steps = 4)',
                                                        channels=2312)


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize("source, says", [
    ('shd(path = "a.h5", steps = 10, pool = 0)', "`pool` of shd must be at least 1, not 0"),
    ('shd(path = "a.h5", test_path = "b.h5", steps = 10, test_fraction = 0.2)', "not both"),
    ('nmnist(path = "a", steps = 10, test_fraction = 1)', "at least 0 and below 1, not 1"),
])
def test_source_settings_are_checked(source, says):
    model = MODEL.replace("SOURCE", source).replace("CH", "4").replace("DT", "1 ms")
    with pytest.raises(snndsl.SnnError) as e:
        snndsl.check_text(model)
    assert any(d.code == "SNN603" and says in d.message for d in e.value.diagnostics)


# ---------------------------------------------------------------- snndsl train --data FILE


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("model")
    path = d / "tiny.snn"
    path.write_text(MODEL.replace("SOURCE", 'shd(path = "absent.h5", steps = 5)').replace("CH", "4")
                    .replace("DT", "1 ms"))
    return path


def test_cli_a_file_not_in_the_layout_is_one_line_and_exit_2(tiny_model, tmp_path, capsys):
    from snndsl.cli import main

    bad = write_shd(tmp_path / "bad.h5", [[0.0]], [[1]], [0], labels_dtype=np.float64)
    assert main(["train", str(tiny_model), "--data", str(bad), "--out", str(tmp_path / "run"),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"snndsl: error: {bad}: dataset `labels` holds float64 of shape (1,), but labels are one "
                   "integer class per sample"]
    assert not (tmp_path / "run").exists()
    assert main(["train", str(tiny_model), "--test-data", str(bad), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == "snndsl: error: --test-data needs --data (the training file)"


@pytest.mark.slow
def test_cli_trains_models_shd_on_a_synthesised_file(root, tmp_path, capsys):
    from snndsl.cli import main

    train = random_shd(tmp_path / "train.h5", 12, events=400, duration=1.2)
    test = random_shd(tmp_path / "test.h5", 6, events=400, duration=1.2, seed=1)
    out = tmp_path / "run"
    assert main(["train", str(root / "models" / "shd.snn"), "--data", str(train), "--test-data", str(test),
                 "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"snndsl: note: {train}: " in err and "after the end of the window, 1 s (2000 steps of 0.5 ms)" in err
    import json
    (record,) = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert record["epoch"] == 1 and np.isfinite(record["loss"]) and "test_accuracy" in record
    assert (out / "params").exists()
