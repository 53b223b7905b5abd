"""Small data files in the exact layouts of the neuromorphic data sets, for the tests.

* :func:`write_shd`: the Heidelberg spiking data sets' HDF5 layout (SHD, SSC): ``spikes/times`` and
  ``spikes/units`` as variable-length arrays (float32 seconds, uint16 units) and ``labels`` (uint16).
* :func:`nmnist_bytes` / :func:`write_nmnist`: N-MNIST's 40-bit binary events in ``<split>/<digit>/*.bin``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_shd(path: Path, times, units, labels, *, times_dtype=np.float32, units_dtype=np.uint16,
              labels_dtype=np.uint16, skip: str | None = None) -> Path:
    """An SHD-layout file: sample i has events ``times[i]`` (seconds) on ``units[i]``; ``skip`` leaves one
    dataset out (``"spikes/units"``)."""
    import h5py

    with h5py.File(path, "w") as f:
        for name, rows, dtype in (("spikes/times", times, times_dtype), ("spikes/units", units, units_dtype)):
            if name == skip:
                continue
            ds = f.create_dataset(name, (len(rows),), dtype=h5py.vlen_dtype(np.dtype(dtype)))
            for i, row in enumerate(rows):
                ds[i] = np.asarray(row, dtype)
        if skip != "labels":
            f.create_dataset("labels", data=np.asarray(labels, labels_dtype))
        f.create_dataset("extra/speaker", data=np.zeros(len(labels), np.uint16))
    return path


def random_shd(path: Path, samples: int, *, units: int = 700, classes: int = 20, events: int = 200,
               duration: float = 1.2, seed: int = 0) -> Path:
    """An SHD-layout file of random events: class c fires mostly on its own band of units."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % classes
    band = max(units // classes, 1)
    times, unit_rows = [], []
    for c in labels:
        k = int(rng.integers(events // 2, events + 1))
        t = np.sort(rng.random(k) * duration)
        own = rng.random(k) < 0.7
        u = np.where(own, c * band + rng.integers(0, band, k), rng.integers(0, units, k)) % units
        times.append(t)
        unit_rows.append(u)
    return write_shd(path, times, unit_rows, labels)


def nmnist_bytes(x, y, p, t_us) -> bytes:
    """N-MNIST's encoding of events: per event x, y, then polarity (bit 7) and a 23-bit timestamp."""
    x, y, p, t = (np.asarray(a, np.int64) for a in (x, y, p, t_us))
    ev = np.stack([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF], axis=1).astype(np.uint8)
    return ev.tobytes()


def write_nmnist(folder: Path, samples: dict[int, list[bytes]]) -> Path:
    """``folder/<digit>/<n>.bin`` for each digit's encoded samples."""
    for digit, files in samples.items():
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for n, data in enumerate(files):
            (folder / str(digit) / f"{n:05d}.bin").write_bytes(data)
    return folder
