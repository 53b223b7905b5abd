"""Data sources of train blocks: arrays ``x`` [samples, time, channels] and ``y`` (labels or targets).

Every source is deterministic given the train block's seed. A source returns a :class:`Dataset` with a
training and an optional test split. Generated data, scikit-learn's digits and ``.npz`` files are read here;
recorded event streams (SHD, SSC, N-MNIST) in :mod:`snndsl.runtime.datasets`, whose hooks importing this
module registers.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from snndsl import ir
from snndsl import units as u
from snndsl.registry import DATA, ENCODERS, Entry
from snndsl.runtime.datasets import hdf5, nmnist  # noqa: F401  (implement the event sources' `load` hooks)
from snndsl.runtime.datasets.base import DataError, Dataset, dt_seconds, input_size
from snndsl.runtime.datasets.validate import check_arrays, check_fits

__all__ = ["DataError", "Dataset", "check_fits", "encode", "from_file", "load"]


@DATA.implement("load", "poisson_patterns")
def poisson_patterns(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """The seed tutorial's task: independent Poisson spike patterns, with random class labels.

    Each input channel spikes in each step with probability ``p = rate × dt``; ``x`` has shape
    ``[samples, steps, channels]`` (float32 0/1), ``y`` labels uniform in ``[0, classes)`` (int32). No test split;
    deterministic in ``seed``. Raises :class:`DataError` unless the network has exactly one data input.
    """
    rng = np.random.default_rng(seed)
    n_in = input_size(net)
    steps, samples, classes = spec.arg("steps"), spec.arg("samples"), spec.arg("classes")
    p = float(spec.arg("rate").to_decimal(u.Hz)) * dt_seconds(net)
    x = (rng.random((samples, steps, n_in)) < p).astype(np.float32)
    y = rng.integers(0, classes, size=samples).astype(np.int32)
    return Dataset(x, y)


def encode(values: np.ndarray, steps: int, encoding: ir.Spec | None, dt_s: float, rng) -> np.ndarray:
    """Values in [0, 1], shape [samples, channels] → spikes [samples, steps, channels] (float32 0/1), by the
    encoding's ``encode`` hook (``rate(max_rate = 100 Hz)`` when none is given).

    ``rate(max_rate)``: Poisson spikes with probability ``clip(value × max_rate × dt, 0, 1)`` per step;
    ``latency(...)``: one spike per channel at step ``round((1 - value) × (steps - 1))`` (larger values fire
    earlier), none for value 0. ``dt_s`` is the step in seconds, ``rng`` a NumPy generator. Raises
    :class:`DataError` for an encoder that works inside networks only.
    """
    if encoding is None:
        encoding = ir.Spec("encoder", "rate", (("max_rate", u.Quantity(100.0, unit=u.Hz)),))
    entry = ENCODERS[encoding.name]
    if entry.traits.where != "data":
        raise DataError(f"encoder `{encoding.name}` cannot encode a data set; use rate(...) or latency(...)")
    return entry.hook("encode")(values, steps, encoding, dt_s, rng)


@ENCODERS.implement("encode", "rate")
def _rate(values: np.ndarray, steps: int, encoding: ir.Spec, dt_s: float, rng) -> np.ndarray:
    """Poisson spikes with probability value × max_rate × dt per step."""
    p = np.clip(values * float(encoding.arg("max_rate").to_decimal(u.Hz)) * dt_s, 0.0, 1.0)
    return (rng.random((values.shape[0], steps, values.shape[1])) < p[:, None, :]).astype(np.float32)


@ENCODERS.implement("encode", "latency")
def _latency(values: np.ndarray, steps: int, encoding: ir.Spec, dt_s: float, rng) -> np.ndarray:
    """One spike per channel at step round((1 - value) × (steps - 1)), none for value 0."""
    out = np.zeros((values.shape[0], steps, values.shape[1]), np.float32)
    t = np.round((1.0 - values) * (steps - 1)).astype(int)
    s, c = np.nonzero(values > 0)
    out[s, t[s, c], c] = 1.0
    return out


@DATA.implement("load", "digits")
def digits(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, no download), pixels scaled to [0, 1] and encoded to
    spikes (:func:`encode`); a stratified ``test_fraction`` is held out (none when it is not in (0, 1)).

    The training set is re-encoded each epoch (:attr:`Dataset.resample`), deterministically in the seed and the
    epoch. Raises :class:`DataError` if scikit-learn is missing or the data input does not have 64 channels.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:  # pragma: no cover - scikit-learn is a declared dependency of the data extra
        raise DataError("the digits data set needs scikit-learn: pip install 'snndsl[data]'") from None
    bunch = load_digits()
    values = (bunch.data / 16.0).astype(np.float32)
    if input_size(net) != values.shape[1]:
        raise DataError(f"digits have 64 channels, but the network's input has {input_size(net)}")
    steps, encoding, dt_s = spec.arg("steps"), spec.arg("encoding"), dt_seconds(net)
    y = bunch.target.astype(np.int32)
    frac = float(spec.arg("test_fraction"))

    def encoder(v: np.ndarray, *key: int) -> np.ndarray:
        return encode(v, steps, encoding, dt_s, np.random.default_rng([seed, *key]))

    if not 0.0 < frac < 1.0:
        return Dataset(encoder(values, 0), y, resample=lambda epoch: encoder(values, epoch))
    v_tr, v_te, y_tr, y_te = train_test_split(values, y, test_size=frac, stratify=y, random_state=seed)
    return Dataset(encoder(v_tr, 0), y_tr, encoder(v_te, 1_000_000), y_te,
                   resample=lambda epoch: encoder(v_tr, epoch))


def _load_npz(path: str | Path, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` [samples, time, ``n_in``] float32 and ``y`` (int32 labels, or float32 targets) from an .npz file;
    :class:`DataError` naming the file and the array when it cannot be read (missing, empty, truncated, a
    ``.npy`` under an ``.npz`` name), lacks an array, or its shapes or values do not fit
    (:func:`~snndsl.runtime.datasets.validate.check_arrays`)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot be read as .npz ({e or type(e).__name__})") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(f"{path}: holds a single array (.npy), not an .npz archive with `x` and `y`; "
                        "save both with numpy.savez(path, x=x, y=y)")
    try:
        with loaded as f:
            missing = [k for k in ("x", "y") if k not in f.files]
            if missing:
                raise DataError(f"{path}: no array `{missing[0]}` (it has {', '.join(f.files) or 'none'}); it needs "
                                "`x` [samples, time, channels] and `y`")
            x, y = np.asarray(f["x"], np.float32), np.asarray(f["y"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot be read as .npz ({e or type(e).__name__})") from None
    if x.ndim != 3 or x.shape[2] != n_in:
        raise DataError(f"{path}: `x` must have shape [samples, time, {n_in}], got {list(x.shape)}")
    check_arrays(str(path), x, y)
    if np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int32)
    elif np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_:
        y = y.astype(np.float32)
    else:
        raise DataError(f"{path}: `y` holds {y.dtype} values; it needs integer labels or float targets")
    return x, y


@DATA.implement("load", "npz")
def npz(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """An ``.npz`` file with ``x`` [samples, time, channels] and ``y``; ``test_path`` another for testing.

    Relative paths are relative to ``base`` (the model file's folder; the current directory without one).
    Integer ``y`` are class labels (int32), others targets (float32). Raises :class:`DataError` if a file cannot
    be read, lacks ``x`` or ``y``, or its shapes do not fit the network's single data input.
    """
    x, y = _load_npz(base / spec.arg("path"), input_size(net))
    if spec.arg("test_path"):
        xt, yt = _load_npz(base / spec.arg("test_path"), input_size(net))
        return Dataset(x, y, xt, yt)
    return Dataset(x, y)


def _readers(path: Path) -> list[Entry]:
    """The data sources that read ``path``: (a folder) those that read folders; else those whose magic bytes
    the file starts with, else those whose suffix it has; in registry order."""
    files = [e for e in DATA if e.traits.file is not None]
    if path.is_dir():
        return [e for e in files if e.traits.file.folder]
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        head = b""
    by_magic = [e for e in files if e.traits.file.magic and head.startswith(e.traits.file.magic)]
    return by_magic or [e for e in files if path.suffix.lower() in e.traits.file.suffixes]


def from_file(path: str | Path, net: ir.Network, spec: ir.Spec | None = None, seed: int = 0,
              test_path: str | Path | None = None) -> Dataset:
    """``snndsl train --data FILE [--test-data FILE]``: ``path`` read by the data source that reads such files.

    The source is chosen by the file's content and name (:class:`snndsl.registry.DataFile`): the train
    block's own source ``spec`` if it reads such files (``shd`` and ``ssc`` read the same files), else the
    first that does. Its ``path`` is ``path`` and its ``test_path`` is ``test_path`` (the block's test file
    is not used); every other argument is the block's where the block's source has it (``steps``,
    ``test_fraction``, ...), else its default. Relative paths are relative to the current directory.

    Raises :class:`DataError` for a path that does not exist or that no source reads, an argument the
    source needs that the block does not give, and whatever the source raises.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    readers = _readers(path)
    if not readers:
        known = "; ".join(f"{e.name}: " + ("a folder" if e.traits.file.folder else ", ".join(e.traits.file.suffixes))
                          for e in DATA if e.traits.file is not None)
        raise DataError(f"{path}: no data source reads this file (by its content or name); they read {known}")
    entry = next((e for e in readers if spec is not None and e.name == spec.name), readers[0])
    given = dict(spec.args) if spec is not None else {}
    args = []
    for param in entry.params:
        if param.name in ("path", "test_path"):
            value = {"path": str(path), "test_path": str(test_path) if test_path else None}[param.name]
        elif param.name in given:
            value = given[param.name]
        elif not param.required:
            value = param.default
        else:
            raise DataError(f"{path}: reading it as `{entry.name}` needs `{param.name}`, which the train block's "
                            f"data source does not give; write e.g. `data = {entry.name}(path = \"{path.name}\", "
                            f"{param.name} = ...)` in the train block")
        args.append((param.name, value))
    return DATA[entry.name].hook("load")(ir.Spec("data", entry.name, tuple(args)), net, seed, Path.cwd())


def load(spec: ir.Spec | None, net: ir.Network, seed: int, base: Path | None = None) -> Dataset:
    """The :class:`Dataset` a train block's ``data`` Spec describes, by its source's ``load`` hook, deterministic
    in ``seed``; ``base`` is the folder relative paths are taken from (the model file's).

    Raises :class:`DataError` when ``spec`` is ``None`` (no ``data`` and no ``--data``) or the source fails.
    """
    if spec is None:
        raise DataError("the train block has no `data`; give one, or pass --data FILE")
    return DATA[spec.name].hook("load")(spec, net, seed, base or Path.cwd())
