"""Data parallelism: the batch sharded over a 1-D device mesh, parameters and optimizer state replicated.

XLA inserts the gradient all-reduce: the jitted step is the same program, its inputs carry shardings. On
several hosts, call :func:`initialize_distributed` first (``jax.distributed.initialize`` reads the usual
coordinator variables); ``jax.devices()`` then lists every host's devices.
"""

from __future__ import annotations

import os

import numpy as np


class ParallelError(Exception):
    """A device request that cannot be met; the message is for the user."""


def resolve_devices(request: int | str | None):
    """The devices a ``--devices``/``devices =`` request names: ``None`` (no mesh, a single-device run) for
    ``None``, 1 or ``"1"``; for ``"all"`` or N, the first N devices ``jax.devices()`` lists (``None`` again
    when that is one). Raises :class:`ParallelError` for N < 1 or more devices than JAX sees, and
    ``ValueError`` for a string that is neither ``"all"`` nor a number.
    """
    import jax

    if request in (None, 1, "1"):
        return None
    available = jax.devices()
    n = len(available) if request == "all" else int(request)
    if n < 1:
        raise ParallelError(f"--devices must be at least 1, not {n}")
    if n > len(available):
        raise ParallelError(f"{n} devices requested, but JAX sees {len(available)} "
                            f"({available[0].platform}); on CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N "
                            "makes N virtual devices")
    return available[:n] if n > 1 else None


class DataParallel:
    """Shards batches and replicates states over ``devices``."""

    def __init__(self, devices):
        """A one-axis mesh ``batch`` over ``devices``: states replicated, ``x`` ``[T, B, ...]`` split along B
        (axis 1), ``y`` ``[B, ...]`` along axis 0."""
        import jax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

        self.n = len(devices)
        self.mesh = Mesh(np.array(devices), ("batch",))
        self.replicated = NamedSharding(self.mesh, P())
        self.batch_x = NamedSharding(self.mesh, P(None, "batch"))   # x is time-major [T, B, ...]
        self.batch_y = NamedSharding(self.mesh, P("batch"))
        self._jax = jax

    def check_batch(self, batch: int) -> None:
        """Raise :class:`ParallelError` unless ``batch`` divides evenly over the devices (``batch % n == 0``)."""
        if batch % self.n:
            raise ParallelError(f"batch {batch} does not divide evenly over {self.n} devices; "
                                f"use a multiple of {self.n}")

    def replicate(self, *modules) -> None:
        """Place every state of ``modules`` on all devices, in place: a :class:`brainstate.State` itself, every
        state of a :class:`brainstate.nn.Module`, or every State attribute of anything else (an optimizer).
        """
        import brainstate as bs

        for module in modules:
            if isinstance(module, bs.State):
                states = [module]
            elif isinstance(module, bs.nn.Module):
                states = list(module.states().values())
            else:
                states = _optimizer_states(module)
            for s in states:
                s.value = self._jax.device_put(s.value, self.replicated)

    def replicate_arrays(self, *arrays):
        """The arrays, each copied whole onto every device (for a last batch that cannot be split evenly)."""
        return tuple(self._jax.device_put(a, self.replicated) for a in arrays)

    def shard(self, x, y):
        """``(x, y)`` with the batch split over the devices: ``x`` is time-major ``[T, B, ...]`` and split on axis 1,
        ``y`` on axis 0. ``B`` must be a multiple of the device count (:meth:`check_batch`).
        """
        return self._jax.device_put(x, self.batch_x), self._jax.device_put(y, self.batch_y)


def _optimizer_states(optimizer):
    """The optimizer's own ``State`` attributes (moments, step count), to replicate over the devices."""
    import brainstate as bs

    return [v for v in vars(optimizer).values() if isinstance(v, bs.State)]


def initialize_distributed() -> None:
    """Join a multi-host run when the coordinator is configured (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES,
    JAX_PROCESS_ID, or a cluster JAX detects by itself such as SLURM)."""
    import jax

    if os.environ.get("JAX_COORDINATOR_ADDRESS") or os.environ.get("SLURM_JOB_ID"):
        jax.distributed.initialize()
