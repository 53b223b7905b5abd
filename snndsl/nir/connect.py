"""Composed NIR projections → ``connect`` statements (the import's projections).

A projection with the identity matrix is ``one_to_one(w = 1)``, a diagonal one without bias ``one_to_one``,
any other ``dense`` (with ``b`` for a bias); an LI synapse that is a standard ``Expon`` becomes
``synapse = Expon(tau = ...)`` and a delay ``delay = k dt`` in ms. Weights are in the unit of the target's
input per unit of the source's output; when the graph names the unit of the weights' output the numbers are
converted from it. A uniform matrix is written as its value, any other goes to the parameter file with
``zeros`` in the text.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.nir import astbuild as b
from snndsl.nir.graph import Proj
from snndsl.nir.models import Context, value_args
from snndsl.nir.names import safe_name
from snndsl.nir.units import nice, parse_unit, per_neuron
from snndsl.syntax import ast


def weight_value(w: np.ndarray, unit: Any, key: str, params: dict, notes: list) -> ast.Expr:
    """A uniform ``w`` as its value; otherwise ``params[key] = w`` (float32), the key noted, and ``zeros``
    (``zeros(unit)`` when it has one) in the text."""
    flat = np.asarray(w, np.float32).reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return b.quantity(float(flat[0]), unit)
    params[key] = (np.asarray(w, np.float32), ir.show_unit(unit))
    notes.append(key)
    return b.call("zeros", b.arg(b.unit_expr(unit))) if ir.show_unit(unit) != "1" else b.name("zeros")


def _label(ctx: Context, p: Proj, labels: set[str]) -> tuple[str | None, str]:
    """The connection's label (the exported projection's name, unless it is the automatic ``pre->post``, or
    one made up when two projections would share a key) and the key of its arrays."""
    pre, post = ctx.names[p.pre], ctx.names[p.post]
    label = p.name if p.name and "->" not in p.name and re.fullmatch(r"[A-Za-z_]\w*", p.name) else None
    auto = f"{pre}->{post}"
    if (label or auto) in labels:
        label = safe_name(f"{pre}_to_{post}", labels | ctx.taken)
    key = label or auto
    labels.add(key)
    return label, key


def _units(ctx: Context, p: Proj) -> tuple[Any, Any, float, float]:
    """``(weight unit, bias unit, factor, bias factor)``: snndsl numbers per NIR number (1 when the NIR side
    does not name a unit of the same dimension)."""
    pin, _ = ctx.punits[p.post]
    _, pout = ctx.punits[p.pre]
    wu = nice(pin / pout)
    src_unit = parse_unit(p.unit) if p.unit else nice(pin)
    pre_nir = ctx.nir_out.get(p.pre, nice(pout))
    factor = bfactor = 1.0
    if u.get_dim(src_unit) == u.get_dim(wu * pre_nir):
        factor = float(u.Quantity(1.0, unit=src_unit).to_decimal(wu * pre_nir))
        bfactor = float(u.Quantity(1.0, unit=src_unit).to_decimal(wu * pout))
    return wu, wu * pout, factor, bfactor


def _conn(ctx: Context, p: Proj, key: str, notes: list) -> ast.Call:
    """The connectivity call of a projection: ``one_to_one(w = 1)`` (scaled to snndsl's units) for an edge
    without a matrix, ``one_to_one`` for a diagonal matrix without bias, else ``dense(w[, b])``; arrays that
    are not uniform go to the parameter file under ``key.w``/``key.b`` (:func:`weight_value`)."""
    wu, bu, factor, bfactor = _units(ctx, p)
    if p.matrix is None:
        return b.call("one_to_one", b.arg(b.quantity(factor, wu), "w"))
    if p.diagonal and p.bias is None:
        w = np.diag(p.matrix) * factor
        return b.call("one_to_one", b.arg(weight_value(w, wu, f"{key}.w", ctx.params, notes), "w"))
    args = [b.arg(weight_value(p.matrix * factor, wu, f"{key}.w", ctx.params, notes), "w")]
    if p.bias is not None:
        args.append(b.arg(weight_value(p.bias * bfactor, bu, f"{key}.b", ctx.params, notes), "b"))
    return b.call("dense", *args)


def _options(ctx: Context, p: Proj, key: str, notes: list) -> list[ast.Arg]:
    """``synapse = Expon(tau = ...)`` and ``delay = ...``."""
    out = []
    if p.synapse is not None:
        tau = per_neuron(ctx.nodes[p.synapse].tau, ctx.sizes[p.post][0], "tau")
        ctx.models["Expon"] = None
        args = value_args(f"{key}.syn.tau", "tau", u.Quantity(tau, unit=u.second).to(u.ms), u.ms, ctx.params, None)
        out.append(b.arg(b.call("Expon", *args), "synapse"))
    if p.delay_steps:
        out.append(b.arg(b.quantity(p.delay_steps * ctx.dt_s * 1e3, u.ms), "delay"))
        if p.lagged:
            notes.append("closes a cycle: reads last step's output")
    return out


def connect(ctx: Context, p: Proj, labels: set[str]) -> tuple[ast.ConnectStmt, str | None]:
    """The ``connect`` statement of projection ``p`` and its note (arrays in the parameter file, a cut
    cycle); ``labels`` holds the keys taken so far."""
    label, key = _label(ctx, p, labels)
    notes: list[str] = []
    conn = _conn(ctx, p, key, notes)
    options = _options(ctx, p, key, notes)
    stmt = ast.ConnectStmt(b.ident(label) if label else None, b.ident(ctx.names[p.pre]), b.ident(ctx.names[p.post]),
                           conn, tuple(options), span=b.NOWHERE)
    if not notes:
        return stmt, None
    arrays = [n for n in notes if n.startswith(key + ".")]
    others = [n for n in notes if n not in arrays]
    note = ", ".join(arrays) + " in <params>" if arrays else ""
    return stmt, "# " + "; ".join([x for x in [note] + others if x])
