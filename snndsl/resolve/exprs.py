"""Expressions: AST → IR with names bound through a :class:`Scope`, and constant evaluation."""

from __future__ import annotations

from typing import Any

from snndsl import units as u
from snndsl.syntax import ast
from snndsl import ir
from snndsl.ir.evaluate import UnitError, evaluate
from snndsl.diagnostics import Diagnostics, did_you_mean, one_of
from snndsl.registry import FUNCTIONS
from snndsl.resolve.unit_names import lookup, unit_text


#: The function reading an array from a file (``load("w.npy")``), a value only where arrays are allowed.
LOAD = "load"
ARRAYS_HINT = ("arrays are values of a population's or synapse's parameters and states (one per neuron) and of "
               "weights and biases, e.g. `tau = [10, 20] * ms`, `w = load(\"w.npy\") * nA`")


class Scope:
    """Names visible in one expression: ``symbols`` maps a name to an :data:`ir.REF_KINDS` kind.

    Names not in ``symbols`` fall back to the time ``t`` and step ``dt`` (where ``with_time``), then to units
    (``ms`` is the quantity 1 ms). ``calls`` extends the math functions (train blocks add losses and
    reductions); ``fields`` allows ``pop.var`` (train blocks).
    """

    def __init__(self, symbols: dict[str, str] | None = None, *, with_time: bool = False,
                 calls: dict[str, Any] | None = None, fields: bool = False, where: str = "here",
                 absent: dict[str, tuple[str, str, str]] | None = None, arrays: Any = None):
        """``where`` ends messages about this scope (``in neuron LIF``); ``absent`` maps names that exist elsewhere
        (a synapse's ``w`` outside ``on_spike``) to the ``(code, message, hint)`` reported when they are used.
        ``arrays`` (a :class:`snndsl.resolve.arrays.ArrayContext`) allows array literals and ``load(...)``;
        without it they are SNN270."""
        self.symbols = dict(symbols or {})
        self.absent = absent or {}   # names that exist elsewhere: name -> (code, message, hint)
        self.with_time = with_time
        self.calls = calls or {}
        self.fields = fields
        self.where = where
        self.arrays = arrays

    def child(scope, **more: str) -> "Scope":   # noqa: N805 - `self` may be a user's symbol in **more
        """A copy of this scope with ``more`` added to (or replacing) its symbols, ``name=kind``; the original is
        unchanged. Used to make ``let`` definitions visible to the ones after them.
        """
        s = Scope(scope.symbols, with_time=scope.with_time, calls=scope.calls, fields=scope.fields,
                  where=scope.where, absent=scope.absent, arrays=scope.arrays)
        s.symbols.update(more)
        return s


def resolve_expr(node: ast.Expr, scope: Scope, diags: Diagnostics) -> ir.Expr | None:
    """The IR of ``node`` with every name bound through ``scope``; ``None`` if any part failed.

    Numbers become float :class:`ir.Const`, quantities ``Const(Quantity)``; a name is looked up in
    ``scope.symbols`` (:class:`ir.Ref` of that kind), then ``t``/``dt`` where ``scope.with_time``, then as a unit
    of two or more letters (``ms`` is ``Const(1 ms)``). Calls go to ``scope.calls`` first, then to the math
    functions (positional arguments only, arity checked). Array literals and ``load(...)`` need
    ``scope.arrays`` (SNN270 otherwise), which folds them to constant arrays. Nothing else is evaluated or
    unit-checked here.

    Problems are reported to ``diags``, never raised: SNN201 (undefined name or population), SNN203 (a named
    argument to a math function), SNN204 (wrong number of arguments), SNN207/SNN218 (unknown loss or function),
    SNN219 (a string or ``pop.var`` where not allowed), SNN209 (unknown unit in a quantity), and the codes of
    ``scope.absent`` entries. Raises ``TypeError`` only for a node that is not an expression (a bug).
    """
    if isinstance(node, ast.Number):
        return ir.Const(float(node.text), span=node.span)
    if isinstance(node, ast.Quantity):
        unit = unit_text(node.unit, node.span, diags)
        return None if unit is None else ir.Const(u.Quantity(float(node.number), unit=unit), span=node.span)
    if isinstance(node, ast.String):
        diags.error("SNN219", "a string is not a value here", node.span)
        return None
    if isinstance(node, ast.Name):
        return _name(node.ident, scope, diags)
    if isinstance(node, ast.Attribute):
        if not scope.fields:
            diags.error("SNN219", f"`{node.owner.name}.{node.field.name}` is not allowed {scope.where}", node.span,
                        "attributes (pop.var) are only used in train blocks")
            return None
        if scope.symbols.get(node.owner.name) != "pop":
            diags.error("SNN201", f"undefined population `{node.owner.name}`", node.owner.span,
                        did_you_mean(node.owner.name, [k for k, v in scope.symbols.items() if v == "pop"]))
            return None
        return ir.Field(node.owner.name, node.field.name, span=node.span)
    if isinstance(node, ast.Neg):
        inner = resolve_expr(node.operand, scope, diags)
        return None if inner is None else ir.Neg(inner, span=node.span)
    if isinstance(node, ast.BinOp):
        left, right = resolve_expr(node.left, scope, diags), resolve_expr(node.right, scope, diags)
        return None if left is None or right is None else ir.BinOp(node.op, left, right, span=node.span)
    if isinstance(node, ast.Call):
        return _call(node, scope, diags)
    if isinstance(node, ast.Array):
        if scope.arrays is None:
            where = "here: it takes a single value" if scope.where == "in a constant" else scope.where
            diags.error("SNN270", f"an array is not allowed {where}", node.span, ARRAYS_HINT)
            return None
        return scope.arrays.literal(node, scope, diags)
    raise TypeError(type(node).__name__)


