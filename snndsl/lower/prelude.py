"""Helpers of the emitted modules: each top-level definition here is copied verbatim into every
module that uses it, with the definitions it uses in turn (:func:`snndsl.lower.needed` finds them
from the code).

It is ordinary, tested Python (no model data passes through it), so an emitted module needs nothing
from snndsl at run time: only jax, brainstate, brainunit and braintools (and braintrace, imported
only by a module trained online; numpy, JAX's own dependency, by a module that draws fixed_prob
connectivity on the host). Lines stay within 99 characters (the emitted modules' width).
"""

import hashlib

import brainstate as bs
import braintools as bt
import braintrace
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

def _state(value, size, batch_size=None):
    """A state's initial value (constant, array or initialiser) at its full shape
    ``((batch,) size)``, strongly typed: a weakly typed value (from a Python number) would come
    back strongly typed from the first jitted step, and the second step would be traced and
    compiled again."""
    shape = (size,) if batch_size is None else (batch_size, size)
    return _strong(u.math.broadcast_to(bt.init.param(value, (size,), batch_size), shape))


def _load_array(path, key, digest):
    """The array ``key`` of the ``.npz`` file ``path`` (of an ``.npy`` file: key None), read
    without pickles, as a JAX array of the default float dtype. Raises ``ValueError`` when its
    float64 bytes no longer have the SHA-256 ``digest`` taken when the model was checked: the
    file changed, so compile the model again (its shape and values are checked then)."""
    data = np.load(path, allow_pickle=False)
    if key is not None:
        with data:
            data = data[key]
    data = np.ascontiguousarray(data, dtype=np.float64)
    if hashlib.sha256(data.tobytes()).hexdigest() != digest:
        raise ValueError(f"{path} changed since the model was compiled; compile it again")
    return jnp.asarray(data, dtype=jnp.asarray(0.0).dtype)


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
    """One classical Runge-Kutta step of the system dx/dt = f(*x) over the environment's dt:
    ``x`` is the tuple of states, ``f`` returns the tuple of their derivatives; returns the new
    tuple."""
    dt = bs.environ.get_dt()
    def shift(k, h):
        return tuple(xi + h * ki for xi, ki in zip(x, k))
    k1 = f(*x)
    k2 = f(*shift(k1, dt / 2))
    k3 = f(*shift(k2, dt / 2))
    k4 = f(*shift(k3, dt))
    return tuple(xi + dt / 6 * (a + 2 * b + 2 * c + d)
                 for xi, a, b, c, d in zip(x, k1, k2, k3, k4))


def _exact(A, b, x, units):
    """One exact step of the linear system dx/dt = A x + b (b constant over the step):
    x(t + dt) = e^{A dt} x(t) + Phi b = x + Phi (A x + b), Phi = integral over [0, dt] of
    e^{A s} ds (the increment form is computed: exact in float32 near a large x), read off the
    exponential of the augmented matrix [[A dt, 1], [0, 0]] = [[e^{A dt}, Phi / dt], [0, 1]] (no
    inverse of A, so a singular A, e.g. a non-leaky integrator, is fine). ``A`` holds A dt and
    ``b`` b dt, nested tuples of dimensionless entries (scalars or arrays that broadcast), each
    state taken as its mantissa in ``units``; returns the new states with their units."""
    n = len(x)
    rows = [[jnp.asarray(u.maybe_decimal(a)) for a in row] for row in A]
    shape = jnp.broadcast_shapes(*(a.shape for row in rows for a in row))
    Adt = jnp.stack([jnp.stack([jnp.broadcast_to(a, shape) for a in row], -1) for row in rows], -2)
    eye = jnp.broadcast_to(jnp.eye(n, dtype=Adt.dtype), Adt.shape)
    M = jnp.concatenate([jnp.concatenate([Adt, eye], -1),
                         jnp.zeros(shape + (n, 2 * n), Adt.dtype)], -2)
    P = jax.scipy.linalg.expm(M)
    m = [u.maybe_decimal(xi / unit) for xi, unit in zip(x, units)]
    bdt = [u.maybe_decimal(bi) for bi in b]
    # increment form x + (Phi / dt)(A dt x + b dt), equal to e^{A dt} x + Phi b since
    # e^{A dt} - 1 = Phi A, without the float32 rounding of e^{A dt} ~ 1 times a large x
    # (a bias of |x| eps / (1 - e^{-dt/tau}))
    r = [sum(Adt[..., i, j] * m[j] for j in range(n)) + bdt[i] for i in range(n)]
    return tuple((m[i] + sum(P[..., i, n + j] * r[j] for j in range(n))) * units[i]
                 for i in range(n))


