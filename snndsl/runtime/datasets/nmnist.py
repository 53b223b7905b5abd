"""N-MNIST (Orchard et al. 2015): MNIST digits recorded by an event camera, 34 x 34 pixels, two polarities.

The data set is a folder ``Train/`` (and ``Test/``) of one folder per digit, ``0/`` to ``9/``, each of
binary files, one per sample. A file is a sequence of 40-bit events, five bytes each: x (8 bits), y
(8 bits), polarity (1 bit: 1 ON, 0 OFF) and a timestamp in microseconds (23 bits). An event with y = 240
marks a timestamp overflow: every later event's time is increased by 2^13 µs, as the data set's own
reader (Read_Ndataset.m) does; it is not an event itself.

Pixel (x, y) of polarity p feeds input channel ``p × S² + (y // pool) × S + (x // pool)`` with
``S = ceil(34 / pool)``, the layout of a [2, S, S] frame (polarity, row, column) flattened; the network's
input must have exactly ``2 × S²`` channels (2,312 unpooled, 578 with ``pool = 2``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snndsl import ir
from snndsl.registry import DATA
from snndsl.runtime.datasets.base import DataError, Dataset
from snndsl.runtime.datasets.events import Binning, Builder, EventSet, event_dataset

SENSOR = 34
OVERFLOW_Y = 240
OVERFLOW_US = 2 ** 13
#: Files binned at a time.
CHUNK = 1024


def read_events(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, polarity, t_us)`` of one N-MNIST file (int64 arrays), overflow markers applied and removed.

    Raises :class:`DataError` if the file cannot be read or is not a whole number of 5-byte events.
    """
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    if raw.size % 5:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of 5-byte N-MNIST events")
    ev = raw.reshape(-1, 5).astype(np.int64)
    y = ev[:, 1]
    overflow = y == OVERFLOW_Y
    t = ((ev[:, 2] & 0x7F) << 16 | ev[:, 3] << 8 | ev[:, 4]) + np.cumsum(overflow) * OVERFLOW_US
    keep = ~overflow
    return ev[keep, 0], y[keep], ev[keep, 2] >> 7, t[keep]


def _classes(folder: Path) -> list[tuple[int, list[Path]]]:
    """(label, files) of each class folder: a folder named by a number has that label, otherwise folders
    are numbered in sorted order."""
    dirs = sorted((d for d in folder.iterdir() if d.is_dir()), key=lambda d: d.name)
    numbered = all(d.name.isdigit() for d in dirs)
    out = [(int(d.name) if numbered else i, sorted(d.glob("*.bin"))) for i, d in enumerate(dirs)]
    return [(label, files) for label, files in out if files]


def read_folder(path: Path, binning: Binning) -> tuple[EventSet, np.ndarray, tuple[str, ...]]:
    """The events and labels of an N-MNIST split folder (``Train/`` or ``Test/``), binned by ``binning``.

    Raises :class:`DataError` for a missing folder, one without class folders of ``.bin`` files, an input
    that does not have ``2 × S²`` channels, an unreadable file or a pixel outside the 34 x 34 sensor.
    """
    if not path.is_dir():
        raise DataError(f"{path}: no such folder" if not path.exists() else
                        f"{path}: N-MNIST is read from a folder (Train/ or Test/, one folder per digit), not a file")
    side = -(-SENSOR // binning.pool)
    need = 2 * side * side
    if binning.channels != need:
        raise DataError(f"{path}: N-MNIST with pool = {binning.pool} has {need} channels (2 polarities x {side} x "
                        f"{side} pixels), but the network's input has {binning.channels}; give the input {need} "
                        "channels, or pool pixels: pool = 2 gives 578")
    classes = _classes(path)
    if not classes:
        raise DataError(f"{path}: no class folders with .bin files; the N-MNIST layout is Train/<digit>/*.bin")
    builder = Builder(binning, str(path))
    labels: list[int] = []
    lens: list[int] = []
    ts: list[np.ndarray] = []
    chs: list[np.ndarray] = []
    for label, files in classes:
        for file in files:
            x, y, p, t = read_events(file)
            if len(x) and (x.max() >= SENSOR or y.max() >= SENSOR):
                i = int(np.flatnonzero((x >= SENSOR) | (y >= SENSOR))[0])
                raise DataError(f"{file}: event {i} at pixel ({x[i]}, {y[i]}) is outside the 34 x 34 sensor")
            lens.append(len(x))
            ts.append(t)
            chs.append(p * side * side + (y // binning.pool) * side + x // binning.pool)
            labels.append(label)
            if len(lens) == CHUNK:
                builder.add(np.array(lens), np.concatenate(ts) * 1e-6, np.concatenate(chs), "its timestamps")
                lens, ts, chs = [], [], []
    if lens:
        builder.add(np.array(lens), np.concatenate(ts) * 1e-6, np.concatenate(chs), "its timestamps")
    events, notes = builder.build()
    return events, np.array(labels, np.int32), notes


def _split_folders(path: Path) -> tuple[Path, Path | None]:
    """``path`` itself, or its ``Train/`` and ``Test/`` when it is the data set's root folder."""
    subs = {d.name.lower(): d for d in path.iterdir() if d.is_dir()} if path.is_dir() else {}
    if "train" in subs:
        return subs["train"], subs.get("test")
    return path, None


@DATA.implement("load", "nmnist")
def nmnist(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """N-MNIST from the folders a user downloaded and unpacked: ``path`` is ``Train/`` (or the root holding
    ``Train/`` and ``Test/``: then ``Test/`` is the test set unless ``test_path`` or ``test_fraction`` says
    otherwise), binned to the network's dt over ``steps`` steps (see :mod:`.events`); relative paths are
    relative to ``base``.

    Raises :class:`DataError` as :func:`read_folder` does.
    """
    train, test = _split_folders(base / spec.arg("path"))
    if float(spec.arg("test_fraction")) > 0:
        test = None
    return event_dataset(spec, net, seed, base, read_folder, test_default=test, train_path=train)
