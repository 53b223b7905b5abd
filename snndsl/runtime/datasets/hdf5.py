"""The Heidelberg spiking data sets' HDF5 layout (Cramer et al. 2020): Spiking Heidelberg Digits (SHD) and
Spiking Speech Commands (SSC).

One file per split, each with ``spikes/times`` (per sample, a variable-length array of event times in
seconds, floating point), ``spikes/units`` (per sample, the matching channels 0-699, unsigned integers) and
``labels`` (one integer class per sample); ``extra/...`` is ignored. Unit ``u`` feeds input channel
``u // pool``; a unit beyond the network's input is refused, never folded silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snndsl import ir
from snndsl.registry import DATA
from snndsl.runtime.datasets.base import DataError, Dataset
from snndsl.runtime.datasets.events import Binning, Builder, EventSet, event_dataset, sample_of

#: Samples read and binned at a time (bounds the memory of reading SSC's 75,466 samples).
CHUNK = 1024
LAYOUT = "the SHD/SSC layout has `spikes/times`, `spikes/units` and `labels`"


def _dataset(f, path: Path, name: str):
    import h5py

    obj = f.get(name)
    if not isinstance(obj, h5py.Dataset):
        what = "a group, not a dataset" if obj is not None else "missing"
        raise DataError(f"{path}: dataset `{name}` is {what}; {LAYOUT}")
    return obj


def _per_sample(ds, path: Path, name: str, kind: str, want: str) -> None:
    """Check that ``ds`` holds one array per sample (variable-length, or the rows of a 2-D array) of numbers
    of ``kind`` (a :func:`numpy.issubdtype` class)."""
    import h5py

    base = h5py.check_vlen_dtype(ds.dtype)
    if base is None and ds.ndim != 2:
        raise DataError(f"{path}: dataset `{name}` must hold one array per sample (variable-length), but it "
                        f"has shape {ds.shape} and dtype {ds.dtype}")
    dtype = np.dtype(base if base is not None else ds.dtype)
    if not np.issubdtype(dtype, kind):
        raise DataError(f"{path}: dataset `{name}` holds {dtype}, but {want}")


def read_hdf5(path: Path, binning: Binning) -> tuple[EventSet, np.ndarray, tuple[str, ...]]:
    """The events and labels of one SHD/SSC file, binned by ``binning`` (see :mod:`.events`).

    Raises :class:`DataError`, naming the file and the dataset, for a file that cannot be read as HDF5, a
    missing dataset, a wrong dtype (times must be floating point, units and labels integers), sample counts
    or per-sample lengths that disagree, negative units, labels or times, and a unit beyond the input
    (``unit // pool >= channels``).
    """
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        raise DataError(f"{path}: reading HDF5 needs h5py: pip install h5py") from None
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DataError(f"{path}: cannot be read as HDF5 ({e})") from None
    with f:
        times, units, labels = (_dataset(f, path, n) for n in ("spikes/times", "spikes/units", "labels"))
        _per_sample(times, path, "spikes/times", np.floating, "event times are floating-point seconds")
        _per_sample(units, path, "spikes/units", np.integer, "units are integer channel numbers")
        if not np.issubdtype(labels.dtype, np.integer) or labels.ndim != 1:
            raise DataError(f"{path}: dataset `labels` holds {labels.dtype} of shape {labels.shape}, but labels "
                            "are one integer class per sample")
        y = labels[()].astype(np.int64)
        n = len(y)
        for name, ds in (("spikes/times", times), ("spikes/units", units)):
            if len(ds) != n:
                raise DataError(f"{path}: dataset `{name}` has {len(ds)} samples, but `labels` has {n}")
        if n and y.min() < 0:
            raise DataError(f"{path}: dataset `labels` has the negative label {y.min()} (sample "
                            f"{int(np.argmin(y))}); classes are 0, 1, ...")
        builder = Builder(binning, str(path))
        for start in range(0, n, CHUNK):
            ts, us = times[start:start + CHUNK], units[start:start + CHUNK]
            lens = np.array([len(a) for a in ts], np.int64)
            ulens = np.array([len(a) for a in us], np.int64)
            if (lens != ulens).any():
                i = int(np.flatnonzero(lens != ulens)[0])
                raise DataError(f"{path}: sample {start + i} has {lens[i]} times in `spikes/times` but "
                                f"{ulens[i]} units in `spikes/units`")
            t = np.concatenate([np.asarray(a, np.float64) for a in ts])
            u = np.concatenate([np.asarray(a, np.int64) for a in us])
            builder.add(lens, t, _channels(u, lens, start, binning, path), "`spikes/times`")
    events, notes = builder.build()
    return events, y.astype(np.int32), notes


def _channels(u: np.ndarray, lens: np.ndarray, start: int, binning: Binning, path: Path) -> np.ndarray:
    """Input channels ``u // pool``; raises :class:`DataError` for a negative unit or one beyond the input."""
    ch = u // binning.pool
    bad = (u < 0) | (ch >= binning.channels)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        sample = start + sample_of(lens, i)
        if u[i] < 0:
            raise DataError(f"{path}: sample {sample} has the negative unit {u[i]} in `spikes/units`")
        pool = -(-max(int(u.max()) + 1, 700) // binning.channels)
        pooled = f" (pool = {binning.pool} feeds unit u to channel u // {binning.pool})" if binning.pool > 1 else ""
        raise DataError(f"{path}: sample {sample} has unit {u[i]} in `spikes/units`, but the network's input has "
                        f"{binning.channels} channels{pooled}; give the input 700 channels (SHD and SSC have 700 "
                        f"units), or pool units into fewer channels: pool = {pool} feeds unit u to channel u // {pool}")
    return ch


@DATA.implement("load", "shd", "ssc")
def heidelberg(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """SHD or SSC from the files a user downloaded: ``path`` (e.g. ``shd_train.h5``), a test set from
    ``test_path`` (``shd_test.h5``) or a stratified ``test_fraction``, binned to the network's dt over
    ``steps`` steps (see :mod:`.events`); relative paths are relative to ``base``.

    Raises :class:`DataError` as :func:`read_hdf5` does.
    """
    return event_dataset(spec, net, seed, base, read_hdf5)
