"""Train blocks → :class:`snndsl.ir.Train`: data, loss expression, optimizer, loop policy, schedule."""

from __future__ import annotations

from typing import Any

from snndsl.syntax import ast
from snndsl import ir
from snndsl.diagnostics import Diagnostics, did_you_mean, one_of
from snndsl.registry import LOSSES, REDUCTIONS, SETTINGS, Param
from snndsl.resolve.args import bind, convert, spec_from
from snndsl.resolve.exprs import Scope, resolve_expr

SPECIALS = ("time", "label", "target")
DEFAULTS: dict[str, Any] = {"epochs": 10, "batch": None, "seed": 0, "devices": None}


def _loss_call(node: ast.Call, scope: Scope, diags: Diagnostics) -> ir.Expr | None:
    """A loss or reduction call, its arguments bound against the entry's signature; a string default
    (``label``, ``target``, ``time``) becomes a ``special`` :class:`~snndsl.ir.Ref`, a constant a ``Const``."""
    entry = LOSSES.get(node.func.name) or REDUCTIONS.get(node.func.name)
    args = bind(node, entry, diags, scope)
    if args is None:
        return None
    out = []
    for _, value in args:
        if isinstance(value, str):
            value = ir.Ref("special", value, span=node.span)
        elif not isinstance(value, (ir.Const, ir.Ref, ir.BinOp, ir.Neg, ir.Func, ir.Field)):
            value = ir.Const(value, span=node.span)
        out.append(value)
    return ir.Func(entry.name, tuple(out), span=node.span)


def loss_scope(network: ir.Network | None) -> Scope:
    """The scope of a train block's loss: the special names ``time``, ``label`` and ``target``, every input and
    population of ``network`` as a ``pop`` (so ``out.V`` is allowed), and the losses and reductions of the
    registry as calls (their arguments bound like registry calls; string defaults become ``special`` refs).
    """
    symbols = {s: "special" for s in SPECIALS}
    if network is not None:
        symbols.update({n.name: "pop" for n in (*network.inputs, *network.populations)})
    calls = {name: _loss_call for name in LOSSES.names() + REDUCTIONS.names()}
    return Scope(symbols, calls=calls, fields=True, where="in a train block")


def resolve_train(node: ast.TrainDef, networks: dict[str, ir.Network], diags: Diagnostics) -> ir.Train | None:
    """A train block → :class:`ir.Train` for the network it names, or ``None``.

    Each setting of :data:`snndsl.registry.SETTINGS` may appear once (SNN213 for unknown or repeated ones) and
    is converted by its kind; ``loss`` is required (SNN602) and resolved in :func:`loss_scope`; ``optimizer``
    and ``loop`` default to ``adam`` and ``bptt``, the others to :data:`DEFAULTS`; ``devices`` is a whole number
    or ``all``. An unknown network is SNN601. Returns ``None`` when the network is unknown or when ``diags``
    holds any error at all (including errors reported earlier for other parts of the file).
    """
    network = networks.get(node.network.name)
    if network is None:
        diags.error("SNN601", f"train block for unknown network `{node.network.name}`", node.network.span,
                    did_you_mean(node.network.name, networks) or
                    ("networks defined here: " + ", ".join(networks) if networks else "define a network first"))
    given: dict[str, ast.Setting] = {}
    for st in node.settings:
        key = st.key.name
        if key not in SETTINGS:
            diags.error("SNN213", f"unknown training setting `{key}`", st.key.span,
                        did_you_mean(key, SETTINGS) or one_of(SETTINGS))
        elif key in given:
            diags.error("SNN213", f"`{key}` is set twice", st.key.span, f"the first is at line {given[key].span.line}")
        else:
            given[key] = st
    values: dict[str, Any] = {}
    for key, st in given.items():
        kind = SETTINGS[key]
        if kind == "loss":
            if network is not None:   # without the network its names cannot be judged
                values[key] = resolve_expr(st.value, loss_scope(network), diags)
        elif kind == "devices":
            if isinstance(st.value, ast.Name) and st.value.ident.name == "all":
                values[key] = "all"
            else:
                values[key] = convert(st.value, Param(key, "int"), diags)
        elif kind.startswith("call:"):
            values[key] = spec_from(st.value, kind[5:], diags)
        else:
            values[key] = convert(st.value, Param(key, kind), diags)
    for key in ("optimizer", "loop"):
        if key not in given:
            values[key] = spec_from(ast.Name(ast.Ident("adam" if key == "optimizer" else "bptt", span=node.span),
                                             span=node.span), key, diags)
    if "loss" not in given:
        diags.error("SNN602", f"train block for {node.network.name} has no loss", node.network.span,
                    "e.g. `loss = cross_entropy(mean(out, time), label)`")
    if network is None or diags.has_errors:
        return None
    return ir.Train(network.name, values.get("data"), values.get("loss"), values["optimizer"], values["loop"],
                    values.get("epochs", DEFAULTS["epochs"]), values.get("batch", DEFAULTS["batch"]),
                    values.get("seed", DEFAULTS["seed"]), values.get("devices", DEFAULTS["devices"]),
                    tuple((k, st.span) for k, st in given.items()), span=node.span)
