"""Binding call arguments against a registry entry's parameters (one generic routine for every registry)."""

from __future__ import annotations

from typing import Any

import numpy as np

from snndsl import units as u
from snndsl.syntax import ast
from snndsl import ir
from snndsl.ir.evaluate import dimensionless, same_dim, show
from snndsl.diagnostics import Diagnostics, did_you_mean, one_of
from snndsl.registry import REGISTRIES, Entry, Param, Registry
from snndsl.resolve.exprs import Scope, constant
from snndsl.resolve.unit_names import lookup


def lookup_entry(registry: Registry, ident: ast.Ident, diags: Diagnostics) -> Entry | None:
    """The entry named by ``ident``, or ``None`` after the registry's "unknown X" error (with valid names)."""
    entry = registry.get(ident.name)
    if entry is None:
        diags.error(registry.code, f"unknown {registry.what} `{ident.name}`", ident.span,
                    did_you_mean(ident.name, registry.names()) or one_of(registry.names()))
    return entry


def spec_from(node: ast.Expr, key: str, diags: Diagnostics, expr_scope: Scope | None = None,
              arrays: Any = None) -> ir.Spec | None:
    """A call ``name(...)`` or a bare ``name`` (no arguments) of registry ``key`` → bound :class:`ir.Spec`.

    Arguments are bound by :func:`bind`, so the Spec lists every parameter of the entry, defaults filled in.
    ``expr_scope`` is the scope of arguments of kind ``expr``. Returns ``None`` after reporting: the registry's
    code (anything but a name or call, or an unknown entry, with the valid names as hint) and the codes of
    :func:`bind`/:func:`convert`; ``arrays`` allows arrays in its ``init`` arguments (:func:`convert`). Raises
    ``KeyError`` for an unknown ``key`` (a bug).
    """
    registry = REGISTRIES[key]
    if isinstance(node, ast.Name):
        node = ast.Call(node.ident, (), span=node.span)
    if not isinstance(node, ast.Call):
        diags.error(registry.code, f"expected a {registry.what}, e.g. `{registry.names()[0]}(...)`", node.span,
                    one_of(registry.names()))
        return None
    entry = lookup_entry(registry, node.func, diags)
    if entry is None:
        return None
    args = bind(node, entry, diags, expr_scope, arrays=arrays)
    return None if args is None else ir.Spec(key, entry.name, args, span=node.span)


def bind(call: ast.Call, entry: Entry, diags: Diagnostics, expr_scope: Scope | None = None,
         skip_positional: int = 0, arrays: Any = None) -> tuple[tuple[str, Any], ...] | None:
    """Match ``call``'s arguments to ``entry.params`` (positional in order, then by name), fill defaults and
    convert each value by its parameter's kind (:func:`convert`).

    ``skip_positional`` leading arguments are ignored (already taken by the caller). Returns
    ``((param name, value), ...)`` in ``entry.params`` order, or ``None`` if anything new was reported to ``diags``:
    SNN203 (no such argument), SNN204 (too many, positional after named, given twice, a required one missing),
    SNN219 (``trainable`` on a built-in's argument), or a conversion error.
    """
    before = len(diags.items)
    given: dict[str, tuple[ast.Arg, Param]] = {}
    params = entry.params
    for i, arg in enumerate(call.args[skip_positional:]):
        if arg.trainable:
            diags.error("SNN219", "`trainable` marks parameters of a model instance (in `pop`, `readout` or "
                        "`synapse = ...`), not arguments of built-in functions", arg.span)
            continue
        if arg.name is None:
            if any(a.name is not None for a in call.args[:i + skip_positional]):
                diags.error("SNN204", "a positional argument cannot follow a named one", arg.span)
                continue
            if i >= len(params):
                diags.error("SNN204", f"{entry.name}() takes at most {len(params)} argument"
                            f"{'s' if len(params) != 1 else ''}", arg.span)
                continue
            param = params[i]
        else:
            param = entry.param(arg.name.name)
            if param is None:
                names = [p.name for p in params]
                diags.error("SNN203", f"{entry.name}() has no argument `{arg.name.name}`", arg.name.span,
                            did_you_mean(arg.name.name, names) or (one_of(names) if names else
                                                                   f"{entry.name}() takes no arguments"))
                continue
        if param.name in given:
            diags.error("SNN204", f"argument `{param.name}` given twice", arg.span)
            continue
        given[param.name] = (arg, param)
    out = []
    for param in params:
        if param.name in given:
            arg, _ = given[param.name]
            out.append((param.name, convert(arg.value, param, diags, expr_scope, arrays)))
        elif param.required:
            diags.error("SNN204", f"{entry.name}() needs the argument `{param.name}`", call.span)
        else:
            out.append((param.name, param.default))
    return None if len(diags.items) > before else tuple(out)


