"""Helpers every emitted module carries: this file's code below the marker is copied into it verbatim.

It is ordinary, tested Python (no model data passes through it), so an emitted module needs nothing from
snndsl at run time: only jax, brainstate, brainunit and braintools.
"""

import brainstate as bs
import braintools as bt
import brainunit as u
import jax
import jax.numpy as jnp

# --- prelude: copied into every emitted module from here on ---


def _read(x):
    """A parameter's value: trainable parameters are ParamStates, the others plain arrays."""
    return x.value if isinstance(x, bs.State) else x


def _param(value, size, trainable=False):
    """Materialise a parameter (constant or initialiser) over ``size`` neurons; trainable ones become a
    ``ParamState`` of shape ``(size,)`` so each neuron learns its own value."""
    value = bt.init.param(value, (size,))
    if trainable:
        return bs.ParamState(value * jnp.ones((size,)))
    return value


def _state(value, size, batch_size=None):
    """A state's initial value (constant, array or initialiser) at its full shape ``((batch,) size)``."""
    shape = (size,) if batch_size is None else (batch_size, size)
    return u.math.broadcast_to(bt.init.param(value, (size,), batch_size), shape)


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
    """Each pre-post pair connected independently with probability ``p`` (reproducible from ``seed``)."""
    return jax.random.uniform(jax.random.PRNGKey(seed), (n_pre, n_post)) < p


class _SparseProb(bs.nn.Module):
    """Fixed-probability connectivity stored sparsely: ``(pre, post)`` index pairs and one trainable weight
    per synapse, ``y[post] += w * x[pre]`` by a scatter-add (memory and work O(synapses), not O(pre x post))."""

    def __init__(self, n_pre, n_post, p, w_init, seed):
        super().__init__()
        mask = _fixed_prob_mask(n_pre, n_post, p, seed)
        pre, post = jnp.nonzero(mask)
        self.pre, self.post, self.n_post = pre, post, n_post
        self.weight = bs.ParamState(bt.init.param(w_init, (pre.shape[0],)))

    def update(self, x):
        w = self.weight.value
        unit = u.get_unit(w) * u.get_unit(x)
        contrib = u.get_mantissa(x)[..., self.pre] * u.get_mantissa(w)
        y = jnp.zeros(contrib.shape[:-1] + (self.n_post,), contrib.dtype).at[..., self.post].add(contrib)
        return u.maybe_decimal(u.Quantity(y, unit=unit))


class _OneToOne(bs.nn.Module):
    """``y_i = w_i x_i``: one trainable weight per neuron."""

    def __init__(self, size, w_init):
        super().__init__()
        self.weight = bs.ParamState(bt.init.param(w_init, (size,)))

    def update(self, x):
        return x * self.weight.value


class _Delay(bs.nn.Module):
    """A ring buffer delaying a signal by a whole number of steps (``read`` before ``write`` each step)."""

    def __init__(self, steps, size):
        super().__init__()
        self.steps, self.size = steps, size

    def init_state(self, batch_size=None, **kwargs):
        shape = (self.steps,) + (() if batch_size is None else (batch_size,)) + (self.size,)
        self.buffer = bs.HiddenState(jnp.zeros(shape))
        self.index = bs.ShortTermState(jnp.zeros((), dtype=jnp.int32))

    def reset_state(self, batch_size=None, **kwargs):
        shape = (self.steps,) + (() if batch_size is None else (batch_size,)) + (self.size,)
        self.buffer.value = jnp.zeros(shape)
        self.index.value = jnp.zeros((), dtype=jnp.int32)

    def read(self):
        return self.buffer.value[self.index.value]

    def write(self, x):
        self.buffer.value = self.buffer.value.at[self.index.value].set(x)
        self.index.value = (self.index.value + 1) % self.steps


def _accuracy(prediction, y):
    """Fraction of samples whose largest prediction is the label (NaN for regression)."""
    if prediction is None:
        return jnp.nan
    return jnp.mean(jnp.argmax(u.get_mantissa(prediction), axis=-1) == y)


def _finite(grads):
    """Whether each gradient is finite, keyed like the parameters (to name the culprit)."""
    return {k: jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(g)]))
            for k, g in grads.items()}


def _lookup(net, path):
    """``net``'s value at ``pop.var`` (a state), or ``pop`` (its output), for recording."""
    pop, _, var = path.partition(".")
    module = getattr(net, pop)
    return getattr(module, var).value if var else module.output()


def simulate(net, inputs=(), steps=None, batch_size=None, record=()):
    """Run ``net`` from a fresh state over time-major ``inputs`` (one array ``[T, (B,) N]`` per network input
    without an encoder; ``steps`` when there are none). Returns ``(outputs, records)``: the network's outputs
    stacked over time, and ``{path: [T, ...]}`` for each ``pop.var`` (or ``pop``) in ``record``."""
    bs.nn.init_all_states(net, batch_size=batch_size)
    if steps is None:
        steps = inputs[0].shape[0]

    def step(i, *xs):
        out = net.update(*xs)
        return out, {path: _lookup(net, path) for path in record}

    return bs.transform.for_loop(step, jnp.arange(steps), *inputs)
