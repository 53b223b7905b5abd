"""What is under the cursor: the chain of syntax nodes around an offset, and the :class:`Symbol` an
identifier there names (a model, one of its parameters, a population, a registry entry...), for hover and
go-to-definition alike."""

from __future__ import annotations

from typing import Iterator

import attrs

from snndsl.registry import (CONNECTIVITY, DATA, ENCODERS, FUNCTIONS, INITIALISERS, INPUT_KINDS, INTEGRATORS,
                             LOOPS, LOSSES, OPTIMIZERS, OUTPUTS, REDUCTIONS, REGISTRIES, SCHEDULES, SURROGATES,
                             Entry, Param, Registry)
from snndsl.resolve import FileView
from snndsl.source import Span
from snndsl.syntax import ast

Model = ast.NeuronDef | ast.SynapseDef
_DECLS = (ast.ParamDecl, ast.StateDecl, ast.InputDecl, ast.LetDecl)

#: The registries a value may come from, by the argument or setting it is given to.
SLOTS: dict[str, tuple[Registry, ...]] = {
    "surrogate": (SURROGATES,), "w": (INITIALISERS,), "b": (INITIALISERS,), "encoding": (ENCODERS,),
    "lr": (SCHEDULES,), "output": (OUTPUTS,), "data": (DATA,), "loss": (LOSSES, REDUCTIONS),
    "optimizer": (OPTIMIZERS,), "loop": (LOOPS,),
}


#: Names the language defines: in equations the time and the time step, in a train block the time axis and
#: each sample's label or target.
SPECIAL_NAMES = {
    "t": "the current simulation time", "dt": "the network's time step",
    "xi": "Gaussian white noise in 1/sqrt(time), only in an ODE: `dX/dt = f + g * xi` (Euler-Maruyama)",
    "time": "the time axis: reduce a population's output over it, e.g. `mean(out, time)`",
    "label": "each sample's class label (an integer), from the data",
    "target": "each sample's target values (regression), from the data",
}


def children(node: ast.Node) -> Iterator[ast.Node]:
    """The syntax nodes directly inside ``node``, in field order."""
    for field in attrs.fields(type(node)):
        if field.name == "span":
            continue
        value = getattr(node, field.name)
        if isinstance(value, ast.Node):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, ast.Node))


def path_at(module: ast.Module, offset: int) -> list[ast.Node]:
    """The nodes containing character ``offset``, outermost (the module) first. A node ending exactly at the
    offset counts, so the cursor just after a name is on it; a node that starts there wins over one ending."""
    path: list[ast.Node] = [module]
    while True:
        inside = [c for c in children(path[-1]) if c.span.start <= offset <= c.span.end]
        if not inside:
            return path
        path.append(next((c for c in inside if c.span.start <= offset < c.span.end), inside[0]))


@attrs.frozen
class Symbol:
    """What an identifier names. ``kind`` is ``model``, ``member`` (a declaration inside ``model``), ``pop``
    (an input, population or readout: ``decl``), ``network``, ``projection``, ``entry`` (a registry ``entry``
    of ``registry``), ``entry_param`` (``param`` of ``entry``), ``option`` (of a ``connect``), ``setting`` (of
    a train block), ``special`` (a name the language defines: ``t``, ``time``, ``label``...) or ``unit``.
    ``span`` is the identifier; ``value`` the value given to it at this place (a
    call argument), if any."""

    kind: str
    name: str
    span: Span
    decl: ast.Node | None = None
    model: Model | None = None
    entry: Entry | None = None
    registry: Registry | None = None
    param: Param | None = None
    value: ast.Expr | None = None


def member(model: Model, name: str) -> ast.Node | None:
    """The declaration of ``name`` (parameter, state, input port, ``let``) in ``model``."""
    return next((st for st in model.body if isinstance(st, _DECLS) and st.name.name == name), None)


def network_nodes(net: ast.NetworkDef) -> dict[str, ast.NetInput | ast.PopDecl | ast.ReadoutDecl]:
    """The inputs, populations and readouts of ``net`` by name (the first of each name)."""
    out: dict = {}
    for st in net.body:
        if isinstance(st, (ast.NetInput, ast.PopDecl, ast.ReadoutDecl)):
            out.setdefault(st.name.name, st)
    return out


def find_entry(name: str, preferred: tuple[Registry, ...] = ()) -> tuple[Registry, Entry] | None:
    """The registry entry ``name``, looked up first in ``preferred``, then in every registry."""
    for registry in (*preferred, *REGISTRIES.values()):
        if (entry := registry.get(name)) is not None:
            return registry, entry
    return None


def slot_registries(path: list[ast.Node]) -> tuple[Registry, ...]:
    """The registries a call or name at the end of ``path`` most likely comes from, given where it stands:
    the nearest named argument or setting, then the kind of block."""
    for i in range(len(path) - 1, 0, -1):
        node, parent = path[i], path[i - 1]
        if isinstance(node, ast.Arg) and node.name is not None and node.name.name in SLOTS:
            return SLOTS[node.name.name]
        if isinstance(node, ast.Setting):
            return SLOTS.get(node.key.name, ())
        if isinstance(parent, ast.ConnectStmt) and node is parent.conn:
            return (CONNECTIVITY,)
        if isinstance(parent, ast.NetInput):
            return (INPUT_KINDS,) if node is parent.kind else (ENCODERS,)
        if isinstance(node, ast.SurrogateStmt):
            return (SURROGATES,)
        if isinstance(node, ast.MethodStmt):
            return (INTEGRATORS,)
        if isinstance(node, (ast.NeuronDef, ast.SynapseDef)):
            return (FUNCTIONS,)
        if isinstance(node, ast.NetworkDef):
            return (INITIALISERS,)
    return ()


