"""The syntactic tree: frozen attrs classes mirroring grammars/snn.lark one rule to one class.

Nothing here knows what a name means; that is :mod:`snndsl.resolve`'s job. Every node carries the
:class:`~snndsl.source.Span` it was parsed from; spans never take part in equality, so two texts that differ
only in layout or comments give equal trees (the formatter's round-trip tests rely on it).
"""

from __future__ import annotations

from typing import NamedTuple

import attrs

from snndsl.source import Span

_span = attrs.field(eq=False, repr=False, kw_only=True)


@attrs.frozen
class Node:
    """Base of every syntax node."""

    span: Span = _span


# ---------------------------------------------------------------- leaves


@attrs.frozen
class Ident(Node):
    """An identifier as written, with its own span (so carets land on the name, not the statement)."""

    name: str


# ---------------------------------------------------------------- expressions


@attrs.frozen
class Number(Node):
    """A plain number literal; ``text`` keeps the spelling (``3e-3``)."""

    text: str


@attrs.frozen
class Quantity(Node):
    """A number with a unit glued to it: ``20 ms``, ``0.5 nS/mm^2``."""

    number: str
    unit: str


@attrs.frozen
class String(Node):
    """A double-quoted string (file paths in a train block); never evaluated."""

    value: str


@attrs.frozen
class Name(Node):
    """A bare name in an expression (``V``, ``tau``, ``label``); what it names is decided by resolution."""

    ident: Ident


@attrs.frozen
class Attribute(Node):
    """``owner.field``, e.g. ``post.V`` or ``hidden.V`` in a loss."""

    owner: Ident
    field: Ident


@attrs.frozen
class BinOp(Node):
    """``left op right`` with ``op`` one of ``+ - * / ^``."""

    op: str
    left: "Expr"
    right: "Expr"


@attrs.frozen
class Neg(Node):
    """Unary minus ``-operand`` (``-2 mV`` is ``Neg(Quantity)``: there are no negative literals)."""

    operand: "Expr"


@attrs.frozen
class Arg(Node):
    """One call argument: ``[trainable] [name =] value``."""

    value: "Expr"
    name: Ident | None = None
    trainable: bool = False


@attrs.frozen
class Call(Node):
    """``func(args...)``: a function in an expression, or a model, initialiser, surrogate... in a declaration."""

    func: Ident
    args: tuple[Arg, ...] = ()


@attrs.frozen
class Array(Node):
    """An array literal ``[a, b, c]``: ``items`` are expressions, nested arrays for the rows of a matrix
    (``[[0.1, 0.2], [0.3, 0.4]] * nA``)."""

    items: tuple["Expr", ...]


Expr = Number | Quantity | String | Name | Attribute | BinOp | Neg | Call | Array


# ---------------------------------------------------------------- units in type position


@attrs.frozen
class UnitName(Node):
    """A unit name in type position: ``mV``, ``ms``, ``nS`` (looked up in :mod:`snndsl.resolve.unit_names`)."""

    ident: Ident


@attrs.frozen
class UnitPow(Node):
    """``ident ^ exponent`` in a unit, the exponent a signed integer: ``mm^2``, ``s^-1``."""

    ident: Ident
    exponent: int


@attrs.frozen
class UnitOne(Node):
    """The literal ``1`` (dimensionless, as in ``1/ms``)."""


@attrs.frozen
class UnitOp(Node):
    """``left * right`` or ``left / right`` (``op`` is ``*`` or ``/``)."""

    op: str
    left: "Unit"
    right: "Unit"


Unit = UnitName | UnitPow | UnitOne | UnitOp


# ---------------------------------------------------------------- model statements


@attrs.frozen
class ParamDecl(Node):
    """``param name[: unit] [= default]``: a model parameter; without a unit it takes its default's (one of the
    two must be written)."""

    name: Ident
    unit: Unit | None
    default: Expr | None


@attrs.frozen
class StateDecl(Node):
    """``state name[: unit] [= init]``: without a unit, a neuron state takes its initial value's unit and a
    synapse state the unit it receives."""

    name: Ident
    unit: Unit | None
    init: Expr | None


@attrs.frozen
class InputDecl(Node):
    """``input name: unit``: an input port of a neuron model (what projections deliver, in ``unit``)."""

    name: Ident
    unit: Unit


@attrs.frozen
class LetDecl(Node):
    """``let name = value``: an algebraic definition inside a model."""

    name: Ident
    value: Expr


@attrs.frozen
class Ode(Node):
    """``dX/dt = rhs``; ``var`` is X, with the span of X inside the ``dX/dt`` token."""

    var: Ident
    rhs: Expr


@attrs.frozen
class SpikeStmt(Node):
    """``spike when left op right [, scale = scale] [, crossing]``; ``crossing``: a spike only on the step
    the condition becomes true."""

    left: Expr
    op: str
    right: Expr
    scale: Expr | None = None
    crossing: bool = False


@attrs.frozen
class ResetStmt(Node):
    """``reset mode var = value``: ``mode`` is ``soft`` (subtract threshold - value) or ``hard`` (set to
    value)."""

    mode: str
    var: Ident
    value: Expr


@attrs.frozen
class OnSpike(Node):
    """``on_spike var op value`` with ``op`` one of ``= += -=``."""

    var: Ident
    op: str
    value: Expr


@attrs.frozen
class RefractoryStmt(Node):
    """``refractory period``: the time after a spike during which the membrane is held."""

    period: Expr


@attrs.frozen
class SurrogateStmt(Node):
    """``surrogate call``: the model's surrogate gradient; a bare name ``surrogate arctan`` is parsed as the call
    ``arctan()``."""

    call: Call


