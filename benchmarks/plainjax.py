"""The plain-JAX contenders: the benchmark networks as pure functions over arrays (no units, no modules, no
brainstate), ``jax.lax.scan`` over time, ``jax.value_and_grad``, a hand-written Adam; COBA as an event-driven
``lax.fori_loop``. Same arithmetic as the compiled and handwritten networks (brainpy.state's LIF/Expon update
order, exponential Euler, the ReluGrad surrogate), written the way one would write them directly in JAX.

Nothing here imports snndsl or brainstate.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


@jax.custom_jvp
def spike(x):
    """Heaviside (H(0) = 1) with brainpy's default ReluGrad(alpha = 0.3, width = 1) surrogate gradient."""
    return (x >= 0).astype(x.dtype)


@spike.defjvp
def _spike_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return spike(x), jnp.maximum(0.3 - 0.3 * jnp.abs(x), 0.0) * dx


def lif_step(v, current, decay, v_th=1.0, v_reset=0.0, v_rest=0.0):
    """brainpy.state.LIF (soft reset, R = 1): reset from the stored V's spike, integrate exactly, new spike."""
    scale = v_th - v_reset
    v = v - scale * spike((v - v_th) / scale)
    v = v_rest + (v - v_rest) * decay + (1.0 - decay) * current
    return v, spike((v - v_th) / scale)


def adam_step(loss_fn, params, lr: float):
    """``(step, state)`` for ``loss_fn(p, x, y) -> (loss, prediction [B, classes])``: ``state, loss, acc =
    step(state, x, y)`` jitted, one Adam update (β = 0.9 / 0.999, ε = 1e-8, as braintools' Adam) of the
    parameters in ``state = (params, m, v, t)``; ``acc`` the fraction of samples whose largest prediction is
    the label."""

    @jax.jit
    def step(state, x, y):
        p, m, v, t = state
        (loss, pred), g = jax.value_and_grad(loss_fn, has_aux=True)(p, x, y)
        t = t + 1
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        p = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + 1e-8), p, m, v)
        return (p, m, v, t), loss, jnp.mean(jnp.argmax(pred, axis=-1) == y)

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return step, (params, zeros, zeros, jnp.zeros((), jnp.float32))


def make_train_step(params, recurrent: bool, tau_out: float, lr: float, dt: float = 1.0):
    """``(step, state)``: ``state, loss, acc = step(state, x [T, B, N], y [B])`` jitted; ``state`` holds the
    parameters (``w_in``, ``b_in``, [``w_rec``], ``w_out``, ``b_out``) and Adam's moments."""
    d_mem, d_syn, d_out = math.exp(-dt / 20.0), math.exp(-dt / 5.0), math.exp(-dt / tau_out)

    def loss_fn(p, x, y):
        b = x.shape[1]
        n_rec, n_out = p["w_in"].shape[1], p["w_out"].shape[1]
        z = jnp.zeros((b, n_rec), x.dtype)

        def body(carry, x_t):
            v, g_in, g_rec, g_out, acc = carry
            g_in = g_in * d_syn + x_t @ p["w_in"] + p["b_in"]
            if recurrent:
                g_rec = g_rec * d_syn + spike(v - 1.0) @ p["w_rec"]     # last step's spikes
                current = g_in + g_rec
            else:
                current = g_in
            v, s = lif_step(v, current, d_mem)
            g_out = g_out * d_out + s @ p["w_out"] + p["b_out"]
            return (v, g_in, g_rec, g_out, acc + g_out), None

        init = (z, z, z, jnp.zeros((b, n_out), x.dtype), jnp.zeros((b, n_out), x.dtype))
        (_, _, _, _, acc), _ = jax.lax.scan(body, init, x)
        pred = acc / x.shape[0]
        logp = jax.nn.log_softmax(pred)
        loss = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        return loss, pred

    return adam_step(loss_fn, params, lr)


def params_from(net, recurrent: bool) -> dict:
    """The compiled network's parameters as plain arrays (mantissas: mA weights drive a 1-ohm membrane)."""
    import brainunit as u

    def m(x):
        return jnp.asarray(u.get_mantissa(x))

    p = {"w_in": m(net.x_to_hidden.weight.value["weight"]), "b_in": m(net.x_to_hidden.weight.value["bias"]),
         "w_out": m(net.hidden_to_out.weight.value["weight"]), "b_out": m(net.hidden_to_out.weight.value["bias"])}
    if recurrent:
        p["w_rec"] = m(net.hidden_to_hidden.weight.value["weight"])
    return p


# ------------------------------------------------------------------------------------------------ COBA


