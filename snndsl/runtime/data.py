"""Data sources of train blocks: arrays ``x`` [samples, time, channels] and ``y`` (labels or targets).

Every source is deterministic given the train block's seed. A source returns a :class:`Dataset` with a
training and an optional test split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import attrs
import numpy as np

from snndsl import ir
from snndsl.registry import DATA, ENCODERS


class DataError(Exception):
    """Data cannot be loaded or does not fit the network; the message is for the user."""


@attrs.frozen(eq=False)
class Dataset:
    """A data set: ``x`` ``[samples, time, channels]`` float32 inputs (spikes 0/1 or values) and ``y``
    ``[samples]`` int32 labels or ``[samples, ...]`` float targets; ``x_test``/``y_test`` the test split
    (``None`` without one)."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    #: for encoded data sets: ``epoch -> x`` draws a fresh spike encoding of the training samples each epoch
    #: (deterministic in the seed and epoch, so a resumed run sees the same draws)
    resample: Callable[[int], np.ndarray] | None = None

    @property
    def classification(self) -> bool:
        """Whether the labels ``y`` are integers (class indices); float ``y`` are regression targets."""
        return np.issubdtype(self.y.dtype, np.integer)

    def epoch_x(self, epoch: int) -> np.ndarray:
        """The training inputs of ``epoch`` (0-based)."""
        return self.x if self.resample is None or epoch == 0 else self.resample(epoch)


def _dt_seconds(net: ir.Network) -> float:
    """The network's time step in seconds."""
    import brainunit as u

    return float(net.dt.to_decimal(u.second))


@DATA.implement("load", "poisson_patterns")
def poisson_patterns(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """The seed tutorial's task: independent Poisson spike patterns, with random class labels.

    Each input channel spikes in each step with probability ``p = rate × dt``; ``x`` has shape
    ``[samples, steps, channels]`` (float32 0/1), ``y`` labels uniform in ``[0, classes)`` (int32). No test split;
    deterministic in ``seed``. Raises :class:`DataError` unless the network has exactly one data input.
    """
    import brainunit as u

    rng = np.random.default_rng(seed)
    n_in = _input_size(net)
    steps, samples, classes = spec.arg("steps"), spec.arg("samples"), spec.arg("classes")
    p = float(spec.arg("rate").to_decimal(u.Hz)) * _dt_seconds(net)
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
    import brainunit as u

    if encoding is None:
        encoding = ir.Spec("encoder", "rate", (("max_rate", u.Quantity(100.0, unit=u.Hz)),))
    entry = ENCODERS[encoding.name]
    if entry.traits.where != "data":
        raise DataError(f"encoder `{encoding.name}` cannot encode a data set; use rate(...) or latency(...)")
    return entry.hook("encode")(values, steps, encoding, dt_s, rng)


@ENCODERS.implement("encode", "rate")
def _rate(values: np.ndarray, steps: int, encoding: ir.Spec, dt_s: float, rng) -> np.ndarray:
    """Poisson spikes with probability value × max_rate × dt per step."""
    import brainunit as u

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
    if _input_size(net) != values.shape[1]:
        raise DataError(f"digits have 64 channels, but the network's input has {_input_size(net)}")
    steps, encoding, dt_s = spec.arg("steps"), spec.arg("encoding"), _dt_seconds(net)
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
    :class:`DataError` when it cannot be read, lacks an array, or the shapes do not fit."""
    try:
        with np.load(path) as f:
            x, y = np.asarray(f["x"], np.float32), np.asarray(f["y"])
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    except KeyError as e:
        raise DataError(f"{path} has no array {e}; it needs `x` [samples, time, channels] and `y`") from None
    if x.ndim != 3 or x.shape[2] != n_in:
        raise DataError(f"{path}: `x` must have shape [samples, time, {n_in}], got {list(x.shape)}")
    if y.shape[0] != x.shape[0]:
        raise DataError(f"{path}: `x` has {x.shape[0]} samples but `y` has {y.shape[0]}")
    if np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int32)
    else:
        y = y.astype(np.float32)
    return x, y


@DATA.implement("load", "npz")
def npz(spec: ir.Spec, net: ir.Network, seed: int, base: Path) -> Dataset:
    """An ``.npz`` file with ``x`` [samples, time, channels] and ``y``; ``test_path`` another for testing.

    Relative paths are relative to ``base`` (the model file's folder; the current directory without one).
    Integer ``y`` are class labels (int32), others targets (float32). Raises :class:`DataError` if a file cannot
    be read, lacks ``x`` or ``y``, or its shapes do not fit the network's single data input.
    """
    x, y = _load_npz(base / spec.arg("path"), _input_size(net))
    if spec.arg("test_path"):
        xt, yt = _load_npz(base / spec.arg("test_path"), _input_size(net))
        return Dataset(x, y, xt, yt)
    return Dataset(x, y)


def from_file(path: str | Path, net: ir.Network) -> Dataset:
    """``snndsl train --data D.npz``: the arrays of ``path`` as :func:`npz` reads them, without a test split.
    Raises :class:`DataError` as :func:`npz` does.
    """
    x, y = _load_npz(path, _input_size(net))
    return Dataset(x, y)


def _input_size(net: ir.Network) -> int:
    """The size of the network's one data input; :class:`DataError` unless there is exactly one."""
    data_inputs = [x for x in net.inputs if x.source is None]
    if len(data_inputs) != 1:
        raise DataError(f"training needs exactly one data input in {net.name}, found {len(data_inputs)}")
    return data_inputs[0].size


def load(spec: ir.Spec | None, net: ir.Network, seed: int, base: Path | None = None) -> Dataset:
    """The :class:`Dataset` a train block's ``data`` Spec describes, by its source's ``load`` hook, deterministic
    in ``seed``; ``base`` is the folder relative paths are taken from (the model file's).

    Raises :class:`DataError` when ``spec`` is ``None`` (no ``data`` and no ``--data``) or the source fails.
    """
    if spec is None:
        raise DataError("the train block has no `data`; give one, or pass --data D.npz")
    return DATA[spec.name].hook("load")(spec, net, seed, base or Path.cwd())
