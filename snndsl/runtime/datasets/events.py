"""Recorded events binned to a network's time step, kept sparse and made dense one batch at a time.

The rules every event source follows (docs/data.md):

* **Time.** An event at ``t`` seconds falls in step ``floor(t / dt)``; the window is ``[0, steps × dt)``.
  An event within a millionth of a step of a bin edge counts as on the edge (``0.003 s`` with ``dt = 1 ms``
  is step 3, although ``0.003 / 0.001`` is ``2.9999...`` in floating point), so it starts the later step.
  An event at exactly ``steps × dt`` or later is outside the window and dropped (a note says how many); a
  negative or non-finite time is an error in the file.
* **Value.** A step holds 1 where a channel has at least one event in it; with ``counts = true`` it holds
  the number of events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import attrs
import numpy as np

from snndsl import ir
from snndsl.runtime.datasets.base import DataError, Dataset, dt_seconds, input_size, stratified_split

#: An event closer than this (in steps) to a bin edge is taken to be on it.
EDGE_TOLERANCE = 1e-6


@attrs.frozen
class Binning:
    """How events become inputs: ``channels`` of the network's input, step ``dt`` (seconds), ``steps`` per
    sample, ``pool`` source channels per input channel (a reader's rule), ``counts`` or 0/1 values."""

    channels: int
    dt: float
    steps: int
    pool: int = 1
    counts: bool = False

    @property
    def window(self) -> str:
        """The window, for messages: ``1 s (2000 steps of 0.5 ms)``."""
        return f"{self.steps * self.dt:g} s ({self.steps} steps of {self.dt * 1e3:g} ms)"


def bin_times(t: np.ndarray, dt: float) -> np.ndarray:
    """The step of each time ``t`` (seconds): ``floor(t / dt)``, where a time within :data:`EDGE_TOLERANCE`
    steps of a bin edge is taken to be on the edge (int64)."""
    q = np.asarray(t, np.float64) / dt
    r = np.rint(q)
    return np.floor(np.where(np.abs(q - r) <= EDGE_TOLERANCE, r, q)).astype(np.int64)


@attrs.frozen(eq=False)
class EventSet:
    """Samples of binned events. ``x[rows]`` (an index array or a slice) is float32 [rows, steps, channels].

    Sample ``i``'s entries are ``offsets[i]:offsets[i + 1]`` of ``step``, ``channel`` and ``value``, each
    (step, channel) once.
    """

    steps: int
    channels: int
    offsets: np.ndarray
    step: np.ndarray
    channel: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(samples, steps, channels)``, the shape of the dense array this stands for."""
        return (len(self), self.steps, self.channels)

    @property
    def dtype(self) -> np.dtype:
        """float32, the dtype of the dense batches."""
        return np.dtype(np.float32)

    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts, lens = self.offsets[rows], self.offsets[rows + 1] - self.offsets[rows]
        first = np.cumsum(lens) - lens
        pos = np.arange(int(lens.sum())) + np.repeat(starts - first, lens)
        return np.repeat(np.arange(len(rows)), lens), pos

    def __getitem__(self, index) -> np.ndarray:
        rows = np.arange(len(self))[index]
        if rows.ndim == 0:
            return self[rows[None]][0]
        which, pos = self._gather(rows)
        step, channel = self.step[pos].astype(np.int64), self.channel[pos]
        out = np.zeros((len(rows), self.steps, self.channels), np.float32)
        out.reshape(-1)[(which * self.steps + step) * self.channels + channel] = self.value[pos]
        return out

    def time_major(self, index) -> np.ndarray:
        """The samples ``index`` (an index array or a slice) as float32 [steps, rows, channels], built in that
        order (no transposed copy of a large batch)."""
        rows = np.arange(len(self))[index]
        which, pos = self._gather(rows)
        step, channel = self.step[pos].astype(np.int64), self.channel[pos]
        out = np.zeros((self.steps, len(rows), self.channels), np.float32)
        out.reshape(-1)[(step * len(rows) + which) * self.channels + channel] = self.value[pos]
        return out

    def subset(self, rows: np.ndarray) -> EventSet:
        """The samples ``rows``, in that order."""
        rows = np.asarray(rows, np.int64)
        _, pos = self._gather(rows)
        lens = self.offsets[rows + 1] - self.offsets[rows]
        return EventSet(self.steps, self.channels, np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
                        self.step[pos], self.channel[pos], self.value[pos])


class Builder:
    """Collects events a chunk of samples at a time and builds an :class:`EventSet` and a note on the events
    dropped after the window."""

    def __init__(self, binning: Binning, where: str):
        self.binning, self.where = binning, where
        self.samples, self.total, self.late = 0, 0, 0
        self._parts: list[tuple[np.ndarray, ...]] = []

    def add(self, lens: np.ndarray, t: np.ndarray, channel: np.ndarray, what: str) -> None:
        """Add ``len(lens)`` samples whose events are ``t`` (seconds) and ``channel`` (input channels,
        already checked), ``lens[i]`` events for sample i. ``what`` names the times in messages.

        Raises :class:`DataError` for a negative or non-finite time.
        """
        b = self.binning
        bad = ~np.isfinite(t) | (t < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{self.where}: sample {self.samples + sample_of(lens, i)} has the time "
                            f"{t[i]:g} in {what}; times must be finite and not negative")
        sample = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
        step = bin_times(t, b.dt)
        keep = step < b.steps
        self.total += len(t)
        self.late += int((~keep).sum())
        key = (sample[keep] * b.steps + step[keep]) * b.channels + channel[keep].astype(np.int64)
        key, count = np.unique(key, return_counts=True)
        per = np.bincount(key // (b.steps * b.channels), minlength=len(lens))
        rem = key % (b.steps * b.channels)
        value = count.astype(np.float32) if b.counts else np.ones(len(key), np.float32)
        self._parts.append((per, (rem // b.channels).astype(np.int32), (rem % b.channels).astype(np.int32), value))
        self.samples += len(lens)

    def build(self) -> tuple[EventSet, tuple[str, ...]]:
        """The events added so far, and notes for the user."""
        b = self.binning
        if self._parts:
            per, step, channel, value = (np.concatenate(p) for p in zip(*self._parts))
        else:
            per = step = channel = value = np.zeros(0, np.int64)
        offsets = np.concatenate([[0], np.cumsum(per)]).astype(np.int64)
        events = EventSet(b.steps, b.channels, offsets, step.astype(np.int32), channel.astype(np.int32),
                          value.astype(np.float32))
        notes = ()
        if self.late:
            notes = (f"{self.where}: {self.late:,} of {self.total:,} events ({self.late / self.total:.1%}) are at "
                     f"or after the end of the window, {b.window}, and are left out",)
        return events, notes


def sample_of(lens: np.ndarray, event: int) -> int:
    """The sample that event number ``event`` of a chunk belongs to, ``lens[i]`` events for sample i."""
    return int(np.searchsorted(np.cumsum(lens), event, side="right"))


#: A reader: ``(path, binning) -> (events, labels, notes)``.
Reader = Callable[[Path, Binning], tuple[EventSet, np.ndarray, tuple[str, ...]]]


def event_dataset(spec: ir.Spec, net: ir.Network, seed: int, base: Path, read: Reader,
                  test_default: Path | None = None, train_path: Path | None = None) -> Dataset:
    """The :class:`Dataset` of an event source ``spec`` (``path``, ``test_path``, ``steps``, ``pool``,
    ``counts``, ``test_fraction``), each file read by ``read``.

    The test set is ``test_path`` if given, else ``test_default`` (a reader's convention, e.g. N-MNIST's
    ``Test/`` beside ``Train/``), else a stratified ``test_fraction`` of the training file (none when it is
    0). ``train_path`` replaces ``path`` (resolved against ``base``). Raises :class:`DataError` as ``read``
    does.
    """
    binning = Binning(input_size(net), dt_seconds(net), spec.arg("steps"), spec.arg("pool"), spec.arg("counts"))
    x, y, notes = read(train_path or base / spec.arg("path"), binning)
    test = base / spec.arg("test_path") if spec.arg("test_path") else test_default
    if test is not None:
        xt, yt, more = read(test, binning)
        return Dataset(x, y, xt, yt, notes=notes + more)
    frac = float(spec.arg("test_fraction"))
    if frac > 0:
        tr, te = stratified_split(y, frac, seed)
        return Dataset(x.subset(tr), y[tr], x.subset(te), y[te], notes=notes)
    return Dataset(x, y, notes=notes)
