"""The train-step lowering passes, and the switch that turns each off (for tests and benchmarks).

Each pass rewrites what the lowering emits wherever it is valid, leaving the values computed and the
gradients unchanged; each is visible in the emitted module as ordinary code (docs/performance.md, "Lowering
passes"):

* ``carried_spike``: a spiking neuron keeps its last output spike as a state (``self._spike``) and resets from
  it, instead of applying the surrogate spike function to the stored membrane again; one surrogate residual
  per step under backpropagation through time instead of two (:class:`snndsl.lower.models.ModelLowering`);
* ``bool_residual``: a dense projection from spikes is computed by the prelude's ``_spike_dense``, whose
  custom VJP keeps the 0/1 spikes as a boolean residual instead of a float32 copy;
* ``narrow_weight_grad``: where such a projection's target has at most :data:`NARROW` neurons, the backward
  pass computes its weight gradient s^T g from a materialised transpose of the spikes (``narrow=True``), which
  XLA's CPU backend hands to its fast matrix-product kernel; contracted over its leading axis in place, the
  narrow product takes a slow path (2-3 x longer, the largest single cost of the seed-size step);
* ``last_step_delay``: a delay of one step is a single state holding last step's value (the prelude's
  ``_LastStep``) instead of a ring buffer with a write position;
* ``unrolled_loop``: the train loss's time loop is told the multiply-adds of one step of the network's dense
  products per sample (``_loop(..., macs=N)``); one scan over the steps (not the checkpointed loop) then runs
  two steps per iteration on the CPU when a step of the batch does at least 5e6 of them (the prelude's
  ``_unroll``): XLA overlaps the two steps' independent products on the cores.

The switch is a compile-time setting read while lowering (a context variable, default: every pass on);
nothing of it reaches the emitted module, which just contains the code each pass chose.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from snndsl import ir
from snndsl.ir.tools import refs
from snndsl.lower import emit as E

#: Every pass, by name.
PASSES = ("carried_spike", "bool_residual", "narrow_weight_grad", "last_step_delay", "unrolled_loop")

#: The largest target population whose spike projection gets the ``narrow_weight_grad`` pass. Measured on
#: XLA's CPU backend (benchmarks/weight_grad.py, batch 16-256, 64-1024 sources): the materialised transpose
#: takes 0.33-1.04 x the time of s^T g in place for up to 64 columns, 0.53-1.30 x for 128, 0.9-1.7 x for 256.
NARROW = 64

_OFF: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("snndsl_passes_off", default=frozenset())


def enabled(name: str) -> bool:
    """Whether pass ``name`` (one of :data:`PASSES`) applies to what is lowered now."""
    if name not in PASSES:
        raise ValueError(f"unknown lowering pass {name!r}; passes: {', '.join(PASSES)}")
    return name not in _OFF.get()


@contextlib.contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Lower without the passes ``names`` inside the ``with`` block (every pass when none is named): the
    reference the gradient-equality tests and the benchmark compare each pass against."""
    unknown = set(names) - set(PASSES)
    if unknown:
        raise ValueError(f"unknown lowering pass(es) {sorted(unknown)}; passes: {', '.join(PASSES)}")
    token = _OFF.set(_OFF.get() | frozenset(names or PASSES))
    try:
        yield
    finally:
        _OFF.reset(token)


# ---------------------------------------------------------------- where each pass applies, and what it emits
def carries_spike(ml: Any) -> bool:
    """Whether the ``carried_spike`` pass applies to the model of ``ml`` (a
    :class:`~snndsl.lower.models.ModelLowering`): the neuron spikes and its surrogate argument x reads only
    states, parameters not trained, ``dt`` and constants, so H(x) of the stored state at the start of a step is
    exactly the spike ``update`` returned at the end of the last one (the states are stored last). A port, the
    time or a trained parameter would make them differ, the last at the first step, whose carried spike is
    computed when the states are reset (outside the gradient)."""
    sp = ml.m.spike
    if sp is None or ml.v is None or getattr(ml, "crossing", False) or not enabled("carried_spike"):
        return False   # a crossing spike, H(x_new) (1 - H(x_old)), is not H(x) of the stored state
    used = set().union(*(refs(ml.sub(e)) for e in (sp.left, sp.right, sp.scale)))
    return all(kind in ("state", "dt") or (kind == "param" and name not in ml.trainable) for kind, name in used)


