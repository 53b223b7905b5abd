"""Helpers of the emitted modules for training: the spike products of the lowering passes (their
custom gradients) and the merged synapses' check, the time loop with its segments and
checkpointing, the windows of truncated BPTT, online learning, and the metrics of a train step. A
third part of :mod:`snndsl.lower.prelude`, read and copied the same way (each top-level definition
goes verbatim into every module that uses it). Lines stay within 99 characters (the emitted
modules' width).
"""

import brainstate as bs
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np


def _bool_residual_dot(narrow=False):
    """``dot(s, w) = s @ w`` for 0/1 spikes ``s`` (exactly 0 or 1 in the forward pass), whose
    custom VJP keeps ``s`` as a boolean residual (a quarter of float32's bytes per step under
    backpropagation through time) and ``w``: the backward pass rebuilds ``s`` exactly and applies
    JAX's own transpose of ``dot`` to it (ds = g w^T, dw = s^T g): the same numbers. With
    ``narrow`` (a target of few neurons), on the CPU, dw = s^T g is computed from a materialised
    transpose of ``s`` (kept apart by an optimisation barrier, which XLA would otherwise fold into
    the product's dimensions): XLA's CPU backend then uses its fast matrix-product kernel, where
    the product contracted over the leading axis of ``s`` takes a slow path. The same sums of
    products, in another order: equal to float32 rounding."""

    @jax.custom_vjp
    def dot(s, w):
        return jnp.dot(s, w)

    def fwd(s, w):                  # keeps s != 0 (booleans) and w
        return jnp.dot(s, w), (s != 0, w)

    def bwd(res, g):                # (g w^T, s^T g): JAX's own transpose of dot at the rebuilt s
        fired, w = res
        s = fired.astype(w.dtype)
        ds, dw = jax.vjp(jnp.dot, s, w)[1](g)
        if narrow and s.ndim == 2 and jax.default_backend() == "cpu":
            dw = jax.lax.optimization_barrier(s.T) @ g
        return ds, dw

    dot.defvjp(fwd, bwd)
    return dot


def _spike_dense(linear, s, narrow=False):
    """``linear(s)`` (a ``bs.nn.Linear``: y = s (W * mask) + b) for 0/1 spikes ``s``, the product
    through :func:`_bool_residual_dot` (``narrow``: its weight gradient for a target of few
    neurons): the same values, and the same gradients for ``s`` (the surrogate path) and the
    weights, with the spikes kept as booleans for the backward pass."""
    params = linear.weight.value
    w = params["weight"]
    if linear.w_mask is not None:
        w = w * linear.w_mask
    unit = u.get_unit(w) * u.get_unit(s)
    w, s = u.get_mantissa(w), u.get_mantissa(s)
    if not jnp.issubdtype(s.dtype, jnp.floating):
        s = s.astype(w.dtype)
    y = u.maybe_decimal(u.Quantity(_bool_residual_dot(narrow)(s, w), unit=unit))
    if "bias" in params:
        y = y + params["bias"]
    return y


def _same_synapses(modules, params, inits):
    """Whether the synapse modules ``modules`` (one linear model onto one port, merged in the train
    step) can run as one, fed the sum of their inputs: each parameter named in ``params`` holds the
    same values in all of them, and each initial state named in ``inits`` is unset (the model's
    zero) or zero everywhere. Read from the values the modules hold when the step is traced (a
    parameter file may have changed them since the module was compiled); a value that is not a
    plain array there (a trained parameter's state, a traced value) counts as different."""
    def plain(value):
        if isinstance(value, bs.State):
            return None
        try:
            return str(u.get_unit(value)), np.asarray(u.get_mantissa(value))
        except Exception:  # noqa: BLE001 - not a concrete number (e.g. traced): not comparable
            return None

    for name in params:
        first = plain(getattr(modules[0], name))
        for module in modules[1:]:
            other = plain(getattr(module, name))
            if first is None or other is None or first[0] != other[0] \
                    or not np.array_equal(first[1], other[1]):
                return False
    for module in modules:
        for name in inits:
            value = getattr(module, name)
            if value is not None and ((v := plain(value)) is None or np.any(v[1] != 0)):
                return False
    return True


