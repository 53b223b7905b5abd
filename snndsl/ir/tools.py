"""Structural helpers over IR expressions: substitution of ``let`` definitions, symbol sets, linearity."""

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


def is_linear_in(expr: ir.Expr, var: str) -> bool:
    """True when ``expr`` is affine in state ``var`` (what ``method exact`` requires): a x + b with a and b
    free of ``var``.

    Computed as a polynomial degree in ``var``: a constant or another symbol is 0, ``var`` 1; ``+``/``-``
    take the larger degree, ``*`` adds them, ``/`` keeps the numerator's when the denominator is free of
    ``var``; a power or a function of ``var`` is not polynomial. ``let`` references must be substituted
    first (:func:`substitute`); a ``let`` left in counts as free of ``var``.
    """
    def degree(e) -> int | None:  # None: not polynomial in var
        if isinstance(e, ir.Ref):
            return 1 if (e.kind, e.name) == ("state", var) else 0
        if isinstance(e, ir.Const):
            return 0
        if isinstance(e, ir.Neg):
            return degree(e.operand)
        if isinstance(e, ir.BinOp):
            a, b = degree(e.left), degree(e.right)
            if a is None or b is None:
                return None
            if e.op in "+-":
                return max(a, b)
            if e.op == "*":
                return a + b
            if e.op == "/":
                return a if b == 0 else None
            return 0 if a == 0 and b == 0 else None
        if isinstance(e, ir.Func):
            return 0 if all(degree(x) == 0 for x in e.args) else None
        return None
    d = degree(expr)
    return d is not None and d <= 1


def membrane(model: ir.Model) -> str | None:
    """The state a conductance input and the spike condition act on (V in most models): the state on the
    left of ``spike when``, else the state the reset sets, else the first state (``None`` without states)."""
    if model.spike is not None and isinstance(model.spike.left, ir.Ref) and model.spike.left.kind == "state":
        return model.spike.left.name
    if model.reset is not None:
        return model.reset.var
    return model.states[0].name if model.states else None