def _port_affine(I, V, unit):
    """A port's input as its value at the membrane ``V`` and its slope in V: ``(I, 0)`` for a
    current; for a function of V (conductance inputs, sums of g (E - V), affine in V)
    ``(I(V), (I(V + 1 unit) - I(V)) / 1 unit)``, exact for an affine function up to rounding."""
    if not callable(I):
        return I, 0.0 * (u.get_unit(I) / unit)
    at = I(V)
    return at, (I(V + 1.0 * unit) - at) / (1.0 * unit)


def _counter(size, batch_size=None):
    """An int32 counter per neuron, 0: ``[size]``, or ``[batch_size, size]``."""
    return jnp.zeros((size,) if batch_size is None else (batch_size, size), jnp.int32)


def _ref_steps(period):
    """A refractory period in whole steps of the environment's dt: ceil(period / dt), a ratio
    within 1e-3 of a whole number taken as that number (float rounding of e.g. 2 ms / 0.1 ms)."""
    ratio = u.maybe_decimal(period / bs.environ.get_dt())
    return jnp.ceil(jnp.asarray(ratio) - 1e-3).astype(jnp.int32)


def _fixed_prob_pairs(n_pre, n_post, p, seed):
    """The connected pairs of an ``n_pre`` x ``n_post`` fixed-probability connectivity: ``(pre,
    post)``, int32 arrays in row-major order (sorted by ``pre``, then ``post``), each pair present
    independently with probability ``p``. Drawn on the host with numpy, reproducible from ``seed``
    (``np.random.default_rng``): the flattened index of the next connected pair follows the last
    one by a gap ~ Geometric(p), so the work is O(connected pairs), not O(n_pre x n_post)."""
    total = n_pre * n_post
    rng = np.random.default_rng(seed)
    if p >= 1:
        flat = np.arange(total, dtype=np.int64)
    elif p <= 0 or total == 0:
        flat = np.zeros(0, np.int64)
    else:
        chunks, last = [], -1
        while last < total:           # almost always one draw: mean + 5 sigma + 64 gaps
            mean = total * p
            gaps = rng.geometric(p, int(mean + 5 * mean ** 0.5 + 64) if not chunks else 1024)
            chunks.append(last + np.cumsum(gaps, dtype=np.int64))
            last = int(chunks[-1][-1])
        flat = np.concatenate(chunks)
        flat = flat[flat < total]
    return (flat // n_post).astype(np.int32), (flat % n_post).astype(np.int32)


def _fixed_prob_mask(n_pre, n_post, p, seed):
    """Each pre-post pair connected independently with probability ``p`` (reproducible from
    ``seed``): the pairs of :func:`_fixed_prob_pairs` as a boolean ``[n_pre, n_post]`` mask."""
    pre, post = _fixed_prob_pairs(n_pre, n_post, p, seed)
    mask = np.zeros((n_pre, n_post), bool)
    mask[pre, post] = True
    return jax.device_put(mask)


def _host_param(init, shape):
    """``bt.init.param(init, shape)``, with a constant initialiser filled on the host (numpy, then
    one transfer, strongly typed in JAX's default float type): no small device computation, each of
    which would cost one XLA compilation while the network is built."""
    if not isinstance(init, bt.init.Constant):
        return bt.init.param(init, shape)
    mantissa, unit = u.split_mantissa_unit(init.value)
    dtype = jax.dtypes.canonicalize_dtype(np.result_type(np.asarray(mantissa).dtype, np.float32))
    value = jax.device_put(np.full(shape, np.asarray(mantissa), dtype))
    return u.maybe_decimal(u.Quantity(value, unit=unit * init.unit))


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
    pre, post = np.asarray(pre), np.asarray(post)
    n_syn = int(pre.shape[0])
    deg = np.bincount(pre, minlength=n_pre).astype(np.int32)
    start = (np.cumsum(deg) - deg).astype(np.int32)
    width = max(int(deg.max()) if n_syn else 0, 1)
    pre, post, deg, start = (jax.device_put(a) for a in (pre, post, deg, start))
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
        """The pairs of :func:`_fixed_prob_pairs` (``n_pre`` x ``n_post``, probability ``p``,
        ``seed``, drawn on the host) in row-major order (sorted by pre), one weight each from
        ``w_init``."""
        super().__init__()
        pre, post = _fixed_prob_pairs(n_pre, n_post, p, seed)
        self.pre, self.post, self.n_post = jax.device_put(pre), jax.device_put(post), n_post
        self.weight = bs.ParamState(_host_param(w_init, (pre.shape[0],)))
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


def _lookup(net, path):
    """``net``'s value at ``pop.var`` (a state), or ``pop`` (its output), for recording."""
    pop, _, var = path.partition(".")
    module = getattr(net, pop)
    return getattr(module, var).value if var else module.output()


def _init_states(net, batch_size=None, jitted=None):
    """``bs.nn.init_all_states(net, batch_size=batch_size)``, with ``jitted`` as one XLA program:
    the states it creates are caught, their values returned from a jitted call and restored on them
    after, and their trace level lowered by the one the jit added (as ``bs.transform.eval_shape``
    does with the states it creates), so later loops carry them; the global random state is
    threaded through the call as through any jitted step. Run eagerly, every operation of the
    initialisers (a random draw, a broadcast, the carried spike's H(x)) is a program of its own:
    ~30 for models/coba.snn, 0.2 s to load them one by one from JAX's persistent compilation cache
    where one program loads in 0.06 s; but JAX keeps those small programs for the rest of the
    process, while the one program is traced and compiled again at every call (0.3 s each for
    COBA without the cache). ``jitted=None``: one program when the persistent cache is on (as the
    command line's ``run`` and ``train`` turn it on), else eager. The same values: draws,
    constants and counters bit for bit, values computed from them (a gate's steady state) to
    float32 rounding, as XLA fuses the arithmetic of one program."""
    if jitted is None:
        jitted = bool(jax.config.jax_compilation_cache_dir)
    if not jitted:
        bs.nn.init_all_states(net, batch_size=batch_size)
        return
    caught = []

    def init():
        with bs.catch_new_states() as catcher:
            bs.nn.init_all_states(net, batch_size=batch_size)
        caught.append(catcher)
        return catcher.get_state_values()

    values = bs.transform.jit(init)()
    for state, value in zip(caught[0].states, values):
        state.restore_value(value)
    caught[0].decrease_stack_level()


def simulate(net, inputs=(), steps=None, batch_size=None, record=(), spikes=(), outputs=True,
             thin=(), every=1, counts=False):
    """Run ``net`` from a fresh state over time-major ``inputs`` (one array ``[T, (B,) N]`` per
    network input without an encoder; ``steps`` when there are none). Returns
    ``(outputs, records)``: the network's outputs stacked over time (``None`` with
    ``outputs=False``: nothing kept), and ``{path: [T, ...]}`` for each ``pop.var`` (or ``pop``)
    in ``record`` and each ``pop`` in ``spikes``, the latter as booleans (``output != 0``: one
    byte per neuron and step instead of four), or with ``counts=True`` as each neuron's number of
    spikes over the run (``[(B,) N]`` int32, summed inside the loop: nothing per step is kept);
    each path in ``thin`` is recorded only at the last step of every block of ``every`` steps
    (``[T // every, ...]``: long records of large states)."""
    _init_states(net, batch_size)
    if steps is None:
        steps = inputs[0].shape[0]

    def step(i, *xs):
        """Step ``i``: ``xs`` are this step's data inputs; returns the outputs and the records."""
        out = net.update(*xs)
        recs = {path: _lookup(net, path) for path in record}
        recs.update({path: u.get_mantissa(_lookup(net, path)) != 0 for path in spikes})
        return (out if outputs else None), recs

    if counts and not thin:
        def counted(tally, x):
            """One step, its spikes added to ``tally`` instead of being kept."""
            out, recs = step(*x)
            tally = {path: tally[path] + recs.pop(path) for path in spikes}
            return tally, (out, recs)

        tally = {}
        for path in spikes:                 # each population's output shape, nothing computed
            shape = jax.eval_shape(lambda path=path: _lookup(net, path)).shape
            tally[path] = jnp.zeros(shape, jnp.int32)
        xs = (jnp.arange(steps),) + tuple(inputs)
        tally, (outs, recs) = bs.transform.scan(counted, tally, xs)
        return outs, {**recs, **tally}
    if not thin:
        return bs.transform.for_loop(step, jnp.arange(steps), *inputs)
    n = steps // every

    def block(b, *xs):
        """Block ``b`` of ``every`` steps (``xs`` its inputs); then the thinned records."""
        ys = bs.transform.for_loop(step, jnp.arange(every), *xs)
        return ys, {path: _lookup(net, path) for path in thin}

    xs = [x[:n * every].reshape((n, every) + x.shape[1:]) for x in inputs]
    (outs, recs), thinned = bs.transform.for_loop(block, jnp.arange(n), *xs)
    flat = jax.tree_util.tree_map(lambda a: a.reshape((n * every,) + a.shape[2:]), (outs, recs))
    if n * every < steps:
        rest = [x[n * every:] for x in inputs]
        tail = bs.transform.for_loop(step, jnp.arange(steps - n * every), *rest)
        flat = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), flat, tail)
    recs = {**flat[1], **thinned}
    if counts:
        recs.update({path: recs[path].sum(axis=0, dtype=jnp.int32) for path in spikes})
    return flat[0], recs
