"""NIR neuron nodes → snndsl models and ``pop`` / ``readout`` statements (the import's populations).

A node exported by snndsl from a standard-library model comes back as that model (``LIF``, ``IF``, ``LI``,
``Expon``) when it reproduces the node's fields at the graph's ``dt`` (:func:`snndsl.nir.recognise.match_std`).
Any other node is written with a model that states NIR's own equation (``NirLIF``, ``NirCubaLIF``, ...):
dimensionless except time, times in ms (NIR's seconds converted), e.g. for LIF
``tau dv/dt = (v_leak - v) + r I`` with ``spike when v > v_threshold`` and a hard or soft reset to
``v_reset``. Values shared by the layer go into the statement; per-neuron arrays go to the parameter file
and the statement holds their mean.
"""

from __future__ import annotations

import functools
from typing import Any

import attrs
import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.nir import astbuild as b
from snndsl.nir.errors import NirImportError
from snndsl.nir.graph import snndsl_meta
from snndsl.nir.layout import Item, block
from snndsl.nir.recognise import FIELDS, SPIKING, match_std, node_fields, surrogate_text
from snndsl.nir.units import coherent, parse_unit, per_neuron
from snndsl.syntax import ast

_DOC = {"LIF": "tau dv/dt = (v_leak - v) + r I, spike when v > v_threshold", "LI": "tau dv/dt = (v_leak - v) + r I",
        "IF": "dv/dt = r I, spike when v > v_threshold", "I": "dv/dt = r I",
        "CubaLIF": "tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + r I, spike when v > v_threshold",
        "CubaLI": "tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + r I",
        "Threshold": "spike when the input exceeds threshold (no state)"}
_RESETTING = SPIKING[:3]         # the spiking node types with a v_reset (Threshold resets to 0)
IDENTITY = "NirIdentity"


@attrs.define
class Context:
    """What the import has decided so far: the graph (``nodes``, ``kinds``, ``sizes``), the snndsl name of
    each node, the models used (name -> the :class:`Item` defining it, or ``None`` for a standard one), the
    arrays for the parameter file, and per node the units of its input port and output (``punits``) and of
    its output's numbers in the file (``nir_out``, inputs only)."""

    nodes: dict
    kinds: dict
    sizes: dict
    dt_s: float
    names: dict[str, str] = attrs.Factory(dict)
    taken: set[str] = attrs.Factory(set)
    models: dict[str, Item | None] = attrs.Factory(dict)
    params: dict[str, tuple[np.ndarray, str]] = attrs.Factory(dict)
    punits: dict[str, tuple[Any, Any]] = attrs.Factory(dict)
    nir_out: dict[str, Any] = attrs.Factory(dict)


# ---------------------------------------------------------------- models stating NIR's equations


def _ode(var: str, rhs: ast.Expr) -> ast.Ode:
    return ast.Ode(b.ident(var), rhs, span=b.NOWHERE)


def _relax(target: ast.Expr, var: str, tau: str) -> ast.Ode:
    """``dvar/dt = (target - var) / tau``."""
    return _ode(var, b.binop("/", b.binop("-", target, b.name(var)), b.name(tau)))


def _equations(kind: str) -> list:
    """NIR's equation for ``kind`` as ODE statements (with a note where the form needs one).

    LIF/LI: dv/dt = ((v_leak - v) + r I) / tau. IF/I: dv/dt = r I / second (NIR's r is per second, the
    parameters are plain numbers). CubaLIF/CubaLI: dI/dt = (w_in S - I) / tau_syn, then v as LIF with
    tau_mem. Threshold: dv/dt = (I - v) / dt, which one forward-Euler step turns into v = I.
    """
    n = b.name
    leak = b.binop("+", b.binop("-", n("v_leak"), n("v")), b.binop("*", n("r"), n("I")))
    if kind in ("LIF", "LI"):
        return [_ode("v", b.binop("/", leak, n("tau")))]
    if kind in ("IF", "I"):
        return [(_ode("v", b.binop("/", b.binop("*", n("r"), n("I")), n("second"))), "# NIR's r is per second")]
    if kind in ("CubaLIF", "CubaLI"):
        return [_relax(b.binop("*", n("w_in"), n("S")), "I", "tau_syn"), _ode("v", b.binop("/", leak, n("tau_mem")))]
    return [(_relax(n("I"), "v", "dt"), "# one Euler step of length dt: v <- I")]


