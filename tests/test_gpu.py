"""GPU execution: the compiled seed step on a CUDA device equals the CPU step. Skips without a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import snndsl

from .conftest import ROOT


def _gpu():
    import jax

    try:
        return jax.devices("gpu")[0]
    except RuntimeError:
        return None


@pytest.mark.gpu
def test_seed_step_on_gpu_equals_cpu():
    gpu = _gpu()
    if gpu is None:
        pytest.skip("no CUDA GPU visible to JAX")
    import brainstate as bs
    import jax

    model = snndsl.load(ROOT / "models" / "seed.snn")
    x = (np.random.default_rng(0).random((50, 16, 100)) < 0.05).astype(np.float32)
    y = np.arange(16) % 2
    losses = []
    for device in (jax.devices("cpu")[0], gpu):
        with jax.default_device(device):
            bs.random.seed(0)
            net = model.network()
            _, step, _ = model.module.make_trainer(net, 16)
            losses.append([float(step(x, y)[0]) for _ in range(3)])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)
