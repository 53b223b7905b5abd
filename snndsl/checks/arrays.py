"""Shapes of array values: one number per neuron, a weight matrix ``[n_pre, n_post]``, a bias per target.

An array (a literal or ``load(...)``, :mod:`snndsl.resolve.arrays`) stands where a single number would: a
population's parameter or initial state takes ``(size,)``, a projection's synapse ``(n_post,)`` (one
synapse state per postsynaptic neuron), a bias ``(n_post,)``; a weight is a matrix ``(n_pre, n_post)`` (row
``i``: the weights from presynaptic neuron ``i``), or ``(n,)`` for a diagonal connectivity
(``one_to_one``). A connectivity that draws which pairs connect (``fixed_prob``, trait ``drawn``) takes no
matrix: the draw, not the matrix, would decide which weights exist; an explicit matrix is a ``dense``
projection with zeros where there is no connection.
"""

from __future__ import annotations

from typing import Any, Iterator

from snndsl import ir
from snndsl.diagnostics import Diagnostic
from snndsl.ir.arrays import shape
from snndsl.registry import CONNECTIVITY


def _shape_text(s: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(n) for n in s) + "]"


def _per_neuron(values, n: int, owner: str) -> Iterator[Diagnostic]:
    """SNN272 for each array value of ``values`` whose shape is not ``(n,)``."""
    for name, v in values:
        s = shape(v.value)
        if s and s != (n,):
            yield Diagnostic("SNN272", f"`{name}` of {owner} has shape {_shape_text(s)}; it needs one value per "
                             f"neuron, [{n}]", v.span,
                             "a per-neuron array lists one number for each neuron, in order")


def _weights(net: ir.Network, pr: ir.Projection) -> Iterator[Diagnostic]:
    """SNN273 for a weight or bias array of the wrong shape; SNN278 for a weight matrix where the rule draws
    the connected pairs."""
    pre, post = net.node(pr.pre), net.node(pr.post)
    if pre is None or post is None or pr.facts is None:
        return
    storage = pr.facts.storage
    if pr.conn.name not in CONNECTIVITY:
        return
    for key in ("w", "b"):
        value: Any = pr.conn.arg(key)
        s = shape(value)
        if not s:
            continue
        if key == "b":
            want = (post.size,)
        elif storage == "diagonal":
            want = (post.size,)
        elif CONNECTIVITY[pr.conn.name].traits.drawn:
            yield Diagnostic("SNN278", f"{pr.conn.name} draws which pairs of projection {pr.name} connect, so its "
                             "weight cannot be a matrix", pr.conn.span,
                             "give the matrix to `dense` (zeros where there is no connection), or give "
                             f"{pr.conn.name} a single weight or an initialiser")
            continue
        else:
            want = (pre.size, post.size)
        if s != want:
            what = "a weight matrix [n_pre, n_post]" if len(want) == 2 else (
                "one weight per neuron" if key == "w" else "one bias per postsynaptic neuron")
            yield Diagnostic("SNN273", f"`{key}` of projection {pr.name} has shape {_shape_text(s)}; it needs "
                             f"{what}, {_shape_text(want)}", pr.conn.span,
                             f"{pr.pre} has {pre.size} neurons and {pr.post} {post.size}"
                             + ("; row i holds the weights from presynaptic neuron i" if len(want) == 2 else ""))


def array_shapes(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN272, SNN273, SNN278 on array values (the docstring of this module): per-neuron values of
    populations and synapses, per-channel arguments of inputs' encoders, weight matrices and biases. Values that are single numbers or initialisers
    are not judged here."""
    for net in program.networks:
        for pop in net.populations:
            yield from _per_neuron(pop.values, pop.size, pop.name)
        for x in net.inputs:        # an encoder's per-channel argument (poisson's rate): one value per channel
            for name, value in (x.source.args if x.source is not None else ()):
                s = shape(value)
                if s and s != (x.size,):
                    yield Diagnostic("SNN272", f"`{name}` of input {x.name}'s {x.source.name}() has shape "
                                     f"{_shape_text(s)}; it needs one value per channel, [{x.size}]",
                                     x.source.span, "a per-channel array lists one number for each channel, in order")
        for pr in net.projections:
            post = net.node(pr.post)
            if pr.synapse is not None and post is not None:
                yield from _per_neuron(pr.synapse.values, post.size, f"the synapse of {pr.name}")
            yield from _weights(net, pr)
