"""What every data source returns: a :class:`Dataset` of inputs ``x`` [samples, time, channels] and labels or
targets ``y``, and :class:`DataError` for data that cannot be loaded or does not fit the network."""

from __future__ import annotations

from typing import Any, Callable

import attrs
import numpy as np

from snndsl import ir, units


class DataError(Exception):
    """Data cannot be loaded or does not fit the network; the message is for the user.

    A problem with a file starts with the file's path and names the dataset or array concerned:
    ``shd_train.h5: no dataset `spikes/units` ...``.
    """


@attrs.frozen(eq=False)
class Dataset:
    """Training inputs ``x`` and labels or targets ``y``, and an optional test split.

    ``x`` is an array [samples, time, channels] or anything that indexes like one (``len(x)``, ``x[rows]``
    with an index array or a slice gives a float32 array), such as a
    :class:`~snndsl.runtime.datasets.events.EventSet` that bins its events one batch at a time.
    """

    x: Any
    y: np.ndarray
    x_test: Any = None
    y_test: np.ndarray | None = None
    #: for encoded data sets: ``epoch -> x`` draws a fresh spike encoding of the training samples each epoch
    #: (deterministic in the seed and epoch, so a resumed run sees the same draws)
    resample: Callable[[int], np.ndarray] | None = None
    #: things the user should know about the data (events dropped outside the time window, ...)
    notes: tuple[str, ...] = ()

    @property
    def classification(self) -> bool:
        """Whether the labels ``y`` are integers (class indices); float ``y`` are regression targets."""
        return np.issubdtype(self.y.dtype, np.integer)

    def epoch_x(self, epoch: int) -> Any:
        """The training inputs of ``epoch`` (0-based)."""
        return self.x if self.resample is None or epoch == 0 else self.resample(epoch)


def input_size(net: ir.Network) -> int:
    """The number of channels of ``net``'s one data input (an input without an encoder).

    Raises :class:`DataError` unless there is exactly one.
    """
    data_inputs = [x for x in net.inputs if x.source is None]
    if len(data_inputs) != 1:
        raise DataError(f"training needs exactly one data input in {net.name}, found {len(data_inputs)}")
    return data_inputs[0].size


def dt_seconds(net: ir.Network) -> float:
    """``net``'s time step in seconds."""
    return float(net.dt.to_decimal(units.second))


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices ``(train, test)``, both sorted: ``ceil(fraction × samples)`` samples are held out for
    testing, each class contributing in proportion to its size (the samples of a class are shuffled and
    the first of each class in turn go to the test set); deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    key = np.empty(len(y))
    for c in np.unique(y):
        members = order[y[order] == c]
        key[members] = (np.arange(len(members)) + 0.5) / len(members)
    held = np.sort(np.lexsort((rng.random(len(y)), key))[:int(np.ceil(fraction * len(y)))])
    return np.setdiff1d(np.arange(len(y)), held), held
