"""White noise in ODEs: splitting ``dX/dt = f + g xi`` into its drift ``f`` and diffusion ``g``.

``xi`` is Gaussian white noise with unit 1/sqrt(time), as Brian2's ``xi``: <xi(t) xi(t')> = delta(t - t').
An ODE that mentions it is a stochastic differential equation dX = f dt + g dW, integrated by Euler-Maruyama
(the drift by the model's method, then X += g sqrt(dt) N(0, 1), :mod:`snndsl.lower.noise`). The right-hand
side must be affine in ``xi``: ``xi`` may be multiplied or divided by terms free of it, never squared, put in
a function or a denominator (SNN262). Checks and the lowering both use :func:`split_noise`.
"""

from __future__ import annotations

import attrs

from snndsl import ir

#: The kind of :class:`~snndsl.ir.Ref` that ``xi`` resolves to inside an ODE's right-hand side.
NOISE = "noise"


@attrs.frozen
class NoiseSplit:
    """``rhs = drift + diffusion * xi``: ``drift`` is ``None`` when the ODE has no deterministic part,
    ``diffusion`` is ``None`` when it has no noise; ``term`` is the additive term of the right-hand side that
    holds ``xi`` (where a unit error is reported)."""

    drift: ir.Expr | None
    diffusion: ir.Expr | None
    term: ir.Expr | None = None


class NotAffine(Exception):
    """The right-hand side is not affine in ``xi``; ``node`` is the sub-expression where it stops being."""

    def __init__(self, node: ir.Expr):
        super().__init__("not affine in xi")
        self.node = node


def has_noise(expr: ir.Expr | None) -> bool:
    """Whether ``expr`` mentions ``xi``."""
    if expr is None:
        return False
    if isinstance(expr, ir.Ref):
        return expr.kind == NOISE
    if isinstance(expr, ir.Neg):
        return has_noise(expr.operand)
    if isinstance(expr, ir.BinOp):
        return has_noise(expr.left) or has_noise(expr.right)
    if isinstance(expr, ir.Func):
        return any(has_noise(a) for a in expr.args)
    return False


def _mul(a: ir.Expr | None, b: ir.Expr, op: str, span) -> ir.Expr | None:
    """``a op b`` keeping ``None`` (zero) as zero."""
    return None if a is None else ir.BinOp(op, a, b, span=span)


def _add(a: ir.Expr | None, b: ir.Expr | None, op: str, span) -> ir.Expr | None:
    """``a op b`` (``+`` or ``-``) where ``None`` is zero."""
    if b is None:
        return a
    if a is None:
        return b if op == "+" else ir.Neg(b, span=span)
    return ir.BinOp(op, a, b, span=span)


def _split(e: ir.Expr) -> tuple[ir.Expr | None, ir.Expr | None]:
    """``(f, g)`` with e = f + g xi (``None`` for zero); raises :class:`NotAffine`."""
    if not has_noise(e):
        return e, None
    if isinstance(e, ir.Ref):
        return None, ir.Const(1.0, span=e.span)
    if isinstance(e, ir.Neg):
        f, g = _split(e.operand)
        return (None if f is None else ir.Neg(f, span=e.span)), (None if g is None else ir.Neg(g, span=e.span))
    if isinstance(e, ir.BinOp) and e.op in "+-":
        (f1, g1), (f2, g2) = _split(e.left), _split(e.right)
        return _add(f1, f2, e.op, e.span), _add(g1, g2, e.op, e.span)
    if isinstance(e, ir.BinOp) and e.op == "*":
        left_noisy = has_noise(e.left)
        if left_noisy and has_noise(e.right):
            raise NotAffine(e)
        noisy, other = (e.left, e.right) if left_noisy else (e.right, e.left)
        if isinstance(noisy, ir.Ref):      # g * xi: the factor itself
            return None, other
        f, g = _split(noisy)
        return _mul(f, other, "*", e.span), _mul(g, other, "*", e.span)
    if isinstance(e, ir.BinOp) and e.op == "/" and not has_noise(e.right):
        f, g = _split(e.left)
        return _mul(f, e.right, "/", e.span), _mul(g, e.right, "/", e.span)
    raise NotAffine(e)


def _term(e: ir.Expr) -> ir.Expr:
    """The additive term of ``e`` that holds ``xi``: down through ``+``, ``-`` and negation."""
    while True:
        if isinstance(e, ir.Neg) and has_noise(e.operand):
            e = e.operand
        elif isinstance(e, ir.BinOp) and e.op in "+-":
            e = e.left if has_noise(e.left) else e.right
        else:
            return e


def split_noise(rhs: ir.Expr) -> NoiseSplit:
    """Split an ODE's right-hand side into drift and diffusion, ``rhs = drift + diffusion * xi``.

    Exact algebra on the tree: sums split term by term, a product or quotient by a factor free of ``xi``
    scales both parts. Raises :class:`NotAffine` (with the offending node) for ``xi * xi``, ``xi`` in a
    denominator, a power or a function. Spans of the original nodes are kept for messages.
    """
    if not has_noise(rhs):
        return NoiseSplit(rhs, None)
    drift, diffusion = _split(rhs)
    return NoiseSplit(drift, diffusion, _term(rhs))


def noisy(model: ir.Model) -> bool:
    """Whether any ODE of ``model`` has a noise term (such a model is never fused into another's linear
    system, nor integrated as one with a synapse: its noise step belongs to it)."""
    return any(has_noise(o.rhs) for o in model.odes)


def without_noise(model: ir.Model) -> ir.Model:
    """``model`` with each ODE's right-hand side replaced by its drift (``f`` of ``f + g xi``); an ODE that is
    pure noise (no drift) is left out. What a deterministic integrator (and a linearity analysis) sees."""
    odes = []
    for ode in model.odes:
        drift = split_noise(ode.rhs).drift
        if drift is not None:
            odes.append(ode if drift is ode.rhs else attrs.evolve(ode, rhs=drift))
    return attrs.evolve(model, odes=tuple(odes))
