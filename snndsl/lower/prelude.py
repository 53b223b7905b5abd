"""Helpers of the emitted modules: each top-level definition here is copied verbatim into every
module that uses it, with the definitions it uses in turn (:func:`snndsl.lower.needed` finds them
from the code).

It is ordinary, tested Python (no model data passes through it), so an emitted module needs nothing
from snndsl at run time: only jax, brainstate, brainunit and braintools (and braintrace, imported
only by a module trained online). Lines stay within 99 characters (the emitted modules' width).
"""

import brainstate as bs
import braintools as bt
import braintrace
import brainunit as u
import jax
import jax.numpy as jnp

def _state(value, size, batch_size=None):
    """A state's initial value (constant, array or initialiser) at its full shape
    ``((batch,) size)``, strongly typed: a weakly typed value (from a Python number) would come
    back strongly typed from the first jitted step, and the second step would be traced and
    compiled again."""
    shape = (size,) if batch_size is None else (batch_size, size)
    return _strong(u.math.broadcast_to(bt.init.param(value, (size,), batch_size), shape))


def _strong(value):
    """``value`` with every weakly typed array (e.g. from a Python number) made strongly typed."""
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a).astype(jnp.asarray(a).dtype), value)


def _typed(states):
    """``states`` (a dict of States) with strongly typed values, set in place: a weakly typed
    parameter (e.g. a ``ZeroInit`` bias) comes back strongly typed from the first training step,
    which would make the second step compile again."""
    for state in states.values():
        state.value = _strong(state.value)
    return states


def _port(I, V):
    """The input of a port: a current, or a function of the membrane (conductance inputs)."""
    return I(V) if callable(I) else I


def _rk4(f, x):
    """One classical Runge-Kutta step of dx/dt = f(x) over the environment's dt."""
    dt = bs.environ.get_dt()
    k1 = f(x)
    k2 = f(x + dt / 2 * k1)
    k3 = f(x + dt / 2 * k2)
    k4 = f(x + dt * k3)
    return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _fixed_prob_mask(n_pre, n_post, p, seed):
    """Each pre-post pair connected independently with probability ``p`` (reproducible from
    ``seed``)."""
    return jax.random.uniform(jax.random.PRNGKey(seed), (n_pre, n_post)) < p


