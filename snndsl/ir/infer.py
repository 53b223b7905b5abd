"""The inference pass: facts a model implies but does not state, written onto the IR after resolution.

Checks, lowering and the NIR export read these facts instead of computing them again:

* the unit each projection delivers per presynaptic event (weight unit x what the source sends), which the
  projection's synapse states without a declared unit take, and the unit that reaches the target;
* whether each population and each projection's source spikes;
* how each projection's weights are stored (from its connectivity rule), and whether its weighted input
  depends on a data input alone (computed for many steps at once).

Units are found by evaluating equations on stand-ins (each symbol ``1 unit``, :mod:`snndsl.ir.evaluate`).
Inference never reports errors: where units do not work out (the checks say why), a fact is ``None``.
"""

from __future__ import annotations

from typing import Any, Callable

import attrs

from snndsl import units as u
from snndsl import ir
from snndsl.ir.evaluate import W_UNIT, UnitError, evaluate, initialiser_dim
from snndsl.ir.tools import membrane
from snndsl.registry import CONNECTIVITY, INPUT_KINDS, OUTPUTS


def one(unit: Any) -> Any:
    """The stand-in value ``1 unit``."""
    return u.Quantity(1.0, unit=unit)


class ModelEnv:
    """Stand-in values for a model's symbols (``1 unit`` each), with ``w`` in ``w_unit``.

    Alone (``w_unit`` left as the stand-in ``[w]``), ``w`` takes the unit of a declared state it is added to.
    A state declared without a unit takes ``w_unit`` (the unit of what the synapse receives)."""

    def __init__(self, model: ir.Model, w_unit: Any = W_UNIT):
        if w_unit is W_UNIT:
            declared = {s.name: s.unit for s in model.states if s.unit is not None}
            w_unit = next((declared[x.var] for x in model.on_spike if x.var in declared and
                           isinstance(x.value, ir.Ref) and x.value.kind == "weight"), W_UNIT)
        self.model, self.w_unit = model, w_unit
        self.values: dict[tuple[str, str], Any] = {}
        for p in model.params:      # a plasticity parameter declared `: w` (unit None) is in w's unit
            self.values["param", p.name] = (True if p.kind == "bool"
                                            else one(p.unit if p.unit is not None else w_unit))
        for s in model.states:
            self.values["state", s.name] = one(s.unit if s.unit is not None else w_unit)
        for port in model.ports:
            self.values["input", port.name] = one(port.unit)
        self.values["weight", "w"] = one(w_unit)
        self.values["noise", "xi"] = one(u.second ** -0.5)     # white noise: 1/sqrt(time)

    def __call__(self, ref: ir.Ref) -> Any:
        """The stand-in of ``ref`` (``1 ms`` for ``t`` and ``dt``): an environment for :func:`evaluate`."""
        if ref.kind in ("time", "dt"):
            return one(u.ms)
        return self.values[ref.kind, ref.name]

    def state_value(self, name: str) -> Any:
        """The stand-in of state ``name``."""
        return self.values["state", name]

    def bind_lets(self, on_error: Callable[[UnitError], None] | None = None) -> None:
        """Give every ``let`` its stand-in (a plain number where its definition has a unit error)."""
        for let in self.model.lets:
            try:
                value = evaluate(let.value, self)
            except UnitError as exc:
                if on_error is not None:
                    on_error(exc)
                value = None
            self.values["let", let.name] = value if value is not None else one(u.get_unit(1.0))


def model_output(model: ir.Model, w_unit: Any) -> Any:
    """The stand-in value of ``model``'s ``output`` when its input is in ``w_unit``; ``None`` on a unit error
    or without an output."""
    if model.output is None:
        return None
    env = ModelEnv(model, w_unit)
    env.bind_lets()
    try:
        return evaluate(model.output, env)
    except UnitError:
        return None


def source_value(program: ir.Program, net: ir.Network, name: str, seen: frozenset = frozenset()) -> Any:
    """A stand-in for what node ``name`` sends each step: spikes are plain numbers, a current input is in its
    unit, a non-spiking neuron sends its membrane, a synapse readout sends its output."""
    node = net.node(name)
    if isinstance(node, ir.InputDef):
        return one(node.unit) if node.unit is not None else 1.0
    model = program.model(node.model) if isinstance(node, ir.Population) else None
    if model is None or model.spiking or name in seen:
        return 1.0
    if model.kind == "neuron":
        state = model.state(membrane(model) or "")
        return one(state.unit) if state is not None and state.unit is not None else 1.0
    into = [p for p in net.projections if p.post == name]
    w_unit = u.get_unit(delivered_value(program, net, into[0], seen | {name})) if into else W_UNIT
    out = model_output(model, w_unit)
    return out if out is not None else 1.0


