"""Figures (matplotlib, headless): spike rasters, state traces, training curves. Written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from snndsl.fileio import atomic_write


def _figure():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (imported on first use: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Render ``fig`` as PNG, close it, and write it to ``path`` atomically; returns ``path``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    _figure().close(fig)
    return atomic_write(path, lambda f: f.write(buf.getvalue()))


def _first_sample(a: np.ndarray) -> np.ndarray:
    return a[:, 0] if a.ndim == 3 else a


def raster(spikes: dict[str, np.ndarray], dt_ms: float, path: Path) -> Path:
    """One panel per spiking population: neuron index against time in ms (first sample of a batch); ``spikes``
    are time-major. Writes a PNG to ``path`` atomically and returns the path written."""
    plt = _figure()
    fig, axes = plt.subplots(len(spikes), 1, figsize=(8, 1.6 + 1.4 * len(spikes)), squeeze=False, sharex=True)
    for ax, (name, s) in zip(axes[:, 0], spikes.items()):
        s = _first_sample(s)
        t, i = np.nonzero(s > 0)
        ax.scatter(t * dt_ms, i, s=2, c="k", marker="|")
        ax.set_ylabel(name)
        ax.set_ylim(-0.5, s.shape[1] - 0.5)
    axes[-1, 0].set_xlabel("time (ms)")
    fig.suptitle("spike raster")
    fig.tight_layout()
    return _save(fig, path)


def traces(records: dict[str, np.ndarray], dt_ms: float, path: Path, max_lines: int = 8) -> Path:
    """One panel per recorded variable against time in ms (first sample; at most ``max_lines`` neurons).
    Writes a PNG to ``path`` atomically and returns the path written."""
    plt = _figure()
    fig, axes = plt.subplots(len(records), 1, figsize=(8, 1.6 + 1.6 * len(records)), squeeze=False, sharex=True)
    for ax, (name, r) in zip(axes[:, 0], records.items()):
        r = _first_sample(r)
        t = np.arange(r.shape[0]) * dt_ms
        ax.plot(t, r.reshape(r.shape[0], -1)[:, :max_lines], lw=0.8)
        ax.set_ylabel(name)
    axes[-1, 0].set_xlabel("time (ms)")
    fig.tight_layout()
    return _save(fig, path)


def curves(history: dict[str, list[float]], path: Path, title: str, ylabel: str) -> Path:
    """Training curves: one line per series of ``history`` against epochs 1, 2, ... (a legend when there are
    several). Writes a PNG to ``path`` atomically and returns the path written."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, ys in history.items():
        ax.plot(np.arange(1, len(ys) + 1), ys, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(history) > 1:
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)