def bool_residual(nl: Any, pr: ir.Projection) -> bool:
    """Whether the ``bool_residual`` pass applies to ``pr`` in the network lowering ``nl``: its source is a
    spiking population (whose output is H(x), exactly 0 or 1 in the forward pass), its weights a dense (or
    masked dense) matrix (not a plastic projection's state), and it is not traced for online learning. A data
    input is left out: declared 0/1, it may still carry counts (``counts = true``), which a boolean would not
    keep; and its product's residual is a slice of the loop's input, which JAX keeps without a copy."""
    return (enabled("bool_residual") and pr.facts.event_source and isinstance(nl.net.node(pr.pre), ir.Population)
            and pr.facts.storage in ("dense", "masked") and not nl.traced and pr.plasticity is None)


def narrow_weight_grad(nl: Any, pr: ir.Projection) -> bool:
    """Whether the ``narrow_weight_grad`` pass applies to ``pr``: it has the boolean residual (whose backward
    pass it changes) and its target has at most :data:`NARROW` neurons. The weight gradient is the same sum
    of products in another order: equal to float32 rounding."""
    return enabled("narrow_weight_grad") and bool_residual(nl, pr) and nl.net.node(pr.post).size <= NARROW


def weighted(nl: Any, pr: ir.Projection, source: ast.expr) -> ast.expr:
    """The weighted input of ``pr`` from ``source``: ``self.<proj>(source)``, or with the ``bool_residual``
    pass ``_spike_dense(self.<proj>, source)`` (the same x W + b; its gradient keeps the spikes as booleans),
    with ``narrow=True`` where the ``narrow_weight_grad`` pass applies."""
    module = E.attr("self", nl.attr[pr.name])
    if bool_residual(nl, pr):
        if narrow_weight_grad(nl, pr):
            return E.call("_spike_dense", module, source, narrow=E.const(True))
        return E.call("_spike_dense", module, source)
    return E.call(module, source)


def delay_line(net: ir.Network, pr: ir.Projection) -> ast.expr:
    """The delay line of ``pr``: ``_Delay(steps, n_pre)``, a ring buffer; with the ``last_step_delay`` pass a
    delay of one step is ``_LastStep(n_pre)``, one state holding last step's value (the same reads and
    writes, without the buffer's position and indexing)."""
    size = E.const(net.node(pr.pre).size)
    if pr.delay_steps == 1 and enabled("last_step_delay"):
        return E.call("_LastStep", size)
    return E.call("_Delay", E.const(pr.delay_steps), size)


def step_macs(net: ir.Network) -> int:
    """The multiply-adds of one step of ``net``'s dense (and masked dense) products, per sample:
    the sum of N_pre x N_post over those projections (the work the ``unrolled_loop`` pass weighs;
    sparse and one-to-one projections are left out, their work follows the spikes)."""
    return sum(net.node(pr.pre).size * net.node(pr.post).size for pr in net.projections
               if pr.facts.storage in ("dense", "masked"))


def loop_hint(net: ir.Network, kwargs: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """``kwargs`` of the train loss's ``_loop`` call with ``macs=`` (:func:`step_macs`) added by the
    ``unrolled_loop`` pass: for one scan over the steps only (not with ``segment``: the checkpointed
    loop's segments are recomputed in the backward pass, and were not measured unrolled)."""
    if not enabled("unrolled_loop") or "segment" in kwargs:
        return kwargs
    return {**kwargs, "macs": E.const(step_macs(net))}
