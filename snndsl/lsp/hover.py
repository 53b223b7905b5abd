"""Hover text (Markdown): a model's parameters, states, input ports and documentation comment; a
parameter's unit, default and the value given here; a registry entry's signature, target and documentation;
a population's declaration; a unit's meaning."""

from __future__ import annotations

import re

from snndsl.lsp.locate import SPECIAL_NAMES, Symbol, network_nodes
from snndsl.registry import REQUIRED, SETTINGS, Entry, Param, Registry
from snndsl.syntax import ast, printer

#: What each connect option takes.
CONNECT_OPTIONS = {
    "synapse": "the synapse model between the projection and its target, e.g. `Expon(tau = 5 ms)`",
    "output": "how the synapse output enters the target: `current` (default) or `conductance(E = 0 mV)`",
    "port": "the target's input port (default: its only one)",
    "delay": "the transmission delay, a multiple of dt",
}
#: A line made only of rule characters (after an optional label), e.g. ``# ----------- LIF``.
_RULE = re.compile(r"^#\s*[-=~*#_]{3,}.*$|^#\s*\S*\s*[-=~*#_]{3,}\s*$")


def hover_markdown(sym: Symbol) -> str | None:
    """The hover text for ``sym`` (Markdown), or ``None`` when there is nothing to say."""
    if sym.kind == "model":
        return model_markdown(sym.decl)
    if sym.kind == "member":
        return _member(sym)
    if sym.kind == "entry":
        return entry_markdown(sym.entry, sym.registry)
    if sym.kind == "entry_param":
        return _entry_param(sym)
    if sym.kind == "pop" and sym.decl is not None:
        return _code(printer.statement(sym.decl))
    if sym.kind == "projection":
        return _code(printer.statement(sym.decl))
    if sym.kind == "network" and sym.decl is not None:
        return _network(sym.decl)
    if sym.kind == "option":
        if sym.model is not None:
            return f"`surrogate`: the surrogate gradient of this population's spikes (instead of {sym.model.name.name}'s)"
        return f"`{sym.name}`: {CONNECT_OPTIONS.get(sym.name, 'a connect option')}" + _given(sym.value)
    if sym.kind == "setting":
        kind = SETTINGS.get(sym.name)
        return f"train setting `{sym.name}`" + (f" ({_kind(kind)})" if kind else " (unknown)")
    if sym.kind == "unit":
        return _unit(sym.name)
    if sym.kind == "special":
        return f"`{sym.name}`: {SPECIAL_NAMES[sym.name]}"
    return None


def _code(text: str) -> str:
    return f"```snn\n{text}\n```"


def _given(value: ast.Expr | None, what: str = "value here") -> str:
    return f"\n\n{what}: `{printer.expr(value)}`" if value is not None else ""


def doc_comment(node: ast.Node) -> str:
    """The ``#`` comment lines directly above ``node`` (no blank line between), without the ``#`` and without
    ruler lines such as ``# ---- LIF``."""
    source, lines = node.span.source, []
    line = node.span.line - 1
    while line >= 1 and (text := source.line_text(line).strip()).startswith("#"):
        lines.append(text)
        line -= 1
    lines.reverse()
    kept = [ln for ln in lines if not _RULE.match(ln)]
    return "\n".join(ln[2:] if ln.startswith("# ") else ln[1:] for ln in kept).strip("\n")


def model_markdown(node: ast.NeuronDef | ast.SynapseDef) -> str:
    """A model's kind and name, where it is defined, its documentation comment, and tables of its parameters
    (unit, default) and states (unit, initial value), then its input ports and surrogate."""
    kind = "neuron" if isinstance(node, ast.NeuronDef) else "synapse"
    out = [_code(f"{kind} {node.name.name}"), f"defined in `{node.span.source.path}`, line {node.span.line}"]
    if doc := doc_comment(node):
        out.append("```text\n" + doc + "\n```")
    rows = [("parameter", "unit", "default", [st for st in node.body if isinstance(st, ast.ParamDecl)]),
            ("state", "unit", "initial value", [st for st in node.body if isinstance(st, ast.StateDecl)])]
    for title, unit, value, decls in rows:
        if decls:
            table = [f"| {title} | {unit} | {value} |", "|---|---|---|"]
            for st in decls:
                val = st.default if isinstance(st, ast.ParamDecl) else st.init
                unit_cell = "as received" if st.unit is None and kind == "synapse" and title == "state" \
                    else _cell(st.unit)
                table.append(f"| `{st.name.name}` | {unit_cell} | {_cell(val)} |")
            out.append("\n".join(table))
    extras = [f"input `{st.name.name}: {printer.unit(st.unit)}`" for st in node.body if isinstance(st, ast.InputDecl)]
    extras += [f"surrogate `{printer.call(st.call)}`" for st in node.body if isinstance(st, ast.SurrogateStmt)]
    extras += [f"method `{st.name.name}`" for st in node.body if isinstance(st, ast.MethodStmt)]
    if extras:
        out.append("; ".join(extras))
    return "\n\n".join(out)