def _name(ident: ast.Ident, scope: Scope, diags: Diagnostics) -> ir.Expr | None:
    """A bare name: a symbol of ``scope``, ``t``/``dt`` where time is visible, or a unit of two or more letters
    (``ms`` is ``1 ms``); single letters are never units. Otherwise SNN201 with a did-you-mean hint, or the
    message ``scope.absent`` gives for a name that exists elsewhere."""
    name = ident.name
    kind = scope.symbols.get(name)
    if kind is not None:
        return ir.Ref(kind, name, span=ident.span)
    if name in scope.absent:
        code, message, hint = scope.absent[name]
        diags.error(code, message, ident.span, hint)
        return None
    if scope.with_time and name in ("t", "dt"):
        return ir.Ref("time" if name == "t" else "dt", name, span=ident.span)
    unit = lookup(name) if len(name) >= 2 else None
    if unit is not None:
        return ir.Const(u.Quantity(1.0, unit=unit), span=ident.span)
    hint = did_you_mean(name, list(scope.symbols) + (["t", "dt"] if scope.with_time else []))
    if hint is None and lookup(name) is not None:
        hint = f"to mean the unit, write it with a number: `1 {name}` (single letters are never bare units)"
    diags.error("SNN201", f"undefined name `{name}`", ident.span, hint)
    return None


def _call(node: ast.Call, scope: Scope, diags: Diagnostics) -> ir.Expr | None:
    """A call in an expression: one of ``scope.calls`` (losses and reductions in a train block), else a math
    function with positional arguments only (SNN203) and its arity (SNN204). An unknown name is SNN207 in a
    train block, SNN218 elsewhere."""
    name = node.func.name
    if name in scope.calls:
        return scope.calls[name](node, scope, diags)
    if name == LOAD:
        if scope.arrays is None:
            diags.error("SNN270", f"an array read from a file is not allowed {scope.where}", node.span, ARRAYS_HINT)
            return None
        return scope.arrays.load(node, diags)
    if name not in FUNCTIONS:
        if scope.calls:   # a train block: losses and reductions first
            diags.error("SNN207", f"unknown loss or reduction `{name}`", node.func.span,
                        did_you_mean(name, list(scope.calls) + FUNCTIONS.names()) or one_of(scope.calls))
            return None
        diags.error("SNN218", f"unknown function `{name}`", node.func.span,
                    did_you_mean(name, FUNCTIONS.names()) or one_of(FUNCTIONS.names()))
        return None
    lo, hi = FUNCTIONS[name].traits.arity
    for a in node.args:
        if a.name is not None or a.trainable:
            diags.error("SNN203", f"{name}() takes no named arguments", a.span)
            return None
    if not lo <= len(node.args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        diags.error("SNN204", f"{name}() takes {want} argument{'s' if hi > 1 else ''}, got {len(node.args)}",
                    node.span)
        return None
    args = [resolve_expr(a.value, scope, diags) for a in node.args]
    return None if any(a is None for a in args) else ir.Func(name, tuple(args), span=node.span)


def constant(node: ast.Expr, diags: Diagnostics, scope: Scope | None = None, env=None) -> Any:
    """Evaluate a constant expression (numbers, quantities, units, arithmetic, math functions), or ``None``
    after an error reported to ``diags``.

    ``scope`` (default: no symbols) says which names may appear; ``env`` maps each such :class:`ir.Ref` to its
    value (e.g. earlier parameters). Without ``env`` any name is SNN219 ("not a constant"). Unit mismatches
    and other evaluation errors are reported with their own codes (see :func:`fold`).
    """
    expr = resolve_expr(node, scope or Scope(where="in a constant"), diags)
    if expr is None:
        return None
    return fold(expr, diags, env)


def fold(expr: ir.Expr, diags: Diagnostics, env=None) -> Any:
    """The value of an IR expression (:func:`snndsl.ir.evaluate.evaluate`), with each :class:`ir.Ref` looked
    up through ``env(ref)``; without ``env`` a reference is SNN219.

    Returns a float or :class:`snndsl.units.Quantity` (NaN in the right unit where a division by zero or an
    overflow occurs), or ``None`` after reporting the evaluator's :class:`UnitError` (SNN302/304/308 unit
    errors, a non-constant name) to ``diags``. ``env`` may itself raise :class:`UnitError` to refuse a name.
    A ``pop.var`` :class:`ir.Field` cannot be evaluated (``TypeError``).
    """
    def lookup_ref(ref: ir.Ref):
        if env is None:
            raise UnitError("SNN219", f"`{ref.name}` is not a constant", ref.span,
                            "only numbers, quantities and units are allowed here")
        return env(ref)
    try:
        return evaluate(expr, lookup_ref)
    except UnitError as e:
        diags.error(e.code, e.message, e.span, e.hint)
        return None
