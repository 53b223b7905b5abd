"""The checked model: frozen attrs classes with names bound and units as :mod:`snndsl.units` objects.

The IR is what checks inspect and the lowering reads. Names are resolved (a :class:`Ref` says what kind of
thing it names), quantities are :class:`snndsl.units.Quantity`, registry calls are :class:`Spec`. Every node keeps
the span of the source it came from (never compared). A ``unit`` field holds a :class:`snndsl.units.Unit`
(``Unit(1)`` when dimensionless); a value field a Quantity, a float or an IR expression (:data:`Expr`).

:func:`show_unit` and :func:`show_value` print units and constants for messages; :mod:`snndsl.ir.text`
prints whole trees (:func:`~snndsl.ir.text.dump`, the golden IR format) and expressions
(:func:`~snndsl.ir.text.show_expr`).
"""

from __future__ import annotations

from typing import Any

import attrs

from snndsl import units as u
from snndsl.source import Span
from snndsl.ir.facts import PopulationFacts, ProjectionFacts  # noqa: F401  (part of the IR)
from snndsl.ir.plastic import HandlerDef, PlasticityUse, TransmitDef  # noqa: F401  (part of the IR)

_span = attrs.field(default=None, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- expressions


@attrs.frozen
class Const:
    """A literal: a float, or a :class:`snndsl.units.Quantity` (a bare unit name is ``1 unit``)."""

    value: Any
    span: Span | None = _span


#: Kinds of :class:`Ref`: model parameters, states, input ports, ``let`` definitions, the synapse's weighted
#: input ``w``, the time ``t`` and step ``dt``; in train blocks, populations and the special names.
REF_KINDS = ("param", "state", "input", "let", "weight", "time", "dt", "pop", "special", "noise")


@attrs.frozen
class Ref:
    """A name, bound: ``kind`` (one of :data:`REF_KINDS`) says what it names, ``name`` is the name as written.

    In a model: ``param``, ``state``, ``input`` (a port), ``let``, ``weight`` (``w``, a synapse's weighted
    input this step), ``time`` (``t``), ``dt``, ``noise`` (``xi`` in an ODE, :mod:`snndsl.ir.noise`). In a
    train block's loss: ``pop`` (an input or population: its output), ``special`` (``label``, ``target``, ``time``).
    """

    kind: str = attrs.field(validator=attrs.validators.in_(REF_KINDS))
    name: str
    span: Span | None = _span


@attrs.frozen
class BinOp:
    """``left op right``: ``op`` is ``+``, ``-``, ``*``, ``/`` or ``^`` (power; with a unit, the exponent is a
    constant, checked)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


@attrs.frozen
class Neg:
    """``-operand`` (the language has no negative literals: ``-2 mV`` is ``Neg(Const(2 mV))``)."""

    operand: "Expr"
    span: Span | None = _span


@attrs.frozen
class Func:
    """A math function (:data:`snndsl.registry.FUNCTIONS`) or, in a loss, a loss/reduction entry; ``args``
    in order (a loss's defaults filled in, e.g. ``label``)."""

    name: str
    args: tuple["Expr", ...]
    span: Span | None = _span


@attrs.frozen
class Field:
    """``pop.var`` in a train block (a population's state variable)."""

    pop: str
    var: str
    span: Span | None = _span


Expr = Const | Ref | BinOp | Neg | Func | Field


@attrs.frozen
class Spec:
    """A registry call, arguments bound by name and evaluated: ``relu_grad(alpha = 0.3)``.

    ``registry`` names the table (:data:`snndsl.registry.REGISTRIES`), ``args`` maps every parameter of the
    entry (defaults filled in) to a float, int, bool, str, Quantity, unit, nested :class:`Spec` or IR expression.
    """

    registry: str
    name: str
    args: tuple[tuple[str, Any], ...] = ()
    span: Span | None = _span

    def arg(self, name: str, default: Any = None) -> Any:
        """The value bound to parameter ``name`` (a default already filled in counts), else ``default``."""
        return next((v for k, v in self.args if k == name), default)


# ---------------------------------------------------------------- models


@attrs.frozen
class ParamDef:
    """``param name: unit = default``; ``unit`` is a :class:`snndsl.units.Unit` (dimensionless ``Unit("1")``).

    ``default`` is an expression over numbers, units and the parameters declared above (``None``: every
    population must give a value); the lowering folds it to a constant where it can, else computes it in the
    emitted ``__init__`` from the other parameters' values.

    ``kind`` is ``"bool"`` for a switch (``param normalize: bool = true``): its values are ``True`` and
    ``False`` (``Const`` of a Python bool), never numbers, and an equation uses it only as the condition of
    ``select(x, a, b)`` (checked, SNN231); ``None`` for a number or quantity (``unit`` is then dimensionless
    for a bool)."""

    name: str
    unit: Any
    default: Expr | None
    kind: str | None = None
    span: Span | None = _span


@attrs.frozen
class StateDef:
    """``state name: unit = init``; ``unit`` is ``None`` for a synapse state that takes its input's unit.

    ``init`` is the initial value, an expression over numbers, units and parameters (``None``: zero in the
    state's unit); a population may override it with a constant or an initialiser."""

    name: str
    unit: Any
    init: Expr | None
    span: Span | None = _span
    #: in a plasticity model: ``connection``, ``pre`` or ``post``
    per: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class PortDef:
    """``input name: unit``: a port of a neuron model, through which projections deliver their input in
    ``unit`` (a current, or with a ``conductance`` output a function of the membrane; see ``Ref`` kind
    ``input``)."""

    name: str
    unit: Any
    span: Span | None = _span


@attrs.frozen
class LetDef:
    """``let name = value``: an algebraic definition, inlined into every expression that reads it (so
    exponential Euler sees it as part of the integrated variable's derivative)."""

    name: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class OdeDef:
    """``dvar/dt = rhs``: ``var`` names a state, ``rhs`` is its derivative (the state's unit per unit of
    time, checked), integrated with the model's ``method``."""

    var: str
    rhs: Expr
    span: Span | None = _span


@attrs.frozen
class SpikeDef:
    """``spike when left op right, scale = scale``; ``scale`` is filled with its default by the resolver.

    ``op`` is ``>=``, ``>``, ``<=`` or ``<``. The spike is H((left - right) / scale) (for ``<``/``<=``,
    (right - left) / scale), H the surrogate's step; ``scale`` defaults to (right - reset value) when the
    model resets, so the surrogate sees the distance to threshold relative to the reset jump. ``crossing``
    (``True`` or ``None``): a spike only on the step the condition becomes true, H(x_new) (1 - H(x_old))."""

    left: Expr
    op: str
    right: Expr
    scale: Expr | None
    crossing: bool | None = None
    span: Span | None = _span


@attrs.frozen
class ResetDef:
    """``reset mode var = value`` after a spike: ``mode`` ``soft`` subtracts (threshold - value) from state
    ``var``, ``hard`` sets it to ``value`` (the gradient stopped through the reset amount)."""

    mode: str
    var: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class UpdateDef:
    """``on_spike var op value`` (``op`` is ``=``, ``+=`` or ``-=``): in a neuron applied where it spiked,
    after the reset; in a synapse applied every step with ``value`` over ``w``, the weighted input."""

    var: str
    op: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class Model:
    """A neuron (``kind == "neuron"``), synapse (``"synapse"``) or plasticity (``"plasticity"``) model, as declared;
    instances live in a :class:`Network` (a plasticity model on a projection, :class:`PlasticityUse`).

    Declarations in source order: ``params``, ``states``, ``ports`` (a neuron's inputs), ``lets``, ``odes``,
    ``on_spike`` updates (for a synapse: what ``w`` adds each step). A spiking neuron has ``spike``, usually
    ``reset``, optionally a ``refractory`` period and a ``surrogate`` (``None``: the default ``relu_grad``).
    ``method`` names the integrator (:data:`snndsl.registry.INTEGRATORS`); ``output`` is a synapse's output.
    """

    kind: str
    name: str
    params: tuple[ParamDef, ...] = ()
    states: tuple[StateDef, ...] = ()
    ports: tuple[PortDef, ...] = ()
    lets: tuple[LetDef, ...] = ()
    odes: tuple[OdeDef, ...] = ()
    spike: SpikeDef | None = None
    reset: ResetDef | None = None
    on_spike: tuple[UpdateDef, ...] = ()
    refractory: Expr | None = None
    surrogate: Spec | None = None
    method: str = "exp_euler"
    output: Expr | None = None
    #: a plasticity model's ``on_pre``/``on_post`` handlers
    handlers: tuple[HandlerDef, ...] = attrs.field(default=(), kw_only=True)
    #: resolution reported errors inside it: its equations are not unit-checked (no follow-on errors)
    broken: bool = attrs.field(default=False, eq=False, repr=False)
    span: Span | None = _span

    def param(self, name: str) -> ParamDef | None:
        """The parameter ``name``, or ``None``."""
        return next((p for p in self.params if p.name == name), None)

    def state(self, name: str) -> StateDef | None:
        """The state ``name``, or ``None``."""
        return next((s for s in self.states if s.name == name), None)

    @property
    def spiking(self) -> bool:
        """Whether the model emits spikes (it has a ``spike when`` condition)."""
        return self.spike is not None


# ---------------------------------------------------------------- networks


@attrs.frozen
class Value:
    """A parameter or state value of a population: a constant (Quantity or float) or an initialiser Spec.

    ``trainable`` (written ``trainable tau = 20 ms``, parameters only): the value becomes a ``ParamState``
    of one value per neuron that the train block's optimizer updates."""

    value: Any
    trainable: bool = False
    span: Span | None = _span


@attrs.frozen
class InputDef:
    """``input name: kind[size] unit = source``: ``kind`` is an :data:`snndsl.registry.INPUT_KINDS` entry
    (``spikes`` or ``current``), ``size`` the number of channels, ``unit`` a current input's unit (``None``
    for spikes). ``source`` is the encoder generating it inside the network, or ``None`` for a data input
    (an argument of the network's ``update``, one ``[B, size]`` array per step)."""

    name: str
    kind: str
    size: int
    unit: Any
    source: Spec | None
    span: Span | None = _span


@attrs.frozen
class Population:
    """``pop`` or ``readout`` (``readout=True``): ``size`` instances of ``model`` with ``values`` overriding
    parameter defaults and state initial values. ``facts`` are filled in by the inference pass.

    ``method`` and ``reset`` are the population's own choices (``LIF(10, reset = hard, method = exact)``):
    an integration method and a reset mode (``hard``/``soft``) replacing the model's, ``None`` when not
    given; :meth:`where` locates them."""

    name: str
    model: str
    size: int
    values: tuple[tuple[str, Value], ...] = ()
    surrogate: Spec | None = None
    readout: bool = False
    facts: PopulationFacts | None = None
    method: str | None = None
    reset: str | None = None
    choice_spans: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span | None = _span

    def where(self, key: str) -> Span | None:
        """The span of the population's choice ``key`` (``method``, ``reset``), else the declaration's."""
        return next((s for k, s in self.choice_spans if k == key), self.span)

    def value(self, name: str) -> Value | None:
        """The value given for parameter or state ``name``, or ``None`` (the model's default applies)."""
        return next((v for k, v in self.values if k == name), None)


@attrs.frozen
class SynapseUse:
    """``synapse = Model(args...)`` of a projection: the synapse model's name and the ``values`` given for
    its parameters and states (as :attr:`Population.values`); one instance per postsynaptic neuron."""

    model: str
    values: tuple[tuple[str, Value], ...] = ()
    span: Span | None = _span


@attrs.frozen
class Projection:
    """``connect name: pre -> post: conn, synapse = ..., output = ..., port = ..., delay = ...``.

    ``name`` is the label, or ``"pre->post"`` without one; ``pre`` and ``post`` name nodes of the network.
    ``conn`` is the connectivity call (:data:`snndsl.registry.CONNECTIVITY`, weights ``w`` and bias ``b``),
    ``synapse`` the synapse between weights and target (``None``: the weighted input arrives as it is),
    ``output`` how it enters the port (``None``: a current), ``port`` the target's port (``None``: its
    first). ``delay`` is the Quantity written (or ``None``), ``delay_steps`` the same in whole steps of the
    network's dt (0 without a delay); ``facts`` are filled in by the inference pass."""

    name: str
    pre: str
    post: str
    conn: Spec
    synapse: SynapseUse | None = None
    output: Spec | None = None
    port: str | None = None
    delay: Any = None
    delay_steps: int = 0
    delay_span: Span | None = attrs.field(default=None, eq=False, repr=False)
    facts: ProjectionFacts | None = None
    span: Span | None = _span
    #: ``plasticity = Model(...)`` (``None``: fixed weights)
    plasticity: PlasticityUse | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Network:
    """``network name { ... }``: the time step ``dt`` (a Quantity), its ``inputs``, ``populations`` (readouts
    included) and ``projections`` in declaration order, and ``outputs``, the names of the nodes whose output
    the network's ``update`` returns each step (one value, or a tuple in this order)."""

    name: str
    dt: Any
    inputs: tuple[InputDef, ...] = ()
    populations: tuple[Population, ...] = ()
    projections: tuple[Projection, ...] = ()
    outputs: tuple[str, ...] = ()
    output_spans: tuple[Span, ...] = attrs.field(default=(), eq=False, repr=False)
    #: (pre, post) of connect statements that failed to resolve (already reported): graph checks count
    #: them as edges so they cause no follow-on "unused" or "not driven" reports.
    unresolved: tuple[tuple[str, str], ...] = attrs.field(default=(), eq=False, repr=False)
    dt_span: Span | None = attrs.field(default=None, eq=False, repr=False)
    #: ``precision = ...``: the float type of every array, ``float32`` or ``float64`` (JAX's x64 mode);
    #: ``None`` when not written (float32)
    precision: str | None = None
    span: Span | None = _span
    #: ``duration = ...``: how long ``snndsl run`` simulates by default (a time Quantity, or ``None``)
    duration: Any = attrs.field(default=None, kw_only=True)
    _nodes: dict = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        nodes: dict = {}
        for n in (*self.inputs, *self.populations):
            nodes.setdefault(n.name, n)
        object.__setattr__(self, "_nodes", nodes)     # by name: lookups stay O(1) in networks of any size

    def node(self, name: str) -> InputDef | Population | None:
        """The input or population called ``name``, or ``None``."""
        return self._nodes.get(name)


@attrs.frozen
class Train:
    """``train network { ... }``: how to train ``network``.

    ``data`` is the data source call (:data:`snndsl.registry.DATA`; ``None``: data must come from
    ``snndsl train --data``), ``loss`` the loss expression (over :class:`Ref` ``pop``/``special`` names and
    :class:`Field` reads), ``optimizer`` and ``loop`` registry calls (default ``adam()`` and ``bptt``),
    ``epochs``, ``batch`` (``None``: every sample in one batch), ``seed``, and ``devices`` (a count,
    ``"all"``, or ``None``: one device). ``setting_spans`` locate the settings as written (:meth:`where`).
    """

    network: str
    data: Spec | None
    loss: Expr | None
    optimizer: Spec
    loop: Spec
    epochs: int
    batch: int | None
    seed: int
    devices: int | str | None = None
    setting_spans: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span | None = _span

    def where(self, key: str) -> Span | None:
        """The span of setting ``key`` (the whole block when it was not written)."""
        return next((s for k, s in self.setting_spans if k == key), self.span)


@attrs.frozen
class Program:
    """Everything one file defines or imports: models by name, networks and train blocks."""

    models: tuple[Model, ...] = ()
    networks: tuple[Network, ...] = ()
    trains: tuple[Train, ...] = ()

    _by_name: dict = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_name: dict = {}
        for kind, items in (("model", self.models), ("network", self.networks)):
            for item in items:
                by_name.setdefault((kind, item.name), item)
        object.__setattr__(self, "_by_name", by_name)

    def model(self, name: str) -> Model | None:
        """The neuron or synapse model ``name`` (defined or imported), or ``None``."""
        return self._by_name.get(("model", name))

    def network(self, name: str) -> Network | None:
        """The network ``name``, or ``None``."""
        return self._by_name.get(("network", name))


# ---------------------------------------------------------------- units and constants as text


def show_unit(unit: Any) -> str:
    """A unit as people write it: ``mV/ms``, ``nS/mm^2``, ``1`` for dimensionless; ``None`` (a synapse state
    that takes its input's unit) as ``<unit of its input>``."""
    if unit is None:
        return "<unit of its input>"
    text = str(unit).replace(" / ", "/").replace(" * ", "*")
    return "1" if text in ("", "Unit(1)") else text


def show_value(value: Any) -> str:
    """A constant as .snn text: ``20.0 ms``, ``0.3``; an array-valued Quantity shows its array, a unit its
    name (:func:`show_unit`), anything else ``str(value)``."""
    if isinstance(value, u.Quantity):
        mant = value.mantissa
        num = repr(float(mant)) if getattr(mant, "ndim", 0) == 0 else str(mant)
        unit = show_unit(value.unit)
        return num if unit == "1" else f"{num} {unit}"
    if isinstance(value, u.Unit):
        return show_unit(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)