def _cell(node) -> str:
    if node is None:
        return "—"
    text = printer.unit(node) if isinstance(node, (ast.UnitName, ast.UnitPow, ast.UnitOne, ast.UnitOp)) \
        else printer.expr(node)
    return f"`{text.replace('|', '\\|')}`"


def _member(sym: Symbol) -> str:
    decl, model = sym.decl, sym.model
    what = {ast.ParamDecl: "parameter", ast.StateDecl: "state", ast.InputDecl: "input port",
            ast.LetDecl: "definition"}[type(decl)]
    kind = "neuron" if isinstance(model, ast.NeuronDef) else "synapse"
    text = _code(printer.statement(decl)) + f"\n\n{what} of {kind} `{model.name.name}`"
    if isinstance(decl, ast.ParamDecl) and decl.unit is None and decl.default is not None:
        text += " (unit: that of its default)"
    return text + _given(sym.value, "initial value here" if what == "state" else "value here")


def _network(net: ast.NetworkDef) -> str:
    nodes = network_nodes(net)
    lines = [_code(f"network {net.name.name}")]
    for st in nodes.values():
        lines.append(f"- `{printer.statement(st)}`")
    outputs = [n.name for st in net.body if isinstance(st, ast.NetOutput) for n in st.names]
    if outputs:
        lines.append(f"- outputs: {', '.join(f'`{o}`' for o in outputs)}")
    return "\n".join(lines)


def _kind(kind: str, param: Param | None = None) -> str:
    if kind.startswith("call:"):
        from snndsl.registry import REGISTRIES
        return f"a {REGISTRIES[kind[5:]].what}"
    if kind == "quantity" and param is not None and param.unit not in (None, "any"):
        return f"a quantity in {param.unit}"
    return {"number": "a number", "int": "a whole number", "bool": "true or false", "quantity": "a quantity",
            "unit": "a unit", "string": 'a "string"', "init": "an initialiser or a value",
            "lr": "a number or a learning-rate schedule", "expr": "an expression", "loss": "a loss expression",
            "devices": "a number of devices or `all`"}.get(kind, kind)


def show_default(value) -> str:
    """A registry default as the language writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def param_text(p: Param) -> str:
    """One parameter in a signature: ``alpha = 0.3``, ``rate: Hz``, ``[b]`` (optional, no default)."""
    head = p.name
    if p.kind == "quantity" and p.unit not in (None, "any"):
        head += f": {p.unit}"
    elif p.kind not in ("number", "quantity", "expr"):
        head += f": {_kind(p.kind, p).removeprefix('a ').removeprefix('an ')}"
    if p.required:
        return head
    return f"[{head}]" if p.default is None else f"{head} = {show_default(p.default)}"


def signature(entry: Entry) -> str:
    """``name(param, param = default, ...)``, or just the name for an entry without parameters."""
    return f"{entry.name}({', '.join(param_text(p) for p in entry.params)})" if entry.params else entry.name


def entry_markdown(entry: Entry, registry: Registry) -> str:
    """A registry entry: its signature, what kind of entry it is, the library object it lowers to, its doc."""
    out = [_code(signature(entry)), registry.what + (f" → `{entry.target}`" if entry.target else "")]
    if entry.doc:
        out.append(entry.doc)
    return "\n\n".join(out)


def _entry_param(sym: Symbol) -> str:
    p = sym.param
    default = "required" if p.default is REQUIRED else (
        "optional" if p.default is None else f"default `{show_default(p.default)}`")
    return (_code(param_text(p)) + f"\n\nparameter of {sym.registry.what} `{sym.entry.name}`: "
            f"{_kind(p.kind, p)}, {default}" + _given(sym.value))


def _unit(text: str) -> str:
    from snndsl.resolve.unit_names import lookup

    unit = lookup(text)
    if unit is None:
        return f"`{text}`: not a unit snndsl knows"
    dim = str(unit.dim)
    scale = f"10^{unit.scale} " if unit.scale else ""
    return (f"unit `{text}`" + (f" ({unit.name})" if getattr(unit, "name", None) and unit.name != text else "")
            + (f": {scale}{dim}" if dim and dim != "1" else ": dimensionless"))