def _spike_reset(kind: str, reset: str) -> list:
    """The spike and reset statements of a literal NIR model: ``spike when v > v_threshold, scale = 1`` and
    ``reset <mode> v = v_reset`` (a Threshold: ``v > threshold`` and a hard reset to 0)."""
    v = b.name("v")
    threshold = b.name("threshold" if kind == "Threshold" else "v_threshold")
    spike = ast.SpikeStmt(v, ">", threshold, b.integer(1), span=b.NOWHERE)
    if kind == "Threshold":
        return [spike, ast.ResetStmt("hard", b.ident("v"), b.integer(0), span=b.NOWHERE)]
    return [spike, ast.ResetStmt(reset, b.ident("v"), b.name("v_reset"), span=b.NOWHERE)]


def literal_model(kind: str, reset: str = "hard", method: str = "exp_euler") -> tuple[str, Item]:
    """The name and definition of a model stating NIR's equation for node type ``kind`` (dimensionless,
    times in ms); ``reset`` and a non-exponential ``method`` are part of the name (``NirLIFSoft``)."""
    name = "Nir" + {"I": "Integrator"}.get(kind, kind) + ("Soft" if reset == "soft" and kind != "Threshold" else "") \
        + ("" if method in ("exp_euler", "exact") or kind == "Threshold" else method.capitalize())
    doc = f"# NIR {kind}: {_DOC[kind]}" + (f"; then v = v_reset ({reset} reset)" if kind in _RESETTING else "")
    one = ast.UnitOne(span=b.NOWHERE)
    body: list = [ast.ParamDecl(b.ident(f), b.unit_type("ms") if f.startswith("tau") else one, None,
                                span=b.NOWHERE) for f in FIELDS[kind].split()]
    cuba = kind.startswith("Cuba")
    body.append(ast.InputDecl(b.ident("S" if cuba else "I"), one, span=b.NOWHERE))
    states = ["I", "v"] if cuba else ["v"]
    body += [ast.StateDecl(b.ident(s), one, b.integer(0), span=b.NOWHERE) for s in states]
    body += _equations(kind)
    if kind in SPIKING:
        body += _spike_reset(kind, reset)
    if kind == "Threshold" or method not in ("exp_euler", "exact"):
        body.append(ast.MethodStmt(b.ident("euler" if kind == "Threshold" else method), span=b.NOWHERE))
    return name, block(ast.NeuronDef, name, body, [doc])


def identity_model() -> Item:
    """A readout that delivers the sum of its inputs of this step (stdlib Delta cannot be a readout: its
    output is the input ``w``, which a population has no stored value of)."""
    g = b.ident("g")
    body = [ast.StateDecl(g, None, None, span=b.NOWHERE), ast.OnSpike(g, "=", b.name("w"), span=b.NOWHERE),
            ast.OutputStmt(b.name("g"), span=b.NOWHERE)]
    return block(ast.SynapseDef, IDENTITY, body, ["# the sum of the weighted inputs of this step (a NIR Output "
                                                  "fed by weights, or an identity node)"])


@functools.lru_cache(maxsize=64)
def literal_ir(kind: str, reset: str, method: str) -> tuple[str, Item, ir.Model]:
    """:func:`literal_model` and the model it defines, resolved from the tree (no text is parsed)."""
    from snndsl.diagnostics import Diagnostics
    from snndsl.resolve.models import resolve_model
    name, item = literal_model(kind, reset, method)
    diags = Diagnostics()
    model = resolve_model(item.node, diags)
    if model is None or diags.has_errors:
        raise NirImportError(f"model {name} does not resolve (a bug in snndsl import)")
    return name, item, model


# ---------------------------------------------------------------- arguments and the parameter file


def value_args(key: str, pname: str, value: Any, unit: Any, params: dict, default: float | None) -> list:
    """``pname = value`` for a population argument (none when every value is ``default``); a per-neuron
    array goes to ``params[key]`` and the argument holds its mean."""
    unit = unit if unit is not None else u.UNITLESS
    arr = np.asarray(u.Quantity(value).to_decimal(unit), np.float64).reshape(-1)
    if default is not None and np.all(arr == default):
        return []
    uniform = np.all(arr.astype(np.float32) == np.float32(arr[0]))
    if not uniform:
        params[key] = (arr, ir.show_unit(unit))
    return [b.arg(b.quantity(arr[0] if uniform else arr.mean(), unit), pname)]


def param_args(key: str, model: ir.Model, values: dict, params: dict) -> list:
    """One argument per parameter of ``model`` that ``values`` gives."""
    out = []
    for p in model.params:
        if p.name in values:
            out += value_args(f"{key}.{p.name}", p.name, values[p.name], p.unit, params, None)
    return out


# ---------------------------------------------------------------- populations


def _reset_mode(node: Any, kind: str) -> str:
    reset = (node.metadata or {}).get("reset", "hard") if kind in _RESETTING else "hard"
    return str(reset) if str(reset) in ("hard", "soft") else "hard"


def _input_unit(node: Any) -> Any:
    return parse_unit(((node.metadata or {}).get("units") or {}).get("input"))


