"""Linearity analysis of ODE systems on the IR's expression trees: what ``method exact`` and the fusion of a
synapse with its target neuron rely on.

:func:`affine` splits an expression into coefficients of chosen symbols and a remainder free of them,
f = sum_k c_k s_k + r, or says it is not affine in them. :func:`linear_system` applies it to a model's ODEs:
dx/dt = A x + b with A the coefficients of the states and b the rest (parameters, inputs, ``t``), which
the lowering turns into a propagator (:mod:`snndsl.lower.odesystem`). Coefficients are IR expressions, so
they keep their units and follow trainable parameters.
"""

from __future__ import annotations

import attrs

from snndsl import ir
from snndsl.ir.tools import substitute
from snndsl.registry import FUNCTIONS

#: The symbol key of a :class:`~snndsl.ir.Ref`: ``(kind, name)``.
Key = tuple[str, str]

ONE = ir.Const(1.0)


def _neg(e: ir.Expr | None) -> ir.Expr | None:
    """-e, with ``None`` standing for 0."""
    return None if e is None else ir.Neg(e)


def _add(a: ir.Expr | None, b: ir.Expr | None, op: str = "+") -> ir.Expr | None:
    """a + b (or a - b), with ``None`` standing for 0."""
    if b is None:
        return a
    if a is None:
        return b if op == "+" else ir.Neg(b)
    return ir.BinOp(op, a, b)


def _mul(a: ir.Expr, b: ir.Expr | None, op: str = "*") -> ir.Expr | None:
    """b * a (or b / a), with ``None`` standing for 0 and a factor 1 left out."""
    if b is None:
        return None
    if b is ONE and op == "*":
        return a
    if a is ONE:
        return b
    return ir.BinOp(op, a, b) if op == "*" else ir.BinOp(op, b, a)


@attrs.frozen
class Affine:
    """f = sum_k ``coeffs[k]`` s_k + ``rest``: ``coeffs`` maps a symbol key to its coefficient (an IR
    expression free of the symbols), ``rest`` is the remainder (``None`` for 0)."""

    coeffs: dict = attrs.field(factory=dict)
    rest: ir.Expr | None = None

    @property
    def constant(self) -> bool:
        """Whether f is free of the symbols."""
        return not self.coeffs

    def scaled(self, factor: ir.Expr, op: str = "*") -> "Affine":
        """f * factor (``op`` ``/``: f / factor), factor being free of the symbols."""
        return Affine({k: _mul(factor, c, op) for k, c in self.coeffs.items()}, _mul(factor, self.rest, op))

    def plus(self, other: "Affine", op: str = "+") -> "Affine":
        """f + other (``op`` ``-``: f - other)."""
        coeffs = dict(self.coeffs)
        for k, c in other.coeffs.items():
            coeffs[k] = _add(coeffs.get(k), c, op)
        return Affine(coeffs, _add(self.rest, other.rest, op))


def affine(expr: ir.Expr, symbols: set[Key]) -> Affine | None:
    """``expr`` as an :class:`Affine` combination of ``symbols`` (``(kind, name)`` keys), or ``None`` when
    it is not affine in them.

    A symbol is 1 s; any other reference or constant is a remainder; ``-``, ``+``, ``-`` combine term by
    term; a product needs one factor free of the symbols, a quotient a denominator free of them; a power
    or a function call must be free of them entirely (``exp(V)``, ``V^2``, ``V * g`` with both symbols
    are not affine), except ``select(switch, a, b)`` (a ``select`` rule function) of a constant switch and
    affine choices. ``let`` references must be substituted first (:func:`snndsl.ir.tools.substitute`); one
    left in counts as free of the symbols.
    """
    if isinstance(expr, ir.Ref):
        key = (expr.kind, expr.name)
        return Affine({key: ONE}) if key in symbols else Affine({}, expr)
    if isinstance(expr, ir.Neg):
        inner = affine(expr.operand, symbols)
        return None if inner is None else Affine({k: _neg(c) for k, c in inner.coeffs.items()}, _neg(inner.rest))
    if isinstance(expr, ir.BinOp):
        a, b = affine(expr.left, symbols), affine(expr.right, symbols)
        if a is None or b is None:
            return None
        if expr.op in ("+", "-"):
            return a.plus(b, expr.op)
        if expr.op == "*":
            if a.constant:
                return b.scaled(expr.left) if a.rest is not None else Affine()
            if b.constant:
                return a.scaled(expr.right) if b.rest is not None else Affine()
            return None
        if expr.op == "/":
            return a.scaled(expr.right, "/") if b.constant else None
        return Affine({}, expr) if a.constant and b.constant else None
    if isinstance(expr, ir.Func):
        parts = [affine(x, symbols) for x in expr.args]
        if any(p is None for p in parts):
            return None
        if all(p.constant for p in parts):
            return Affine({}, expr)
        if FUNCTIONS[expr.name].traits.rule == "select" and parts[0].constant:
            return _select(expr, parts[1], parts[2])
        return None
    return Affine({}, expr)


