"""Data-parallel training on 4 virtual CPU devices equals the single-device run (in a subprocess, since the
device count is fixed when JAX starts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from .test_training import TINY

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np, snndsl
    from snndsl.runtime import data
    from snndsl.runtime import train_driver as training
    model = snndsl.loads(open(sys.argv[1]).read(), "tiny.snn")
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), 0)
    out = {}
    for dev in (None, 4):
        r = training.train(model, ds, epochs=2, batch=8, seed=0, progress=False, log=lambda s: None,
                           devices=dev)
        out[str(dev)] = {"loss": [h["loss"] for h in r.history],
                         "params": {".".join(k): v.tolist() for k, v in r.params.items()}}
    print(json.dumps(out))
""")


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["bptt", "truncated(window = 5)", "online(pp_prop)"])
def test_four_device_training_matches_one_device(tmp_path, loop):
    model = tmp_path / "tiny.snn"
    model.write_text(TINY.replace("LOOP", loop).replace("rate = 50 Hz", "rate = 300 Hz"))
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(model)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads(done.stdout.strip().splitlines()[-1])
    one, four = res["None"], res["4"]
    assert one["loss"][0] != one["loss"][-1], "the test needs a model that learns"
    assert four["loss"] == pytest.approx(one["loss"], rel=1e-5, abs=1e-6)
    for k, v in one["params"].items():
        np.testing.assert_allclose(four["params"][k], v, rtol=1e-4, atol=1e-6, err_msg=k)


def test_uneven_batch_is_a_clear_error(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    script = textwrap.dedent("""
        import snndsl
        from snndsl.runtime.parallel import DataParallel, ParallelError, resolve_devices
        dp = DataParallel(resolve_devices(4))
        try:
            dp.check_batch(10)
        except ParallelError as e:
            print(e)
        try:
            resolve_devices(8)
        except ParallelError as e:
            print(e)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "batch 10 does not divide evenly over 4 devices" in done.stdout
    assert "8 devices requested, but JAX sees 4" in done.stdout