def convert(node: ast.Expr, param: Param, diags: Diagnostics, expr_scope: Scope | None = None,
            arrays: Any = None) -> Any:
    """One argument value, checked against ``param.kind`` (see :class:`snndsl.registry.Param`); ``None`` after
    an error reported to ``diags``.

    Kinds: ``call:REG`` a nested :class:`ir.Spec` of registry REG; ``expr`` an IR expression resolved in
    ``expr_scope``; ``string`` the text of a string literal; ``unit`` a bare unit (:func:`unit_value`); ``init``
    an initialiser Spec or a finite constant (with ``arrays``, a :class:`snndsl.resolve.arrays.ArrayContext`,
    also an array: a literal or ``load(...)``, as a Quantity of a float64 array); ``bool`` the names ``true``/``false``; ``number``/``lr`` a float,
    ``int`` a whole number (an ``lr`` may also be a schedule call); ``quantity`` a finite constant of the
    dimension of ``param.unit`` (any dimension for ``"any"``). Errors: SNN305 (wrong kind or dimension), SNN506
    (not finite), plus those of constant evaluation. Raises ``KeyError`` for an unknown kind (a bug).
    """
    kind = param.kind
    if kind.startswith("call:"):
        return spec_from(node, kind[5:], diags, expr_scope)
    if kind == "expr":
        from snndsl.resolve.exprs import resolve_expr
        return resolve_expr(node, expr_scope or Scope(), diags)
    if kind == "string":
        if not isinstance(node, ast.String):
            diags.error("SNN305", f"`{param.name}` must be a \"string\"", node.span)
            return None
        return node.value
    if kind == "unit":
        return unit_value(node, param, diags)
    if kind == "init":
        if isinstance(node, ast.Call) and lookup(node.func.name) is None or (
                isinstance(node, ast.Name) and node.ident.name in REGISTRIES["initialiser"]):
            return spec_from(node, "initialiser", diags)
        if arrays is not None:
            value = constant(node, diags, Scope(where="in a constant", arrays=arrays))
            if isinstance(value, np.ndarray):
                value = u.Quantity(value)
            return _finite(node, value, diags)
        return _finite(node, constant(node, diags), diags)
    if kind == "lr" and isinstance(node, ast.Call):
        return spec_from(node, "schedule", diags)
    if kind == "bool":
        if isinstance(node, ast.Name) and node.ident.name in ("true", "false"):
            return node.ident.name == "true"
        diags.error("SNN305", f"`{param.name}` must be true or false", node.span)
        return None
    value = _finite(node, constant(node, diags), diags)
    if value is None:
        return None
    if kind in ("number", "int", "lr"):
        if not dimensionless(value):
            diags.error("SNN305", f"`{param.name}` must be a plain number, not {show(value)}", node.span)
            return None
        value = float(u.maybe_decimal(value)) if isinstance(value, u.Quantity) else float(value)
        if kind == "int":
            if not value.is_integer():
                diags.error("SNN305", f"`{param.name}` must be a whole number, not {value:g}", node.span)
                return None
            return int(value)
        return value
    if kind == "quantity":
        if param.unit != "any" and not same_dim(value, lookup(param.unit)):
            diags.error("SNN305", f"`{param.name}` must be in {param.unit} (or a unit of the same dimension), "
                        f"not {show(value)}", node.span)
            return None
        return value
    raise KeyError(kind)


def unit_value(node: ast.Expr, param: Param, diags: Diagnostics):
    """A unit argument such as ``mA`` or ``nS/mm^2`` (or ``1``): the Unit of a constant whose
    magnitude is exactly 1. A quantity such as ``2 mA`` is SNN305; returns ``None`` after any error.
    """
    value = constant(node, diags)
    if value is None:
        return None
    unit = u.get_unit(value)
    mag = float(u.get_mantissa(value)) if isinstance(value, u.Quantity) else float(value)
    if mag != 1.0:
        diags.error("SNN305", f"`{param.name}` must be a unit such as mA, not a quantity", node.span,
                    "write the unit alone: `kaiming_normal(mA)`")
        return None
    return unit


def _finite(node: ast.Expr, value: Any, diags: Diagnostics) -> Any:
    """``value`` unless its number is infinite or NaN (SNN506, then ``None``); non-numbers pass through."""
    if value is None:
        return None
    mag = u.get_mantissa(value) if isinstance(value, u.Quantity) else value
    try:
        ok = bool(np.all(np.isfinite(np.asarray(mag, dtype=np.float64))))
    except (TypeError, ValueError):
        ok = True
    if not ok:
        diags.error("SNN506", "value is not finite", node.span)
        return None
    return value
