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
* ``merged_synapses``: in the train step, the synapses of projections onto one port of one population that
  have the same linear model, the same parameter values and the same output run as one synapse fed the sum
  of their weighted inputs (GeNN's merged postsynaptic models): one state, one decay and one output per
  step instead of one per projection. The network's ``update`` holds both forms, chosen by ``_merge`` (the
  train loss passes ``_merge=True``; ``simulate`` keeps one synapse per projection, whose states it can
  record) and, when the step is traced, by the prelude's ``_same_synapses`` on the synapse modules' actual
  parameter values (a parameter file may have changed them);
* ``unrolled_loop``: the train loss's time loop is told the multiply-adds of one step of the network's dense
  products per sample (``_loop(..., macs=N)``); one scan over the steps (not the checkpointed loop, not
  where synapses merge) then runs two steps per iteration on the CPU when a step of the batch does at least
  5e6 of them (the prelude's ``_unroll``): XLA overlaps the two steps' independent products on the cores.

The switch is a compile-time setting read while lowering (a context variable, default: every pass on);
nothing of it reaches the emitted module, which just contains the code each pass chose.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

import numpy as np

from snndsl import ir
from snndsl.ir.evaluate import evaluate
from snndsl.ir.linear import affine
from snndsl.ir.tools import refs, substitute
from snndsl.lower import emit as E
from snndsl.lower.exprs import init_expr, unit_expr
from snndsl.lower.fusion import fusable
from snndsl.lower.variants import pop_method
from snndsl.registry import OUTPUTS

#: Every pass, by name.
PASSES = ("carried_spike", "bool_residual", "narrow_weight_grad", "last_step_delay", "merged_synapses",
          "unrolled_loop")

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


def loop_hint(nl: Any, kwargs: dict[str, ast.expr]) -> dict[str, ast.expr]:
    """``kwargs`` of the train loss's ``_loop`` call with ``macs=`` (:func:`step_macs`) added by the
    ``unrolled_loop`` pass, for the network lowering ``nl``: for one scan over the steps only (not with
    ``segment``: the checkpointed loop's segments are recomputed in the backward pass, and were not
    measured unrolled), and not when the train step merges synapses (:func:`merges`): merging and
    unrolling together were slower than merging alone, on a quiet machine and with another process on
    one of the two cores (docs/performance.md)."""
    if not enabled("unrolled_loop") or "segment" in kwargs or merges(nl):
        return kwargs
    return {**kwargs, "macs": E.const(step_macs(nl.net))}


# ---------------------------------------------------------------- merged synapses
def summable(model: ir.Model) -> bool:
    """Whether synapses of ``model`` (with equal parameters) can be summed into one: its step is a linear
    map of its states and its weighted input ``w`` together, and its output a linear function of its
    states. That is: it has ODEs, one per state; each right-hand side and each ``on_spike`` value is a
    combination of the states and ``w`` with coefficients free of them and nothing else (no constant drive,
    no noise); each state starts at zero (the sum of zeros); ``output`` is a combination of the states.
    Then for synapses with states g_1, g_2 and inputs w_1, w_2 the integrated step gives
    step(g_1 + g_2, w_1 + w_2) = step(g_1, w_1) + step(g_2, w_2), and out(g_1 + g_2) = out(g_1) + out(g_2):
    one synapse fed the summed inputs delivers the summed outputs, to float rounding, for any linear
    integration method (exponential Euler, Euler, Runge-Kutta, exact)."""
    if model.kind != "synapse" or not model.odes or {o.var for o in model.odes} != {s.name for s in model.states}:
        return False
    lets = {let.name: let.value for let in model.lets}
    symbols = {("state", s.name) for s in model.states} | {("weight", "w")}
    exprs = [o.rhs for o in model.odes] + [x.value for x in model.on_spike]
    forms = [affine(substitute(e, lets), symbols) for e in exprs]
    if any(f is None or f.rest is not None for f in forms) or any(x.op not in ("+=", "-=", "=")
                                                                    for x in model.on_spike):
        return False
    out = affine(substitute(model.output, lets), symbols - {("weight", "w")}) if model.output is not None else None
    return out is not None and out.rest is None and all(_zero(s.init) for s in model.states)


def _zero(init: ir.Expr | None) -> bool:
    """Whether a state's initial value is zero: none given, or a constant expression equal to 0."""
    if init is None:
        return True
    if refs(init):
        return False
    try:
        return _zero_value(evaluate(init, lambda r: None))
    except Exception:  # noqa: BLE001 - a value that does not evaluate here is not known to be zero
        return False


def _zero_value(value: Any) -> bool:
    """Whether a constant (a number, an array or a quantity) is zero everywhere."""
    return bool(np.all(np.asarray(getattr(value, "mantissa", value)) == 0))


def _merge_key(nl: Any, pr: ir.Projection) -> tuple | None:
    """What projections must share for their synapses to merge (``None``: ``pr``'s never does): the
    target population and port, the synapse model (:func:`summable`), its parameter values as the module
    writes them (constants only: an initialiser draws values per projection; none trained; a state's
    initial value only as 0), the unit it delivers and the output. Not for plastic projections, synapses
    fused into their neuron (:mod:`snndsl.lower.fusion`) or a network traced for online learning."""
    post = nl.net.node(pr.post)
    if pr.synapse is None or pr.plasticity is not None or nl.traced or not isinstance(post, ir.Population):
        return None
    model, syn = nl.program.model(post.model), nl.program.model(pr.synapse.model)
    states = {s.name for s in syn.states}
    if not summable(syn) or fusable(nl.program, nl.net, pr, pop_method(nl.program, post)):
        return None
    for name, v in pr.synapse.values:
        if v.trainable or isinstance(v.value, ir.Spec) or (name in states and not _zero_value(v.value)):
            return None
    output = OUTPUTS[pr.output.name if pr.output is not None else "current"]
    if not output.traits.linear:
        return None
    port = pr.port or (model.ports[0].name if model.ports else None)
    values = tuple(sorted((k, ast.unparse(init_expr(v.value))) for k, v in pr.synapse.values))
    delivered = ast.unparse(unit_expr(pr.facts.delivered))
    out = ast.unparse(output.hook("lower")(pr.output, E.name("g"), E.name("V")))
    return post.name, port, syn.name, values, delivered, out


def merge_groups(nl: Any) -> dict[str, tuple[tuple[ir.Projection, ...], ...]]:
    """The projections whose synapses the ``merged_synapses`` pass runs as one in the train step, by
    target population: two or more sharing a :func:`_merge_key`, each group in declaration order (the
    first keeps its synapse module for the group). One pass over the projections; the network lowering
    keeps the result (``NetworkLowering.merge_groups``)."""
    if not enabled("merged_synapses"):
        return {}
    groups: dict[tuple, list[ir.Projection]] = {}
    for pr in nl.net.projections:
        if (key := _merge_key(nl, pr)) is not None:
            groups.setdefault(key, []).append(pr)
    out: dict[str, tuple[tuple[ir.Projection, ...], ...]] = {}
    for key, group in groups.items():
        if len(group) > 1:
            out[key[0]] = out.get(key[0], ()) + (tuple(group),)
    return out


def merged(nl: Any, pop: ir.Population) -> tuple[tuple[ir.Projection, ...], ...]:
    """The merged groups of projections into ``pop`` (:func:`merge_groups`)."""
    return nl.merge_groups.get(pop.name, ())


def merges(nl: Any) -> bool:
    """Whether the network of ``nl`` has any merged synapses (its ``update`` then takes ``_merge``)."""
    return bool(nl.merge_groups)


def same_synapses(nl: Any, groups: tuple[tuple[ir.Projection, ...], ...]) -> list[ast.expr]:
    """``_same_synapses((self.a__syn, self.b__syn), ('tau',), ('g__init',))`` for each group: the check,
    when the step is traced, that the group's synapse modules hold equal parameters and zero initial
    states."""
    tests = []
    for group in groups:
        syn = nl.program.model(group[0].synapse.model)
        mods = ast.Tuple([E.attr("self", E.derived(nl.attr[pr.name], "syn")) for pr in group], ast.Load())
        params = ast.Tuple([E.const(E.py_name(p.name)) for p in syn.params], ast.Load())
        inits = ast.Tuple([E.const(E.derived(E.py_name(s.name), "init")) for s in syn.states], ast.Load())
        tests.append(E.call("_same_synapses", mods, params, inits))
    return tests
