"""Go to definition (a model's block, across imports and into the standard library; a parameter's or
state's declaration; a population's declaration; an imported file) and the document outline."""

from __future__ import annotations

import os

from lsprotocol import types as lsp

from snndsl.lsp.locate import path_at, symbol_at
from snndsl.lsp.positions import location, path_to_uri, to_range
from snndsl.resolve import STD, FileView, stdlib_files
from snndsl.source import SourceFile
from snndsl.syntax import ast, printer


def definition(view: FileView, source: SourceFile, offset: int, uri: str,
               encoding: str = "utf-16") -> list[lsp.Location]:
    """Where the name (or import path) at ``offset`` is defined; empty when it is not defined in a file (a
    registry entry, a unit) or nothing is there. ``uri`` is the document's own URI."""
    path = path_at(view.module, offset)
    if isinstance(path[-1], ast.ImportStmt):
        return _import_targets(path[-1], source)
    sym = symbol_at(view, offset)
    if sym is None or sym.decl is None:
        return []
    target = sym.decl.name.span if hasattr(sym.decl, "name") and isinstance(sym.decl.name, ast.Ident) \
        else sym.decl.span
    if sym.kind == "projection" and sym.decl.label is not None:
        target = sym.decl.label.span
    loc = location(target, encoding, uri if target.source is source else None)
    return [loc] if loc is not None else []


def _import_targets(stmt: ast.ImportStmt, source: SourceFile) -> list[lsp.Location]:
    """The files an ``import`` names: the standard library's files for ``"std"``, else the one file."""
    if stmt.path == STD:
        paths = [f.path for f in stdlib_files()]
    elif source.path.startswith("<"):
        paths = [os.path.abspath(stmt.path)]
    else:
        paths = [os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(source.path)), stmt.path))]
    start = lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    return [lsp.Location(uri, start) for p in paths
            if (uri := path_to_uri(p)) is not None and (p.startswith("<") or os.path.isfile(p))]


_KINDS = {
    ast.NeuronDef: lsp.SymbolKind.Class, ast.SynapseDef: lsp.SymbolKind.Class,
    ast.PlasticityDef: lsp.SymbolKind.Class, ast.PlasticState: lsp.SymbolKind.Variable,
    ast.NetworkDef: lsp.SymbolKind.Module, ast.TrainDef: lsp.SymbolKind.Event,
    ast.ParamDecl: lsp.SymbolKind.Constant, ast.StateDecl: lsp.SymbolKind.Variable,
    ast.InputDecl: lsp.SymbolKind.Interface, ast.LetDecl: lsp.SymbolKind.Variable,
    ast.NetInput: lsp.SymbolKind.Interface, ast.PopDecl: lsp.SymbolKind.Object,
    ast.ReadoutDecl: lsp.SymbolKind.Object, ast.ConnectStmt: lsp.SymbolKind.Operator,
    ast.Setting: lsp.SymbolKind.Property, ast.ImportStmt: lsp.SymbolKind.Namespace,
}
_WORDS = {ast.NeuronDef: "neuron", ast.SynapseDef: "synapse", ast.PlasticityDef: "plasticity",
          ast.NetworkDef: "network", ast.TrainDef: "train"}


def document_symbols(module: ast.Module, encoding: str = "utf-16") -> list[lsp.DocumentSymbol]:
    """The outline: imports, models (with their declarations), networks (inputs, populations, projections)
    and train blocks (settings)."""
    out = []
    for item in module.items:
        if isinstance(item, ast.ImportStmt):
            out.append(_symbol(f'import "{item.path}"', item, item, encoding, detail=printer.import_stmt(item)))
            continue
        name = item.network if isinstance(item, ast.TrainDef) else item.name
        body = item.settings if isinstance(item, ast.TrainDef) else item.body
        kids = [_child(st, encoding) for st in body]
        label = f"train {name.name}" if isinstance(item, ast.TrainDef) else name.name
        out.append(_symbol(label, item, name, encoding, detail=_WORDS[type(item)],
                           children=[k for k in kids if k is not None]))
    return out


def _child(st: ast.Node, encoding: str) -> lsp.DocumentSymbol | None:
    if type(st) not in _KINDS:
        return None
    if isinstance(st, ast.ConnectStmt):
        name = st.label.name if st.label is not None else f"{st.pre.name} -> {st.post.name}"
        return _symbol(name, st, st.label or st.pre, encoding, detail=printer.call(st.conn))
    ident = st.key if isinstance(st, ast.Setting) else st.name
    return _symbol(ident.name, st, ident, encoding, detail=printer.statement(st))


def _symbol(name: str, node: ast.Node, ident: ast.Node, encoding: str, detail: str = "",
            children: list | None = None) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(name=name, kind=_KINDS[type(node)], range=to_range(node.span, encoding),
                              selection_range=to_range(ident.span, encoding), detail=detail,
                              children=children)
