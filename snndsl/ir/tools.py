"""Structural helpers over IR expressions: substitution of ``let`` definitions, symbol sets, the membrane
(linearity: :mod:`snndsl.ir.linear`)."""

from __future__ import annotations

import attrs

from snndsl import ir


def substitute(expr: ir.Expr | None, lets: dict[str, ir.Expr]) -> ir.Expr | None:
    """``expr`` with every ``let`` reference replaced by its definition (itself substituted).

    ``lets`` maps each ``let`` name to its definition; resolution rejects cyclic definitions, so the
    recursion ends. Spans are kept, so a diagnostic on the result still points into the source. ``None``
    stays ``None`` (an optional field such as a spike scale).
    """
    if expr is None:
        return None
    if isinstance(expr, ir.Ref) and expr.kind == "let":
        return substitute(lets[expr.name], lets)
    if isinstance(expr, ir.Neg):
        return attrs.evolve(expr, operand=substitute(expr.operand, lets))
    if isinstance(expr, ir.BinOp):
        return attrs.evolve(expr, left=substitute(expr.left, lets), right=substitute(expr.right, lets))
    if isinstance(expr, ir.Func):
        return attrs.evolve(expr, args=tuple(substitute(a, lets) for a in expr.args))
    return expr


def refs(expr: ir.Expr | None) -> set[tuple[str, str]]:
    """``(kind, name)`` of every symbol ``expr`` mentions."""
    if expr is None:
        return set()
    if isinstance(expr, ir.Ref):
        return {(expr.kind, expr.name)}
    if isinstance(expr, ir.Neg):
        return refs(expr.operand)
    if isinstance(expr, ir.BinOp):
        return refs(expr.left) | refs(expr.right)
    if isinstance(expr, ir.Func):
        return set().union(*(refs(a) for a in expr.args))
    return set()


def membrane(model: ir.Model) -> str | None:
    """The state a conductance input and the spike condition act on (V in most models): the state on the
    left of ``spike when``, else the state the reset sets, else the first state (``None`` without states)."""
    if model.spike is not None and isinstance(model.spike.left, ir.Ref) and model.spike.left.kind == "state":
        return model.spike.left.name
    if model.reset is not None:
        return model.reset.var
    return model.states[0].name if model.states else None
