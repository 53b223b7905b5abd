"""The checked model: frozen attrs classes with names bound and units as brainunit objects.

The IR is what checks inspect and the lowering reads. Names are resolved (a :class:`Ref` says what kind of
thing it names), quantities are :class:`brainunit.Quantity`, registry calls are :class:`Spec`. Every node keeps
the span of the source it came from (never compared). :func:`dump` renders any IR value as stable text, the
format of the golden IR files.
"""

from __future__ import annotations

from typing import Any

import attrs
import brainunit as u

from snndsl.source import Span

_span = attrs.field(default=None, eq=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- expressions


@attrs.frozen
class Const:
    """A literal: a float, or a :class:`brainunit.Quantity` (a bare unit name is ``1 unit``)."""

    value: Any
    span: Span | None = _span


#: Kinds of :class:`Ref`: model parameters, states, input ports, ``let`` definitions, the synapse's weighted
#: input ``w``, the time ``t`` and step ``dt``; in train blocks, populations and the special names.
REF_KINDS = ("param", "state", "input", "let", "weight", "time", "dt", "pop", "special")


@attrs.frozen
class Ref:
    kind: str = attrs.field(validator=attrs.validators.in_(REF_KINDS))
    name: str
    span: Span | None = _span


@attrs.frozen
class BinOp:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span


@attrs.frozen
class Neg:
    operand: "Expr"
    span: Span | None = _span


@attrs.frozen
class Func:
    """A math function (:data:`snndsl.registry.FUNCTIONS`) or, in a loss, a loss/reduction entry."""

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
        return next((v for k, v in self.args if k == name), default)


# ---------------------------------------------------------------- models


@attrs.frozen
class ParamDef:
    """``param name: unit = default``; ``unit`` is a brainunit Unit (dimensionless ``Unit(1)``)."""

    name: str
    unit: Any
    default: Expr | None
    span: Span | None = _span


@attrs.frozen
class StateDef:
    """``state name: unit = init``; ``unit`` is ``None`` for a synapse state that takes its input's unit."""

    name: str
    unit: Any
    init: Expr | None
    span: Span | None = _span


@attrs.frozen
class PortDef:
    name: str
    unit: Any
    span: Span | None = _span


@attrs.frozen
class LetDef:
    name: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class OdeDef:
    var: str
    rhs: Expr
    span: Span | None = _span


@attrs.frozen
class SpikeDef:
    """``spike when left op right, scale = scale``; ``scale`` is filled with its default by the resolver."""

    left: Expr
    op: str
    right: Expr
    scale: Expr | None
    span: Span | None = _span


@attrs.frozen
class ResetDef:
    mode: str
    var: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class UpdateDef:
    """``on_spike var op value`` (``op`` is ``=``, ``+=`` or ``-=``)."""

    var: str
    op: str
    value: Expr
    span: Span | None = _span


@attrs.frozen
class Model:
    """A neuron (``kind == "neuron"``) or synapse model, as declared; instances live in a :class:`Network`."""

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
    #: resolution reported errors inside it: its equations are not unit-checked (no follow-on errors)
    broken: bool = attrs.field(default=False, eq=False, repr=False)
    span: Span | None = _span

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)

    def state(self, name: str) -> StateDef | None:
        return next((s for s in self.states if s.name == name), None)

    @property
    def spiking(self) -> bool:
        return self.spike is not None


# ---------------------------------------------------------------- networks


@attrs.frozen
class Value:
    """A parameter or state value of a population: a constant (Quantity or float) or an initialiser Spec."""

    value: Any
    trainable: bool = False
    span: Span | None = _span


@attrs.frozen
class InputDef:
    name: str
    kind: str
    size: int
    unit: Any
    source: Spec | None
    span: Span | None = _span


@attrs.frozen
class PopulationFacts:
    """What the inference pass (:mod:`snndsl.ir.infer`) found about a population.

    ``spiking``: it emits spikes (its model has a spike condition). ``receives``: for a readout of a
    synapse model, the unit of what its projections deliver (its states without a declared unit take it);
    ``None`` otherwise."""

    spiking: bool
    receives: Any = None


@attrs.frozen
class Population:
    """``pop`` or ``readout`` (``readout=True``): ``size`` instances of ``model`` with ``values`` overriding
    parameter defaults and state initial values. ``facts`` are filled in by the inference pass."""

    name: str
    model: str
    size: int
    values: tuple[tuple[str, Value], ...] = ()
    surrogate: Spec | None = None
    readout: bool = False
    facts: PopulationFacts | None = None
    span: Span | None = _span

    def value(self, name: str) -> Value | None:
        return next((v for k, v in self.values if k == name), None)


@attrs.frozen
class SynapseUse:
    model: str
    values: tuple[tuple[str, Value], ...] = ()
    span: Span | None = _span


@attrs.frozen
class ProjectionFacts:
    """What the inference pass (:mod:`snndsl.ir.infer`) found about a projection.

    * ``delivered``: the unit one presynaptic event delivers before any synapse (weight unit x source unit);
      the projection's synapse states without a declared unit take it;
    * ``arrives``: the unit reaching the target (the synapse's output, or ``delivered``); ``None`` when the
      synapse cannot take the input (a unit error, reported by the checks);
    * ``event_source``: the source emits spikes (0/1), so delivery can visit only the sources that fired;
    * ``storage``: how the weights are stored, from the connectivity rule: ``dense``, ``masked`` (dense with
      a fixed mask), ``sparse`` (the connected pairs only) or ``diagonal``;
    * ``hoisted``: the weighted input depends on a data input alone (no encoder, no delay), so ``project``
      computes it for a whole segment of steps at once.
    """

    delivered: Any
    arrives: Any
    event_source: bool
    storage: str
    hoisted: bool