def delivered_value(program: ir.Program, net: ir.Network, proj: ir.Projection,
                    seen: frozenset = frozenset()) -> Any:
    """A stand-in for what one projection delivers per presynaptic event, before any synapse: weight x source."""
    w = proj.conn.arg("w")
    w_val = initialiser_dim(w) if isinstance(w, ir.Spec) else (w if w is not None else 1.0)
    return w_val * source_value(program, net, proj.pre, seen)


def _spiking(program: ir.Program, node: ir.InputDef | ir.Population | None) -> bool:
    """Whether ``node`` emits 0/1 spikes: an input of a spiking kind, or a population of a spiking model."""
    if isinstance(node, ir.InputDef):
        entry = INPUT_KINDS.get(node.kind)
        return bool(entry is not None and entry.traits.spiking)
    model = program.model(node.model) if isinstance(node, ir.Population) else None
    return bool(model is not None and model.spiking)


def _projection_facts(program: ir.Program, net: ir.Network, proj: ir.Projection) -> ir.ProjectionFacts | None:
    """The facts of ``proj`` (see :class:`~snndsl.ir.ProjectionFacts`), ``None`` when an endpoint or the
    connectivity rule is unknown (already reported).

    delivered = unit(w) x unit(source); arrives = unit(synapse output with input in ``delivered``) or
    ``delivered`` without a synapse, times the unit of the output's ``scales_by`` parameter (the reversal
    potential E of a conductance: nS x mV = pA).
    """
    pre, post = net.node(proj.pre), net.node(proj.post)
    entry = CONNECTIVITY.get(proj.conn.name)
    if pre is None or post is None or entry is None:
        return None
    delivered = u.get_unit(delivered_value(program, net, proj))
    arrives: Any = delivered
    if proj.synapse is not None:
        syn = program.model(proj.synapse.model)
        out = model_output(syn, delivered) if syn is not None else None
        arrives = u.get_unit(out) if out is not None else None
    output = OUTPUTS.get(proj.output.name) if proj.output is not None else None
    if arrives is not None and output is not None and output.traits.scales_by is not None:
        arrives = arrives * u.get_unit(proj.output.arg(output.traits.scales_by))
    p = proj.conn.arg("p")
    storage = entry.traits.storage(pre.size, post.size, float(p) if p is not None else None)
    hoisted = (proj.delay_steps == 0 and isinstance(pre, ir.InputDef) and pre.source is None
               and proj.plasticity is None)   # plastic weights change each step: no segment at once
    return ir.ProjectionFacts(delivered, arrives, _spiking(program, pre), storage, hoisted)


def _population_facts(program: ir.Program, net: ir.Network, pop: ir.Population,
                      projections: tuple[ir.Projection, ...]) -> ir.PopulationFacts:
    """The facts of ``pop``; a synapse readout receives what the first projection into it delivers
    (dimensionless when nothing projects to it), ``projections`` being the ones with facts already."""
    model = program.model(pop.model)
    receives = None
    if model is not None and model.kind == "synapse":
        into = [pr for pr in projections if pr.post == pop.name and pr.facts is not None]
        receives = into[0].facts.delivered if into else u.UNITLESS
    return ir.PopulationFacts(_spiking(program, pop), receives)


def infer_network(program: ir.Program, net: ir.Network) -> ir.Network:
    """``net`` with the facts of every projection and population filled in."""
    projections = tuple(attrs.evolve(pr, facts=_projection_facts(program, net, pr)) for pr in net.projections)
    populations = tuple(attrs.evolve(p, facts=_population_facts(program, net, p, projections))
                        for p in net.populations)
    return attrs.evolve(net, projections=projections, populations=populations)


def infer(program: ir.Program) -> ir.Program:
    """``program`` with inferred facts on every network (see the module docstring)."""
    return attrs.evolve(program, networks=tuple(infer_network(program, n) for n in program.networks))