@attrs.frozen
class MethodStmt(Node):
    """``method name``: the model's integration method (``exp_euler``, ``exact``, ``euler``, ``rk4``)."""

    name: Ident


@attrs.frozen
class OutputStmt(Node):
    """``output value``: what a synapse delivers to the postsynaptic port."""

    value: Expr


ModelStmt = (ParamDecl | StateDecl | InputDecl | LetDecl | Ode | SpikeStmt | ResetStmt | OnSpike
             | RefractoryStmt | SurrogateStmt | MethodStmt | OutputStmt)


@attrs.frozen
class NeuronDef(Node):
    """``neuron name { body }``: the statements of a neuron model, in source order."""

    name: Ident
    body: tuple[ModelStmt, ...]


@attrs.frozen
class SynapseDef(Node):
    """``synapse name { body }``: the statements of a synapse model (no ports, spike or reset), in source
    order."""

    name: Ident
    body: tuple[ModelStmt, ...]


@attrs.frozen
class PlasticState(Node):
    """``state name[: unit] per scope [= init]`` in a plasticity model: ``scope`` is ``connection`` (one value
    per synapse), ``pre`` (per presynaptic neuron) or ``post`` (per postsynaptic neuron)."""

    name: Ident
    unit: Unit | None
    scope: str
    init: Expr | None


@attrs.frozen
class AssignStmt(Node):
    """``name op value`` inside a spike handler (``op`` is ``=``, ``+=`` or ``-=``)."""

    var: Ident
    op: str
    value: Expr


@attrs.frozen
class TransmitStmt(Node):
    """``transmit value`` inside ``on_pre``: what an arriving spike delivers through each of its connections."""

    value: Expr


@attrs.frozen
class Handler(Node):
    """``on_pre { ... }`` or ``on_post { ... }`` (``event`` is the keyword): statements run, in order, for each
    presynaptic spike as it arrives or each postsynaptic spike."""

    event: str
    body: tuple[AssignStmt | TransmitStmt, ...]


@attrs.frozen
class PlasticityDef(Node):
    """``plasticity name { body }``: per-synapse, per-pre and per-post state, their ODEs and spike handlers."""

    name: Ident
    body: tuple[ParamDecl | PlasticState | Ode | Handler | MethodStmt, ...]


# ---------------------------------------------------------------- networks


@attrs.frozen
class DtStmt(Node):
    """``dt = value``: the network's time step."""

    value: Expr


@attrs.frozen
class DurationStmt(Node):
    """``duration = value``: how long ``snndsl run`` simulates the network when not told otherwise."""

    value: Expr


@attrs.frozen
class NetInput(Node):
    """``input name: kind[size] [unit] [= encoder(...)]``."""

    name: Ident
    kind: Ident
    size: Expr
    unit: Unit | None
    source: Call | None


@attrs.frozen
class PopDecl(Node):
    """``pop name = Model(size, args...)``: a population of a neuron model."""

    name: Ident
    call: Call


@attrs.frozen
class ReadoutDecl(Node):
    """``readout name = Model(size, args...)``: a non-spiking population (a neuron or a synapse model with
    state)."""

    name: Ident
    call: Call


@attrs.frozen
class ConnectStmt(Node):
    """``connect [label:] pre -> post: conn(...), key = value, ...``."""

    label: Ident | None
    pre: Ident
    post: Ident
    conn: Call
    options: tuple[Arg, ...] = ()


@attrs.frozen
class NetOutput(Node):
    """``output a, b``: the nodes whose output the network returns each step, in this order."""

    names: tuple[Ident, ...]


@attrs.frozen
class PrecisionStmt(Node):
    """``precision = float64``: the float type of the network's arrays (``float32`` by default)."""

    name: Ident


NetStmt = DtStmt | DurationStmt | NetInput | PopDecl | ReadoutDecl | ConnectStmt | NetOutput | PrecisionStmt


@attrs.frozen
class NetworkDef(Node):
    """``network name { body }``: inputs, populations, projections, ``dt`` and outputs, in source order."""

    name: Ident
    body: tuple[NetStmt, ...]


# ---------------------------------------------------------------- training and files


@attrs.frozen
class Setting(Node):
    """``key = value`` in a train block; which keys exist and what they take is the registry's ``SETTINGS``."""

    key: Ident
    value: Expr


@attrs.frozen
class TrainDef(Node):
    """``train network { settings }``: how to train the named network."""

    network: Ident
    settings: tuple[Setting, ...]


@attrs.frozen
class ImportStmt(Node):
    """``import "path"`` or ``import A, B from "path"`` (``names`` empty for the first form)."""

    path: str
    names: tuple[Ident, ...] = ()


Item = ImportStmt | NeuronDef | SynapseDef | PlasticityDef | NetworkDef | TrainDef


@attrs.frozen
class Module(Node):
    """One parsed ``.snn`` file."""

    items: tuple[Item, ...]


#: Deepest syntax tree accepted (SNN105): each operator of a chain (`a + b + c`) and each call adds a level, so
#: a sum of ~250 terms or ~120 nested calls still parses; every later phase, and the emitted Python,
#: handles this depth (tests/fixtures/hostile has models at the limit).
MAX_DEPTH = 256


class Comment(NamedTuple):
    """A ``#`` comment as written: 1-based ``line``/``column`` of the ``#``, its ``text`` (from ``#`` to the end
    of the line, trailing whitespace removed), and ``own_line``: nothing but whitespace precedes it on its line."""

    line: int
    column: int
    text: str
    own_line: bool
