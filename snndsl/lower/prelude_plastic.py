"""Helpers of the emitted modules for plastic projections: a second part of
:mod:`snndsl.lower.prelude`, read and copied the same way (each top-level definition goes verbatim
into every module that uses it).

A plastic projection keeps its per-connection states in the projection's storage; a "layout" says
how: :class:`_DenseSyn` (dense or masked ``[n_pre, n_post]``), :class:`_SparseSyn` (one value per
connected pair) and :class:`_DiagonalSyn` (one-to-one). Each gives the same operations, so the
emitted plasticity class is the same for every storage: ``init`` (initial values), ``pre`` /
``post`` (a per-neuron value seen per connection), ``rows`` / ``cols`` (the connections of the
neurons that spiked) and ``deliver`` (the weighted input of a spike vector through per-connection
weights).
"""

import brainstate as bs
import braintools as bt
import brainunit as u
import jax
import jax.numpy as jnp

from snndsl.lower.prelude import _fixed_prob_mask, _state, _strong


class _DenseSyn:
    """Where a plastic projection keeps its per-connection values: a dense ``[n_pre, n_post]``
    matrix, times a fixed 0/1 ``mask`` (``masked`` storage; ``None``: every pair). Per-pre
    values ``[..., n_pre]`` are seen per connection as ``[..., n_pre, 1]``, per-post ones as
    ``[..., 1, n_post]``; a batch axis leads when there is one."""

    def __init__(self, n_pre, n_post, mask=None):
        """``n_pre`` x ``n_post`` connections, those where ``mask`` is true when given."""
        self.n_pre, self.n_post, self.mask = n_pre, n_post, mask

    def init(self, value, batch_size=None):
        """The per-connection initial value (constant, array or initialiser), masked, at shape
        ``((batch,) n_pre, n_post)``."""
        w = bt.init.param(value, (self.n_pre, self.n_post))
        if self.mask is not None:
            w = w * self.mask
        shape = (self.n_pre, self.n_post) if batch_size is None else (batch_size, self.n_pre,
                                                                       self.n_post)
        return _strong(u.math.broadcast_to(w, shape))

    def pre(self, x):
        """A per-pre value ``[..., n_pre]`` seen per connection."""
        return x[..., :, None]

    def post(self, x):
        """A per-post value ``[..., n_post]`` seen per connection."""
        return x[..., None, :]

    def rows(self, fired):
        """The connections of the presynaptic neurons where ``fired`` (existing ones only)."""
        rows = fired[..., :, None] & jnp.ones((1, self.n_post), bool)
        return rows if self.mask is None else rows & self.mask

    def cols(self, fired):
        """The connections onto the postsynaptic neurons where ``fired`` (existing ones only)."""
        cols = fired[..., None, :] & jnp.ones((self.n_pre, 1), bool)
        return cols if self.mask is None else cols & self.mask

    def deliver(self, s, w):
        """``y[..., j] = sum_i s[..., i] w[..., i, j]``: the weighted input from the presynaptic
        signal ``s`` (0/1 spikes) through the per-connection weights ``w``."""
        unit = u.get_unit(w)
        w = u.get_mantissa(w)
        if self.mask is not None:
            w = w * self.mask
        s = jnp.asarray(u.get_mantissa(s)).astype(w.dtype)
        y = jnp.matmul(s[..., None, :], w)[..., 0, :]
        return u.maybe_decimal(u.Quantity(y, unit=unit))


class _SparseSyn:
    """Per-connection values of a sparse plastic projection: one per connected pair ``(pre[k],
    post[k])``, a vector ``[..., n_syn]``; per-pre and per-post values are gathered per pair."""

    def __init__(self, n_pre, n_post, p, seed):
        """The pairs of :func:`_fixed_prob_mask` (``n_pre`` x ``n_post``, probability ``p``,
        ``seed``), in row-major order: the same pairs as the masked dense storage."""
        mask = _fixed_prob_mask(n_pre, n_post, p, seed)
        pre, post = jnp.nonzero(mask)
        self.pre_i, self.post_i = pre.astype(jnp.int32), post.astype(jnp.int32)
        self.n_pre, self.n_post = n_pre, n_post

    def init(self, value, batch_size=None):
        """The per-pair initial value at shape ``((batch,) n_syn)``."""
        n = self.pre_i.shape[0]
        w = bt.init.param(value, (n,))
        shape = (n,) if batch_size is None else (batch_size, n)
        return _strong(u.math.broadcast_to(w, shape))

    def pre(self, x):
        """A per-pre value ``[..., n_pre]`` gathered per pair."""
        return x[..., self.pre_i]

    def post(self, x):
        """A per-post value ``[..., n_post]`` gathered per pair."""
        return x[..., self.post_i]

    def rows(self, fired):
        """The pairs whose presynaptic neuron ``fired``."""
        return fired[..., self.pre_i]

    def cols(self, fired):
        """The pairs whose postsynaptic neuron ``fired``."""
        return fired[..., self.post_i]

    def deliver(self, s, w):
        """``y[..., post[k]] += s[..., pre[k]] w[..., k]`` over the pairs ``k``."""
        unit = u.get_unit(w)
        w = u.get_mantissa(w)
        s = jnp.asarray(u.get_mantissa(s)).astype(w.dtype)
        y = jnp.zeros(s.shape[:-1] + (self.n_post,), w.dtype)
        y = y.at[..., self.post_i].add(s[..., self.pre_i] * w)
        return u.maybe_decimal(u.Quantity(y, unit=unit))


class _DiagonalSyn:
    """Per-connection values of a one-to-one plastic projection: connection ``i`` joins pre
    ``i`` to post ``i``, so per-connection, per-pre and per-post values are all ``[..., n]``."""

    def __init__(self, n):
        """``n`` connections."""
        self.n = self.n_pre = self.n_post = n

    def init(self, value, batch_size=None):
        """The per-connection initial value at shape ``((batch,) n)``."""
        return _state(value, self.n, batch_size)

    def pre(self, x):
        """A per-pre value, already per connection."""
        return x

    post = pre

    def rows(self, fired):
        """The connections of the neurons that ``fired``."""
        return fired

    cols = rows

    def deliver(self, s, w):
        """``y_i = s_i w_i``."""
        return s * w


def _fired(s):
    """Where the signal ``s`` carries a spike (nonzero), as booleans without a gradient."""
    return jnp.asarray(jax.lax.stop_gradient(u.get_mantissa(s))) != 0


def _in_unit(value, unit):
    """``value`` in ``unit`` when it is a plain number (a bound written ``0``), else as it is."""
    return value * unit if not isinstance(value, u.Quantity) else value