def _segment_length(steps, base):
    """Steps per checkpointed segment: at least ``base`` and about sqrt(steps) / 2 (memory ~
    steps/s network states plus s steps of activations; a state is smaller than a step's
    activations), a divisor of ``steps`` when one lies within 25 % above that (else the remainder
    is one shorter segment)."""
    s = max(int(base), round(steps ** 0.5 / 2))
    return next((d for d in range(s, s + s // 4 + 1) if steps % d == 0), s)


def _unroll(x, macs):
    """Steps per iteration of the scan over ``x`` ([T, B, ...]): 2 on the CPU when one step of the
    batch does at least 5e6 multiply-adds of dense products (``macs`` per sample, the compiler's
    count), else 1. Two steps per iteration let XLA run the independent products of both on the
    cores at once; with less work per step the extra threads cost more than they gain. Measured on
    two cores (docs/performance.md): 1.1-1.3 x the time at 1.7-3.8e6 multiply-adds per step,
    0.83-0.98 x from 5e6 (SHD-size, 1.6e7: 0.91 x). The same operations per step: the same
    values, to float32 rounding."""
    batch = x.shape[1] if x.ndim >= 3 else 1
    return 2 if macs * batch >= 5e6 and jax.default_backend() == "cpu" else 1


def _loop(step, carry, x, segment=None, project=None, macs=0):
    """Run ``step(carry, inputs_t) -> (carry, y_t)`` over the time axis (axis 0) of ``x``; returns
    the last carry and the ``y_t`` stacked over time. The network's states are carried along
    (brainstate's ``scan``). ``inputs_t`` is ``(x_t,)``, or ``(x_t, project(x)_t)`` with
    ``project``: the weighted inputs that depend on the data alone, computed for a whole segment of
    steps in one product.

    ``segment=None``: one scan; backpropagation through time keeps every step's activations (memory
    ~ T); ``macs`` (the multiply-adds of a step's dense products per sample) sets how many steps
    each iteration runs (:func:`_unroll`). ``segment=b``: a two-level scan: segments of
    ``s = _segment_length(T, b)`` steps (about sqrt(T) / 2) under ``checkpoint``, so the forward
    pass keeps only the state at segment boundaries and the backward pass recomputes one segment at
    a time: memory ~ T/s + s steps, for about one extra forward pass."""
    x = jnp.asarray(x)
    steps = x.shape[0]

    def run(carry, x_segment, unroll=1):
        """One scan of ``step`` over ``x_segment``, with the projected inputs of that segment."""
        inputs = (x_segment,) if project is None else (x_segment, project(x_segment))
        return bs.transform.scan(step, carry, inputs, unroll=unroll)

    s = steps if segment is None else _segment_length(steps, segment)
    if s >= steps:
        return run(carry, x, _unroll(x, macs))
    n = steps // s

    def segment_at(carry, i):
        """Segment ``i``: slices ``x`` inside the loop, so no copy of the input is made outside."""
        return run(carry, jax.lax.dynamic_slice_in_dim(x, i * s, s))

    segment_at = bs.transform.checkpoint(segment_at, prevent_cse=False)
    carry, ys = bs.transform.scan(segment_at, carry, jnp.arange(n))
    ys = jax.tree_util.tree_map(lambda a: a.reshape((n * s,) + a.shape[2:]), ys)
    if n * s < steps:
        carry, tail = bs.transform.checkpoint(run, prevent_cse=False)(carry, x[n * s:])
        ys = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), ys, tail)
    return carry, ys


def _windows(update, x, y, window=None):
    """Train on the time-major batch ``x`` [T, B, ...] window by window: ``update(x_w, y) ->
    (loss, accuracy, finite)`` takes one window of ``window`` steps (the last one shorter when
    ``window`` does not divide T; ``None``: a single window, the whole sequence), each starting
    from the state the window before left. Returns the loss and the accuracy averaged over the
    steps, each window weighted by its length n_w (L = sum_w n_w L_w / T), and, per parameter,
    whether every window's gradient was finite."""
    x = jnp.asarray(x)
    steps = x.shape[0]
    if window is None or window >= steps:
        return update(x, y)
    n = steps // window

    def at(i):                        # slices x inside: no copy of the input outside the loop
        return update(jax.lax.dynamic_slice_in_dim(x, i * window, window), y)

    loss, accuracy, finite = bs.transform.for_loop(at, jnp.arange(n))
    loss, accuracy = loss.sum() * window, accuracy.sum() * window
    finite = {k: jnp.all(v) for k, v in finite.items()}
    if n * window < steps:
        tail = steps - n * window
        last_loss, last_accuracy, last_finite = update(x[n * window:], y)
        loss, accuracy = loss + last_loss * tail, accuracy + last_accuracy * tail
        finite = {k: v & last_finite[k] for k, v in finite.items()}
    return loss / steps, accuracy / steps, finite


def _online(objective, params, x):
    """The online learning estimate of the gradient over the steps of ``x`` [T, B, ...]:
    ``objective(x_t) -> (loss, accuracy)`` runs one step through an online learner (braintrace),
    whose eligibility traces make the gradient of that step's loss with respect to ``params`` an
    estimate of its total derivative. Returns the mean over the steps of the gradients, the losses
    and the accuracies, grad = (1/T) sum_t dl_t/dtheta; nothing is kept per step, so memory does
    not grow with T."""
    grad = bs.transform.grad(objective, params, has_aux=True, return_value=True)

    def step(total, x_t):
        return jax.tree_util.tree_map(jnp.add, total, grad(x_t)), None

    zeros = jax.tree_util.tree_map(jnp.zeros_like, {k: s.value for k, s in params.items()})
    total, _ = bs.transform.scan(step, (zeros, jnp.zeros(()), jnp.zeros(())), x)
    return jax.tree_util.tree_map(lambda a: a / x.shape[0], total)


def _running_max(acc, x):
    """``max(acc, x)``, the gradient to the earlier value on ties; NaN propagates."""
    return jnp.where((acc >= x) | jnp.isnan(acc), acc, x)


def _accuracy(prediction, y):
    """Fraction of samples whose largest prediction is the label (NaN for regression):
    ``mean_b [argmax_k prediction[b, k] == y[b]]``, ``prediction`` ``[B, classes]``, ``y``
    ``[B]``."""
    if prediction is None:
        return jnp.nan
    return jnp.mean(jnp.argmax(u.get_mantissa(prediction), axis=-1) == y)


def _finite(grads):
    """Whether each gradient is finite, keyed like the parameters (to name the culprit): a dict
    from each parameter's path to a boolean scalar, true when every element of its leaves is."""
    return {k: jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(g)]))
            for k, g in grads.items()}