def _within(path: list[ast.Node], cls) -> ast.Node | None:
    return next((n for n in reversed(path) if isinstance(n, cls)), None)


def _trained(module: ast.Module, path: list[ast.Node]) -> ast.NetworkDef | None:
    """The network whose block (or whose train block) ``path`` is in."""
    if (net := _within(path, ast.NetworkDef)) is not None:
        return net
    if (train := _within(path, ast.TrainDef)) is not None:
        return next((i for i in module.items if isinstance(i, ast.NetworkDef) and i.name.name == train.network.name),
                    None)
    return None


def symbol_at(view: FileView, offset: int) -> Symbol | None:
    """The symbol under character ``offset`` of the document ``view`` shows, or ``None``."""
    path = path_at(view.module, offset)
    node = path[-1]
    if isinstance(node, ast.Quantity):
        return Symbol("unit", node.unit, node.span)
    if not isinstance(node, ast.Ident) or len(path) < 2:
        return None
    return _classify(view, path, node, node.name)


def _classify(view: FileView, path: list[ast.Node], ident: ast.Ident, name: str) -> Symbol | None:
    parent = path[-2]
    span = ident.span
    model = _within(path, (ast.NeuronDef, ast.SynapseDef))
    if isinstance(parent, (ast.NeuronDef, ast.SynapseDef)):
        return Symbol("model", name, span, decl=parent, model=parent)
    if isinstance(parent, ast.ImportStmt) and name in view.models:
        return Symbol("model", name, span, decl=view.models[name], model=view.models[name])
    if isinstance(parent, (ast.NetworkDef, ast.TrainDef)):
        net = next((i for i in view.module.items if isinstance(i, ast.NetworkDef) and i.name.name == name), None)
        return Symbol("network", name, span, decl=net)
    if isinstance(parent, (ast.UnitName, ast.UnitPow)):
        return Symbol("unit", name, span)
    if isinstance(parent, ast.Setting) and ident is parent.key:
        return Symbol("setting", name, span, value=parent.value)
    if model is not None and isinstance(parent, (*_DECLS, ast.Name, ast.Ode, ast.ResetStmt, ast.OnSpike)):
        decl = member(model, name)
        if decl is not None:
            return Symbol("member", name, span, decl=decl, model=model)
    if isinstance(parent, ast.Call) and ident is parent.func:
        return _callee(view, path, name, span)
    if isinstance(parent, ast.Arg) and ident is parent.name:
        return _argument(view, path, parent, name, span)
    net = _trained(view.module, path)
    if isinstance(parent, ast.ConnectStmt) and ident is parent.label:
        return Symbol("projection", name, span, decl=parent)
    if isinstance(parent, ast.Attribute) and net is not None:
        owner = network_nodes(net).get(parent.owner.name)
        if ident is parent.owner:
            return Symbol("pop", name, span, decl=owner) if owner is not None else None
        target = view.models.get(owner.call.func.name) if isinstance(owner, (ast.PopDecl, ast.ReadoutDecl)) else None
        decl = member(target, name) if target is not None else None
        return Symbol("member", name, span, decl=decl, model=target) if decl is not None else None
    if net is not None and name in network_nodes(net) and isinstance(parent, (
            ast.ConnectStmt, ast.NetOutput, ast.Name, ast.NetInput, ast.PopDecl, ast.ReadoutDecl)):
        return Symbol("pop", name, span, decl=network_nodes(net)[name])
    if isinstance(parent, ast.Name) and (model is not None and name in ("t", "dt", "xi") or _within(
            path, ast.TrainDef) is not None and name in ("time", "label", "target")):
        return Symbol("special", name, span)
    if isinstance(parent, ast.Name) and name in view.models:
        return Symbol("model", name, span, decl=view.models[name], model=view.models[name])
    if isinstance(parent, (ast.Name, ast.NetInput, ast.MethodStmt)):
        found = find_entry(name, slot_registries(path))
        if found is not None:
            return Symbol("entry", name, span, entry=found[1], registry=found[0])
    return None


def _callee(view: FileView, path: list[ast.Node], name: str, span: Span) -> Symbol | None:
    if name in view.models:
        return Symbol("model", name, span, decl=view.models[name], model=view.models[name])
    found = find_entry(name, slot_registries(path))
    return Symbol("entry", name, span, entry=found[1], registry=found[0]) if found else None


def _argument(view: FileView, path: list[ast.Node], arg: ast.Arg, name: str, span: Span) -> Symbol | None:
    owner = path[-3] if len(path) > 2 else None
    if isinstance(owner, ast.ConnectStmt):
        return Symbol("option", name, span, value=arg.value)
    if not isinstance(owner, ast.Call):
        return None
    callee = owner.func.name
    if callee in view.models:
        model = view.models[callee]
        decl = member(model, name)
        if decl is not None:
            return Symbol("member", name, span, decl=decl, model=model, value=arg.value)
        if name == "surrogate":
            return Symbol("option", name, span, model=model, value=arg.value)
        return None
    found = find_entry(callee, slot_registries(path[:-2]))
    if found is None or (param := found[1].param(name)) is None:
        return None
    return Symbol("entry_param", name, span, entry=found[1], registry=found[0], param=param, value=arg.value)