def _fixed_prob(n_pre, n_post, p, seed):
    """The same pairs as snndsl's ``fixed_prob`` (a uniform draw per pair from ``PRNGKey(seed)``), as
    ``(targets [n_pre, K], count [n_pre])``: each source's targets, padded to the largest out-degree."""
    mask = np.asarray(jax.random.uniform(jax.random.PRNGKey(seed), (n_pre, n_post)) < p)
    count = mask.sum(axis=1)
    k = max(int(count.max()), 1)
    order = np.argsort(~mask, axis=1, kind="stable")[:, :k]
    targets = np.where(np.take_along_axis(mask, order, axis=1), order, n_post)
    return jnp.asarray(targets, jnp.int32), jnp.asarray(count, jnp.int32)


def _deliver(spikes, targets, weight, n_post, block=64):
    """Event-driven: visit only the sources that spiked (found block by block), each adding ``weight`` to
    its targets; a scatter over every synapse when more than a quarter spiked."""
    n_pre = spikes.shape[0]
    n_blocks = -(-n_pre // block)
    active = jnp.pad(spikes, (0, n_blocks * block - n_pre)).reshape(n_blocks, block)
    counts = active.sum(axis=1, dtype=jnp.int32)
    total = counts.sum()

    def visit(_, carry):
        g, active, counts = carry
        b = jnp.argmax(counts > 0)
        k = jnp.argmax(active[b])
        g = g.at[targets[b * block + k]].add(weight)
        return g, active.at[b, k].set(False), counts.at[b].add(-1)

    def sparse(_):
        return jax.lax.fori_loop(0, total, visit, (jnp.zeros(n_post + 1), active, counts))[0][:n_post]

    def dense(_):
        return jnp.zeros(n_post + 1).at[targets].add(jnp.where(spikes[:, None], weight, 0.0))[:n_post]

    return jax.lax.cond(total <= n_pre // 4, sparse, dense, None)


def coba_runner(steps: int, n_exc: int = 3200, n_inh: int = 800, p: float = 0.02, dt: float = 0.1):
    """``run(key)`` → total spike count of a fresh COBA network over ``steps`` steps (jitted). Units: mV, ms,
    nS, pF, pA (nS x mV = pA). Every projection delivers the previous step's spikes, as models/coba.snn."""
    conn = {"ee": _fixed_prob(n_exc, n_exc, p, 1), "ei": _fixed_prob(n_exc, n_inh, p, 2),
            "ie": _fixed_prob(n_inh, n_exc, p, 3), "ii": _fixed_prob(n_inh, n_inh, p, 4)}
    d_e, d_i = math.exp(-dt / 5.0), math.exp(-dt / 10.0)
    tau, c, v_rest, v_th, i_b, t_ref = 20.0, 200.0, -60.0, -50.0, 200.0, 5.0

    def lif(v, last, g_e, g_i, t):
        v = jnp.where(v >= v_th, v_rest, v)                       # hard reset from last step's spike
        held = v
        b = -1.0 / tau - (g_e + g_i) / c                           # dV/dt = a + b V
        a = v_rest / tau + (g_i * -80.0 + i_b) / c
        v = v + jnp.expm1(b * dt) / b * (a + b * v)                # exponential Euler (exact here)
        v = jnp.where(t - last < t_ref, held, v)
        s = v >= v_th
        return v, jnp.where(s, t, last), s

    def step(i, st):
        v_e, v_i, l_e, l_i, g_ee, g_ei, g_ie, g_ii, s_e, s_i, n = st
        t = i * dt
        g_ee = g_ee * d_e + _deliver(s_e, conn["ee"][0], 6.0, n_exc)
        g_ie = g_ie * d_i + _deliver(s_i, conn["ie"][0], 67.0, n_exc)
        g_ei = g_ei * d_e + _deliver(s_e, conn["ei"][0], 6.0, n_inh)
        g_ii = g_ii * d_i + _deliver(s_i, conn["ii"][0], 67.0, n_inh)
        v_e, l_e, s_e = lif(v_e, l_e, g_ee, g_ie, t)
        v_i, l_i, s_i = lif(v_i, l_i, g_ei, g_ii, t)
        return v_e, v_i, l_e, l_i, g_ee, g_ei, g_ie, g_ii, s_e, s_i, n + s_e.sum() + s_i.sum()

    @jax.jit
    def run(key):
        k1, k2 = jax.random.split(key)
        v_e = jax.random.uniform(k1, (n_exc,), minval=-60.0, maxval=-50.0)
        v_i = jax.random.uniform(k2, (n_inh,), minval=-60.0, maxval=-50.0)
        ze, zi = jnp.zeros(n_exc), jnp.zeros(n_inh)
        st = (v_e, v_i, ze - 1e7, zi - 1e7, ze, zi, ze, zi, v_e >= v_th, v_i >= v_th, jnp.int32(0))
        return jax.lax.fori_loop(0, steps, step, st)[-1]

    return run