def _sparse_op(pre, post, n_pre, n_post, events=True):
    """``f(x, w)``: ``y[..., post[k]] += x[..., pre[k]] * w[k]`` over the synapses ``k`` (sorted by
    ``pre``).

    ``events=True`` (spiking sources): event-driven, only the sources with ``x != 0`` this step are
    visited, each adding its own outgoing weights (a contiguous run of ``w``); exact for any ``x``,
    and when more than a quarter of the sources are active it takes the pass over every synapse
    instead (same sum, cheaper then). ``events=False``: the pass over every synapse (a
    scatter-add). Either way the gradient is the exact transpose and keeps only ``x`` and ``w``
    (not ``x`` gathered per synapse, which would cost batch x synapses per step in backpropagation
    through time)."""
    n_syn = int(pre.shape[0])
    deg = jnp.bincount(pre, length=n_pre).astype(jnp.int32)
    start = (jnp.cumsum(deg) - deg).astype(jnp.int32)
    width = max(int(deg.max()) if n_syn else 0, 1)
    block = 64

    def dense(x, w):
        """The pass over every synapse: a scatter-add of ``x[..., pre] * w`` into ``post``."""
        y = jnp.zeros(x.shape[:-1] + (n_post,), jnp.result_type(x, w))
        return y.at[..., post].add(x[..., pre] * w)

    def sparse(x, w):
        """Event-driven: visit the nonzero entries of ``x`` (flattened over its leading axes),
        found block by block (64 entries each), each adding its ``deg[i]`` outgoing weights."""
        lead = x.shape[:-1]
        rows = x.reshape((-1, n_pre))
        n_rows = rows.shape[0]
        flat = rows.reshape(-1)
        size = flat.shape[0]
        n_blocks = -(-size // block)
        active = jnp.pad(flat != 0, (0, n_blocks * block - size)).reshape(n_blocks, block)
        counts = active.sum(axis=1, dtype=jnp.int32)
        total = counts.sum()
        dtype = jnp.result_type(x, w)
        lanes = jnp.arange(width, dtype=jnp.int32)

        def visit(_, carry):
            """Add the outgoing weights of the next active source (the first block with an active
            entry, then its first active entry), and mark it visited."""
            y, active, counts = carry
            b = jnp.argmax(counts > 0)
            k = jnp.argmax(active[b])
            flat_i = b * block + k
            r, i = flat_i // n_pre, flat_i % n_pre
            first = jnp.minimum(start[i], n_syn - width)
            offset = start[i] - first
            keep = (lanes >= offset) & (lanes < offset + deg[i])
            targets = jax.lax.dynamic_slice(post, (first,), (width,))
            weights = jax.lax.dynamic_slice(w, (first,), (width,))
            y = y.at[r, targets].add(jnp.where(keep, weights * flat[flat_i], 0).astype(dtype))
            return y, active.at[b, k].set(False), counts.at[b].add(-1)

        def each_event(_):
            """Visit each of the ``total`` active sources once, starting from ``y = 0``
            (``[rows, n_post]``)."""
            y0 = jnp.zeros((n_rows, n_post), dtype)
            y = jax.lax.fori_loop(0, total, visit, (y0, active, counts))[0]
            return y.reshape(lead + (n_post,))

        return jax.lax.cond(total <= max(size // 4, 1), each_event, lambda _: dense(x, w), None)

    @jax.custom_vjp
    def op(x, w):
        """``y[..., post[k]] += x[..., pre[k]] * w[k]``: ``x`` ``[..., n_pre]`` to ``y``
        ``[..., n_post]``."""
        return sparse(x, w) if events and n_syn >= width else dense(x, w)

    def fwd(x, w):
        """The forward pass, keeping ``(x, w)``: all the transpose needs."""
        return op(x, w), (x, w)

    def bwd(res, g):
        """The exact transpose: ``gx[..., pre[k]] += g[..., post[k]] * w[k]``, and ``gw[k]`` the
        sum over the leading axes of ``x[..., pre[k]] * g[..., post[k]]``."""
        x, w = res
        g_post = g[..., post]
        gx = jnp.zeros(x.shape, g.dtype).at[..., pre].add(g_post * w).astype(x.dtype)
        gw = (x[..., pre] * g_post).sum(axis=tuple(range(x.ndim - 1))).astype(w.dtype)
        return gx, gw

    op.defvjp(fwd, bwd)
    return op


class _SparseProb(bs.nn.Module):
    """Fixed-probability connectivity stored sparsely: ``(pre, post)`` index pairs and one
    trainable weight per synapse, ``y[post] += w * x[pre]`` (memory and work O(synapses), not
    O(pre x post)); see :func:`_sparse_op`."""

    events = False

    def __init__(self, n_pre, n_post, p, w_init, seed):
        """The pairs of :func:`_fixed_prob_mask` (``n_pre`` x ``n_post``, probability ``p``,
        ``seed``) in row-major order (sorted by pre), one weight each from ``w_init``."""
        super().__init__()
        mask = _fixed_prob_mask(n_pre, n_post, p, seed)
        pre, post = jnp.nonzero(mask)
        self.pre, self.post, self.n_post = pre.astype(jnp.int32), post.astype(jnp.int32), n_post
        self.weight = bs.ParamState(bt.init.param(w_init, (pre.shape[0],)))
        self.op = _sparse_op(self.pre, self.post, n_pre, n_post, self.events)

    def update(self, x):
        """The weighted input ``[..., n_post]`` from ``x`` ``[..., n_pre]`` (0/1 spikes or values),
        in the unit of the weights times that of ``x``."""
        w = self.weight.value
        unit = u.get_unit(w) * u.get_unit(x)
        w, x = u.get_mantissa(w), u.get_mantissa(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(w.dtype)
        return u.maybe_decimal(u.Quantity(self.op(x, w), unit=unit))


class _EventProb(_SparseProb):
    """:class:`_SparseProb` from a spiking source, delivered event-driven: each step only the
    sources that spiked add their outgoing weights."""

    events = True


class _OneToOne(bs.nn.Module):
    """``y_i = w_i x_i``: one trainable weight per neuron."""

    def __init__(self, size, w_init):
        """``size`` weights (pre and post have that size) from ``w_init``."""
        super().__init__()
        self.weight = bs.ParamState(bt.init.param(w_init, (size,)))

    def update(self, x):
        """``x * w``, element by element (``x`` ``[..., size]``)."""
        return x * self.weight.value


class _Delay(bs.nn.Module):
    """A ring buffer delaying a signal by a whole number of steps (``read`` before ``write`` each
    step)."""

    def __init__(self, steps, size):
        """A delay of ``steps`` >= 1 steps for a signal of ``size`` channels."""
        super().__init__()
        self.steps, self.size = steps, size

    def init_state(self, batch_size=None, **kwargs):
        """``buffer`` ``[steps, (batch_size,) size]`` of zeros (nothing arrives during the first
        ``steps`` steps) and the write position ``index``."""
        shape = (self.steps,) + (() if batch_size is None else (batch_size,)) + (self.size,)
        self.buffer = bs.HiddenState(jnp.zeros(shape))
        self.index = bs.ShortTermState(jnp.zeros((), dtype=jnp.int32))

    def reset_state(self, batch_size=None, **kwargs):
        """The buffer emptied (zeros) and the position back to 0."""
        shape = (self.steps,) + (() if batch_size is None else (batch_size,)) + (self.size,)
        self.buffer.value = jnp.zeros(shape)
        self.index.value = jnp.zeros((), dtype=jnp.int32)

    def read(self):
        """The value written ``steps`` steps ago (zeros before that)."""
        return self.buffer.value[self.index.value]

    def write(self, x):
        """Store this step's ``x`` at the current position, which then advances (mod ``steps``)."""
        self.buffer.value = self.buffer.value.at[self.index.value].set(x)
        self.index.value = (self.index.value + 1) % self.steps


class _LastStep(bs.nn.Module):
    """A delay of exactly one step: one state holding last step's value (``read`` before
    ``write`` each step), the ring buffer of :class:`_Delay` without its position."""

    def __init__(self, size):
        """A one-step delay for a signal of ``size`` channels."""
        super().__init__()
        self.size = size

    def init_state(self, batch_size=None, **kwargs):
        """``last`` ``[(batch_size,) size]`` of zeros: nothing arrives at the first step."""
        shape = (() if batch_size is None else (batch_size,)) + (self.size,)
        self.last = bs.HiddenState(jnp.zeros(shape))

    def reset_state(self, batch_size=None, **kwargs):
        """``last`` back to zeros."""
        shape = (() if batch_size is None else (batch_size,)) + (self.size,)
        self.last.value = jnp.zeros(shape)

    def read(self):
        """The value written at the last step (zeros at the first)."""
        return self.last.value

    def write(self, x):
        """Keep this step's ``x`` for the next step."""
        self.last.value = x


def _bool_residual_dot():
    """``dot(s, w) = s @ w`` for 0/1 spikes ``s`` (exactly 0 or 1 in the forward pass), whose
    custom VJP keeps ``s`` as a boolean residual (a quarter of float32's bytes per step under
    backpropagation through time) and ``w``: the backward pass rebuilds ``s`` exactly and applies
    JAX's own transpose of ``dot`` to it (ds = g w^T, dw = s^T g): the same numbers."""

    @jax.custom_vjp
    def dot(s, w):
        return jnp.dot(s, w)

    def fwd(s, w):                  # keeps s != 0 (booleans) and w
        return jnp.dot(s, w), (s != 0, w)

    def bwd(res, g):                # (g w^T, s^T g): JAX's own transpose of dot at the rebuilt s
        fired, w = res
        return jax.vjp(jnp.dot, fired.astype(w.dtype), w)[1](g)

    dot.defvjp(fwd, bwd)
    return dot


def _spike_dense(linear, s):
    """``linear(s)`` (a ``bs.nn.Linear``: y = s (W * mask) + b) for 0/1 spikes ``s``, the product
    through :func:`_bool_residual_dot`: the same values, and the same gradients for ``s`` (the
    surrogate path) and the weights, with the spikes kept as booleans for the backward pass."""
    params = linear.weight.value
    w = params["weight"]
    if linear.w_mask is not None:
        w = w * linear.w_mask
    unit = u.get_unit(w) * u.get_unit(s)
    w, s = u.get_mantissa(w), u.get_mantissa(s)
    if not jnp.issubdtype(s.dtype, jnp.floating):
        s = s.astype(w.dtype)
    y = u.maybe_decimal(u.Quantity(_bool_residual_dot()(s, w), unit=unit))
    if "bias" in params:
        y = y + params["bias"]
    return y


def _segment_length(steps, base):
    """Steps per checkpointed segment: at least ``base`` and about sqrt(steps) / 2 (memory ~
    steps/s network states plus s steps of activations; a state is smaller than a step's
    activations), a divisor of ``steps`` when one lies within 25 % above that (else the remainder
    is one shorter segment)."""
    s = max(int(base), round(steps ** 0.5 / 2))
    return next((d for d in range(s, s + s // 4 + 1) if steps % d == 0), s)


def _loop(step, carry, x, segment=None, project=None):
    """Run ``step(carry, inputs_t) -> (carry, y_t)`` over the time axis (axis 0) of ``x``; returns
    the last carry and the ``y_t`` stacked over time. The network's states are carried along
    (brainstate's ``scan``). ``inputs_t`` is ``(x_t,)``, or ``(x_t, project(x)_t)`` with
    ``project``: the weighted inputs that depend on the data alone, computed for a whole segment of
    steps in one product.

    ``segment=None``: one scan; backpropagation through time keeps every step's activations (memory
    ~ T). ``segment=b``: a two-level scan: segments of ``s = _segment_length(T, b)`` steps (about
    sqrt(T) / 2) under ``checkpoint``, so the forward pass keeps only the state at segment
    boundaries and the backward pass recomputes one segment at a time: memory ~ T/s + s steps, for
    about one extra forward pass."""
    x = jnp.asarray(x)
    steps = x.shape[0]

    def run(carry, x_segment):
        """One scan of ``step`` over ``x_segment``, with the projected inputs of that segment."""
        inputs = (x_segment,) if project is None else (x_segment, project(x_segment))
        return bs.transform.scan(step, carry, inputs)

    s = steps if segment is None else _segment_length(steps, segment)
    if s >= steps:
        return run(carry, x)
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


def _lookup(net, path):
    """``net``'s value at ``pop.var`` (a state), or ``pop`` (its output), for recording."""
    pop, _, var = path.partition(".")
    module = getattr(net, pop)
    return getattr(module, var).value if var else module.output()


def simulate(net, inputs=(), steps=None, batch_size=None, record=()):
    """Run ``net`` from a fresh state over time-major ``inputs`` (one array ``[T, (B,) N]`` per
    network input without an encoder; ``steps`` when there are none). Returns
    ``(outputs, records)``: the network's outputs stacked over time, and ``{path: [T, ...]}`` for
    each ``pop.var`` (or ``pop``) in ``record``."""
    bs.nn.init_all_states(net, batch_size=batch_size)
    if steps is None:
        steps = inputs[0].shape[0]

    def step(i, *xs):
        """Step ``i``: ``xs`` are this step's data inputs; returns the outputs and the records."""
        out = net.update(*xs)
        return out, {path: _lookup(net, path) for path in record}

    return bs.transform.for_loop(step, jnp.arange(steps), *inputs)