@attrs.frozen
class Projection:
    """``connect name: pre -> post: conn, synapse = ..., output = ..., port = ..., delay = ...``.

    ``delay_steps`` is the delay in whole steps of the network's dt (0 without a delay); ``facts`` are
    filled in by the inference pass."""

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


@attrs.frozen
class Network:
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
    span: Span | None = _span
    _nodes: dict = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        nodes: dict = {}
        for n in (*self.inputs, *self.populations):
            nodes.setdefault(n.name, n)
        object.__setattr__(self, "_nodes", nodes)     # by name: lookups stay O(1) in networks of any size

    def node(self, name: str) -> InputDef | Population | None:
        return self._nodes.get(name)


@attrs.frozen
class Train:
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
        return self._by_name.get(("model", name))

    def network(self, name: str) -> Network | None:
        return self._by_name.get(("network", name))


# ---------------------------------------------------------------- dump


def show_unit(unit: Any) -> str:
    """A unit as people write it: ``mV/ms``, ``nS/mm^2``, ``1`` for dimensionless."""
    if unit is None:
        return "<unit of its input>"
    text = str(unit).replace(" / ", "/").replace(" * ", "*")
    return "1" if text in ("", "Unit(1)") else text


def show_value(value: Any) -> str:
    """A constant as .snn text: ``20 ms``, ``0.3``."""
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


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, (tuple, str)) and not v)


def dump(obj: Any, indent: int = 0) -> str:
    """Stable, readable text of an IR value (spans left out, empty fields skipped); the golden IR format."""
    pad = "  " * indent
    if isinstance(obj, (Const, Ref, BinOp, Neg, Func, Field)):
        return pad + show_expr(obj)
    if attrs.has(type(obj)):
        lines = [pad + type(obj).__name__]
        for f in attrs.fields(type(obj)):
            v = getattr(obj, f.name)
            if not f.eq or _empty(v):
                continue
            body = dump(v, indent + 2)
            if "\n" in body or (attrs.has(type(v)) and not isinstance(v, (Const, Ref, BinOp, Neg, Func, Field))):
                lines.append(f"{pad}  {f.name}:\n{body}")
            else:
                lines.append(f"{pad}  {f.name}: {body.strip()}")
        return "\n".join(lines)
    if isinstance(obj, tuple):
        if len(obj) == 2 and isinstance(obj[0], str):
            body = dump(obj[1], indent + 1)
            return f"{pad}{obj[0]} = {body.strip()}" if "\n" not in body else f"{pad}{obj[0]} =\n{body}"
        return "\n".join(f"{pad}- {dump(v, indent + 1).strip()}" if "\n" not in dump(v, indent + 1)
                         else f"{pad}-\n{dump(v, indent + 1)}" for v in obj)
    return pad + show_value(obj)


# Binding strength, loosest first, as in grammars/snn.lark: sum (``+ -``, left-associative) < product
# (``* /``, left-associative) < unary minus < power < atom. The grammar's power rule is ``atom "^" unary``: the
# base must be an atom (``-a ^ b`` is ``-(a ^ b)``, ``a ^ b ^ c`` is ``a ^ (b ^ c)``) and the exponent may carry
# its own sign (``a ^ -b``).
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)
_PREC = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "^": _POWER}


def _prec(e: Any) -> int:
    if isinstance(e, BinOp):
        return _PREC[e.op]
    if isinstance(e, Neg) or (isinstance(e, Const) and show_value(e.value).startswith("-")):
        return _UNARY
    return _ATOM


def show_expr(e: Any, parent: int = _SUM) -> str:
    """An IR expression as .snn text that parses (and resolves) back to the same tree.

    Parentheses are the fewest the grammar needs, plus a few for the reader: an operand of a unary minus that
    is a power or itself signed (``-(a ^ b)``, ``-(-a)``), a power in an exponent (``a ^ (b ^ c)``) and a
    quantity as the base of a power (``(2.0 ms) ^ 2``). A negative constant is printed with its sign and
    treated like a unary minus (``(-2.0) ^ x``; it reads back as ``Neg(2.0)``: the language has no negative
    literals). ``parent`` is the binding strength the context needs; a looser expression is parenthesised.
    """
    text = _show_expr(e)
    return f"({text})" if _prec(e) < parent else text


def _show_expr(e: Any) -> str:
    if isinstance(e, Const):
        return show_value(e.value)
    if isinstance(e, Ref):
        return e.name
    if isinstance(e, Field):
        return f"{e.pop}.{e.var}"
    if isinstance(e, Neg):
        return "-" + show_expr(e.operand, _ATOM)
    if isinstance(e, Func):
        return f"{e.name}(" + ", ".join(show_expr(a) for a in e.args) + ")"
    if isinstance(e, BinOp):
        if e.op == "^":
            base = show_expr(e.left, _ATOM)
            if isinstance(e.left, Const) and isinstance(e.left.value, u.Quantity) and base[0] != "(":
                base = f"({base})"
            exponent = show_expr(e.right, _UNARY if _prec(e.right) == _UNARY else _ATOM)
            return f"{base} ^ {exponent}"
        p = _PREC[e.op]
        # Left-associative: the left operand may bind as loosely as the operator, the right one must bind tighter.
        return f"{show_expr(e.left, p)} {e.op} {show_expr(e.right, p + 1)}"
    return show_value(e)
