"""Every loss, reduction and regulariser of the train block lowers to a step that trains, and data comes from
.npz files as documented."""

from __future__ import annotations

import numpy as np
import pytest

import snndsl
from snndsl.runtime import data
from snndsl.runtime import train_driver as training

MODEL = """\
import LIF, Expon from "std"
network Net {
    dt = 1 ms
    input x: spikes[8]
    pop hidden = LIF(6, tau = 10 ms)
    readout out = Expon(3, tau = 5 ms)
    connect x -> hidden: dense(w = kaiming_normal(mA), b = zeros(mA)), synapse = Expon(tau = 5 ms)
    connect hidden -> out: dense(w = kaiming_normal)
    output out
}
train Net {
    data = npz(path = "DATA")
    loss = LOSS
    optimizer = OPT
    epochs = 2
    batch = 4
}
"""

LOSSES = {
    "max": "cross_entropy(max(out, time), label)",
    "last": "cross_entropy(last(out, time), label)",
    "counts": "spike_count_cross_entropy(hidden, label)",
    "regularised": "cross_entropy(mean(out, time), label) + 0.5 * rate_reg(hidden, target = 20 Hz)",
}
OPTIMIZERS = {
    "max": "adamw(lr = 1e-2, weight_decay = 0.01)",
    "last": "sgd(lr = 0.1, momentum = 0.9)",
    "counts": "rmsprop(lr = 1e-3, grad_clip_norm = 1.0)",
    "regularised": "adam(lr = exponential_decay(1e-2, decay_steps = 1))",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    x = (rng.random((8, 15, 8)) < 0.3).astype(np.float32)
    np.savez(d / "cls.npz", x=x, y=rng.integers(0, 3, 8))
    np.savez(d / "reg.npz", x=x, y=rng.random((8, 3)).astype(np.float32))
    return d


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_classification_losses_train(name, files):
    text = MODEL.replace("DATA", str(files / "cls.npz")).replace("LOSS", LOSSES[name]) \
                .replace("OPT", OPTIMIZERS[name])
    model = snndsl.loads(text, str(files / "m.snn"))
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    result = training.train(model, ds, epochs=2, batch=4, seed=0, progress=False, log=lambda m: None)
    h = result.history
    assert len(h) == 2 and all(np.isfinite(r["loss"]) for r in h) and 0 <= h[-1]["accuracy"] <= 1


def test_mse_regression_has_no_accuracy(files):
    text = MODEL.replace("DATA", str(files / "reg.npz")).replace("LOSS", "mse(mean(out, time), target)") \
                .replace("OPT", "adam(lr = 1e-2)")
    model = snndsl.loads(text, str(files / "m.snn"))
    ds = data.load(model.program.trains[0].data, model.ir(), 0)
    assert not ds.classification
    h = training.train(model, ds, epochs=2, batch=4, seed=0, progress=False, log=lambda m: None).history
    assert "accuracy" not in h[-1] and np.isfinite(h[-1]["loss"])


def test_npz_with_the_wrong_shape_is_a_clear_error(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros((4, 5, 7)), y=np.zeros(4, int))
    text = MODEL.replace("DATA", "bad.npz").replace("LOSS", LOSSES["max"]).replace("OPT", "adam()")
    model = snndsl.loads(text, str(tmp_path / "m.snn"))
    with pytest.raises(data.DataError, match=r"must have shape \[samples, time, 8\], got \[4, 5, 7\]"):
        data.load(model.program.trains[0].data, model.ir(), 0, tmp_path)