def _as_std(ctx: Context, k: str, model: ir.Model, values: dict) -> tuple[list, dict]:
    """Node ``k`` as the standard model ``model``: its arguments, and the units of its port and output."""
    ctx.models[model.name] = None
    args = param_args(ctx.names[k], model, values, ctx.params)
    if model.kind == "synapse":
        iu = _input_unit(ctx.nodes[k])
        ctx.punits[k] = (iu, iu)
    else:
        ctx.punits[k] = (model.ports[0].unit, u.UNITLESS if model.spiking else model.states[0].unit)
    return args, {"v": model.states[0]}


def _as_literal(ctx: Context, k: str, kind: str, reset: str, method: str) -> tuple[ir.Model, list, dict]:
    """Node ``k`` as the literal model stating NIR's ``kind`` equation: its arguments (times converted from
    s to ms, everything else dimensionless) and the states playing NIR's ``v`` and ``I``."""
    name, item, model = literal_ir(kind, reset, method)
    ctx.models[name] = item
    fields = node_fields(ctx.nodes[k], kind, ctx.sizes[k][0])
    values = {f: (u.Quantity(v, unit=u.second).to(u.ms) if f.startswith("tau") else v) for f, v in fields.items()}
    ctx.punits[k] = (u.UNITLESS, u.UNITLESS)
    return model, param_args(ctx.names[k], model, values, ctx.params), {"v": model.state("v"), "i": model.state("I")}


def _initial_args(ctx: Context, k: str, states: dict, std: bool) -> list:
    """Initial state values recorded by the export (``v_initial``, ``i_initial``) that are not 0.

    Each is a per-neuron array in the coherent unit of the state playing that role; for a standard model it
    is converted to the state's declared unit, for a literal NIR model it stays a plain number. A uniform
    array becomes a value in the statement; any other goes to the parameter file (the statement holds its
    mean).
    """
    n, out = ctx.sizes[k][0], []
    for role in ("v", "i"):
        arr, st = (ctx.nodes[k].metadata or {}).get(f"{role}_initial"), states.get(role)
        if arr is None or st is None:
            continue
        su = st.unit if st.unit is not None else ctx.punits[k][0]
        v = u.Quantity(per_neuron(arr, n, "initial state"), unit=coherent(su)).to(su) if std else \
            per_neuron(arr, n, "")
        out += value_args(f"{ctx.names[k]}.{st.name}", st.name, v, su, ctx.params, 0.0)
    return out


def _identity(ctx: Context, k: str) -> tuple[ast.ReadoutDecl, None]:
    """Node ``k`` (an exported identity readout, a unit-gain Scale) as a ``NirIdentity`` readout of its size."""
    ctx.models[IDENTITY] = identity_model()
    iu = _input_unit(ctx.nodes[k])
    ctx.punits[k] = (iu, iu)
    call = b.call(IDENTITY, b.arg(b.integer(ctx.sizes[k][0])))
    return ast.ReadoutDecl(b.ident(ctx.names[k]), call, span=b.NOWHERE), None


def population(ctx: Context, k: str) -> tuple[ast.PopDecl | ast.ReadoutDecl, str | None]:
    """The ``pop`` or ``readout`` statement of node ``k`` and its note (which arrays are in the parameter
    file); records the model it uses and the units of its input and output in ``ctx``."""
    node, n = ctx.nodes[k], ctx.sizes[k][0]
    kind = type(node).__name__
    if ctx.kinds[k] == "readout" or kind == "Scale":       # an identity: the sum of what arrives, each step
        return _identity(ctx, k)
    meta, before = snndsl_meta(node), set(ctx.params)
    reset = _reset_mode(node, kind)
    found = match_std(node, kind, meta, n, ctx.dt_s * u.second, reset)
    if found is not None:
        model, values = found
        args, states = _as_std(ctx, k, model, values)
    else:
        model, args, states = _as_literal(ctx, k, kind, reset, meta.get("method", "exp_euler"))
    args += _initial_args(ctx, k, states, found is not None)
    if meta.get("surrogate") and model.spiking and model.surrogate is not None \
            and meta["surrogate"] != surrogate_text(model.surrogate):
        args.append(b.arg(b.spec_call(meta["surrogate"]), "surrogate"))
    trainable = set(meta.get("trainable", [])) if found else set()
    args = [attrs.evolve(a, trainable=a.name.name in trainable) for a in args]
    call = b.call(model.name, b.arg(b.integer(n)), *args)
    decl = ast.ReadoutDecl if model.kind == "synapse" or meta.get("readout") else ast.PopDecl
    arrays = [key for key in ctx.params if key not in before]
    note = f"# per neuron: {', '.join(arrays)} in <params>" if arrays else None
    return decl(b.ident(ctx.names[k]), call, span=b.NOWHERE), note
