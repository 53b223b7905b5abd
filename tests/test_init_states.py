"""The prelude's ``_init_states``: ``bs.nn.init_all_states`` run as one jitted program (where JAX's persistent
compilation cache is on) (every state the
initialisers create caught, its value returned and restored after, its trace level lowered). Against
``init_all_states`` run eagerly: the same states with the same values (random draws, constants and counters bit
for bit; values computed from them, such as a Hodgkin-Huxley gate's steady state, to float32 rounding: XLA
fuses the arithmetic of one program), the same random state after, and states a later loop carries (a state
left at the jit's trace level would not be carried: its writes inside the loop would be lost).
"""

from __future__ import annotations

import types
from pathlib import Path

import brainstate as bs
import brainunit as u
import jax
import numpy as np
import pytest

import snndsl

MODELS = Path(__file__).resolve().parent.parent / "models"


def snapshot(net) -> dict:
    """Every state of ``net`` by path: its class and its value's leaves as NumPy arrays (units dropped)."""
    return {path: (type(st).__name__, [np.asarray(u.get_mantissa(leaf)) for leaf in
                                       jax.tree_util.tree_leaves(st.value, is_leaf=u.math.is_quantity)])
            for path, st in net.states().items()}


def key() -> np.ndarray:
    """brainstate's global random key, as an array."""
    return np.asarray(jax.random.key_data(bs.random.get_key()))


@pytest.mark.parametrize("name", ["coba.snn", "hh.snn", "stdp.snn", "stp.snn", "shd.snn", "digits_online.snn"])
def test_same_states_as_eager(name):
    model = snndsl.load(MODELS / name)
    batch = 2 if model.program.trains else None
    jitted = model.network(seed=7)
    model.module._init_states(jitted, batch, jitted=True)
    key_jitted = key()
    eager = model.network(seed=7)
    bs.nn.init_all_states(eager, batch_size=batch)
    key_eager = key()
    a, b = snapshot(jitted), snapshot(eager)
    assert a.keys() == b.keys() and len(a) > 0
    for path in a:
        assert a[path][0] == b[path][0], path
        assert len(a[path][1]) == len(b[path][1]), path
        for x, y in zip(a[path][1], b[path][1]):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=0, err_msg=str(path))
    np.testing.assert_array_equal(key_jitted, key_eager)


TINY = """\
import LIF from "std"
network Tiny {
    dt = 1 ms
    pop a = LIF(6, tau = 10 ms, V_th = 1 mV, V_reset = 0 mV, V_rest = 0 mV, V = uniform(0.5 mV, 4 mV))
    connect a -> a: dense(w = normal(0.6 mA, 0.3 mA))
    output a
}
"""


def test_loops_carry_the_states():
    """Ten steps in a brainstate loop after each initialisation: the same spikes and final states (the loop
    writes the membranes and carried spikes created by ``_init_states``)."""
    model = snndsl.loads(TINY, "tiny.snn")
    results = []
    for init in (lambda net: model.module._init_states(net, jitted=True), lambda net: bs.nn.init_all_states(net)):
        net = model.network(seed=3)
        init(net)
        spikes = bs.transform.for_loop(lambda i: net.update(), np.arange(10))
        results.append((np.asarray(u.get_mantissa(spikes)), snapshot(net)))
    (s1, states1), (s2, states2) = results
    assert s1.sum() > 0 and not np.all(s1 == s1[0])
    np.testing.assert_array_equal(s1, s2)
    for path in states1:
        for x, y in zip(states1[path][1], states2[path][1]):
            np.testing.assert_array_equal(x, y, err_msg=str(path))


def test_one_program_only_with_the_persistent_cache(monkeypatch):
    """By default the states are initialised in one program only when JAX's persistent compilation cache is
    on (``snndsl run`` and ``train`` turn it on): without it the one program would be compiled again at every
    call, while the eager operations are compiled once per process."""
    model = snndsl.loads(TINY, "tiny.snn")
    caught = []
    real = bs.catch_new_states

    def spy(*args, **kwargs):
        caught.append(True)
        return real(*args, **kwargs)

    monkeypatch.setattr(bs, "catch_new_states", spy)
    assert not jax.config.jax_compilation_cache_dir               # the suite runs without the cache
    model.module._init_states(model.network(seed=3))
    assert caught == []
    class CachedJax(types.ModuleType):
        """``jax`` as the module sees it, its configuration saying the persistent cache is on."""
        config = types.SimpleNamespace(jax_compilation_cache_dir="/some/cache")

        def __getattr__(self, name):
            return getattr(jax, name)

    monkeypatch.setattr(model.module, "jax", CachedJax("jax"))
    net = model.network(seed=3)
    model.module._init_states(net)
    assert caught == [True]
    assert net.a.V.value.shape == (6,)