def _select(expr: ir.Func, a: Affine, b: Affine) -> Affine:
    """``select(switch, a, b)`` of two affine forms, the switch free of the symbols: each coefficient (and
    the remainder) is ``select(switch, a's, b's)``, a missing one being 0 in the other's unit."""
    def pick(x, y):
        if x is None and y is None:
            return None
        x = x if x is not None else ir.BinOp("*", y, ir.Const(0.0))
        y = y if y is not None else ir.BinOp("*", x, ir.Const(0.0))
        return ir.Func(expr.name, (expr.args[0], x, y), span=expr.span)
    keys = list(dict.fromkeys([*a.coeffs, *b.coeffs]))
    return Affine({k: pick(a.coeffs.get(k), b.coeffs.get(k)) for k in keys}, pick(a.rest, b.rest))


@attrs.frozen
class LinearSystem:
    """dx/dt = A x + R p + b for the states ``states`` (in ODE order): ``rows[i]`` is the :class:`Affine`
    form of the i-th derivative over the states and ``ports`` (input ports, coefficients R; a port is held
    at its start-of-step value, or for a conductance input linearised in the membrane by the lowering);
    the rest is b (parameters, ``t``, ...), constant over the step."""

    states: tuple[str, ...]
    ports: tuple[str, ...]
    rows: tuple[Affine, ...]

    def coeff(self, i: int, key: Key) -> ir.Expr | None:
        """The coefficient of symbol ``key`` in the i-th derivative (``None``: 0)."""
        return self.rows[i].coeffs.get(key)


def linear_system(model: ir.Model, ports: bool = True) -> LinearSystem | None:
    """``model``'s ODEs (``let`` definitions substituted) as a :class:`LinearSystem`, or ``None`` when one of
    them is not affine in the states. With ``ports`` the input ports are symbols too, so a port's
    coefficient stays separate from b (needed to linearise a conductance input); without, a port is part of
    b. :func:`nonlinear_ode` names the ODE that fails."""
    lets = {let.name: let.value for let in model.lets}
    states = tuple(o.var for o in model.odes)
    port_names = tuple(p.name for p in model.ports) if ports else ()
    symbols = {("state", s) for s in states} | {("input", p) for p in port_names}
    rows = []
    for ode in model.odes:
        row = affine(substitute(ode.rhs, lets), symbols)
        if row is None:
            return None
        rows.append(row)
    return LinearSystem(states, port_names, tuple(rows))


def nonlinear_ode(model: ir.Model) -> ir.OdeDef | None:
    """The first ODE of ``model`` whose right-hand side (``let`` definitions substituted) is not affine in
    the states with ODEs (the others' values held), or ``None`` when the system is linear. Input ports count
    as constants over the step."""
    lets = {let.name: let.value for let in model.lets}
    symbols = {("state", o.var) for o in model.odes}
    return next((o for o in model.odes if affine(substitute(o.rhs, lets), symbols) is None), None)
