"""The ``narrow_weight_grad`` lowering pass's calibration (snndsl/lower/passes.py, ``NARROW``): the weight
gradient of a spike projection, dW = sᵀ g (s: ``[B, N_pre]`` 0/1 spikes, g: ``[B, N_post]`` cotangents), computed
as JAX's own transpose of the product computes it (XLA's ``dot`` contracting the leading axis of both) and with
a materialised transpose of ``s`` (``optimization_barrier(s.T) @ g``, what the pass emits), inside a ``scan``
accumulating it over steps as the backward pass of BPTT does.

    .venv/bin/python -m benchmarks.weight_grad            # the grid below (~1-2 minutes)
    .venv/bin/python benchmarks/run.py --only weightgrad  # the same, from the benchmark driver

Prints µs per step for each shape and the ratio (transposed ÷ in place); the pass applies to targets of at
most ``passes.NARROW`` neurons, where the ratio is below 1 across batch sizes and source sizes.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

STEPS = 40
GRID = [(b, n_pre, n_post) for b in (16, 64, 256) for n_pre in (64, 256, 1024) for n_post in (2, 10, 32, 64, 128, 256)]


def in_place(s, g):
    """dW = sᵀ g as JAX's transpose of ``s @ w`` computes it."""
    return jnp.dot(s.astype(g.dtype).T, g)


def transposed(s, g):
    """dW = sᵀ g from a materialised transpose (the ``narrow_weight_grad`` pass)."""
    return jax.lax.optimization_barrier(s.astype(g.dtype).T) @ g


def accumulated(fn):
    """A jitted ``scan`` summing ``fn(s_t, g_t)`` over the leading axis of its arguments."""

    @jax.jit
    def run(s, g):
        def body(acc, sg):
            return acc + fn(*sg), None
        return jax.lax.scan(body, jnp.zeros((s.shape[2], g.shape[2]), g.dtype), (s, g))[0]

    return run


def measure(b: int, n_pre: int, n_post: int, reps: int = 7, seed: int = 0) -> tuple[float, float]:
    """(in place, transposed): median µs per step, the two interleaved."""
    rng = np.random.default_rng(seed)
    s = jnp.asarray(rng.random((STEPS, b, n_pre)) < 0.03)
    g = jnp.asarray(rng.normal(size=(STEPS, b, n_post)).astype(np.float32))
    fns = [accumulated(in_place), accumulated(transposed)]
    for f in fns:
        for _ in range(2):
            jax.block_until_ready(f(s, g))
    times: list[list[float]] = [[], []]
    for _ in range(reps):
        for i, f in enumerate(fns):
            t0 = time.perf_counter()
            jax.block_until_ready(f(s, g))
            times[i].append((time.perf_counter() - t0) / STEPS * 1e6)
    return statistics.median(times[0]), statistics.median(times[1])


def main(argv=None) -> list[dict]:
    """Measure the grid, print a Markdown table, return its rows."""
    print("| batch | N_pre | N_post | in place (µs/step) | transposed (µs/step) | transposed ÷ in place |")
    print("|---|---|---|---|---|---|")
    rows = []
    for b, n_pre, n_post in GRID:
        a, t = measure(b, n_pre, n_post)
        rows.append({"batch": b, "n_pre": n_pre, "n_post": n_post, "in_place_us": a, "transposed_us": t})
        print(f"| {b} | {n_pre} | {n_post} | {a:.1f} | {t:.1f} | {t / a:.2f} |", flush=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
