"""AST → IR: the only place names are looked up.

:func:`resolve_source` parses a file, follows its imports (``import "std"``, ``import "lib.snn"``,
``import A, B from "..."``), resolves every model, network and train block, and returns an
:class:`snndsl.ir.Program`. Errors are collected across the whole file and raised together.
"""

from __future__ import annotations

import errno
import os
from importlib import resources
from pathlib import Path

from snndsl.syntax import ast
from snndsl import ir
from snndsl.diagnostics import Diagnostics, SnnError, did_you_mean
from snndsl.syntax.parser import parse
from snndsl.source import SourceFile, Span, UnreadableSource, read_text
from snndsl.resolve.models import resolve_model
from snndsl.resolve.network import resolve_network
from snndsl.resolve.train_block import resolve_train

STD = "std"


def stdlib_files() -> list[SourceFile]:
    """The standard library's ``.snn`` files (``import "std"``), read from the installed package, in name order;
    each is reported under the path ``<std>/NAME.snn``.
    """
    root = resources.files("snndsl").joinpath("stdlib")
    return [SourceFile(f"<std>/{f.name}", f.read_text(encoding="utf-8"))
            for f in sorted(root.iterdir(), key=lambda f: f.name) if f.name.endswith(".snn")]


def _key(source: SourceFile) -> str:
    """One name per file however an import spells its path (``a/../b.snn``, symlinks)."""
    return source.path if source.path.startswith("<") else os.path.realpath(source.path)


def _short(key: str) -> str:
    try:
        return os.path.relpath(key)
    except ValueError:
        return key


class _Loader:
    """Parses files once each and gathers model definitions across imports (cycles are SNN002)."""

    def __init__(self, diags: Diagnostics):
        self.diags = diags
        self.modules: dict[str, ast.Module] = {}
        self.active: list[str] = []
        self.done: dict[str, dict] = {}
        self.via: list[Span] = []   # via[i]: the import in active[i] being followed
        #: whether an import failed: then unknown model names are not reported again at each use
        self.failed = False

    def module(self, source: SourceFile) -> ast.Module | None:
        key = _key(source)
        if key not in self.modules:
            try:
                self.modules[key] = parse(source)
            except SnnError as e:
                self.diags.extend(e.diagnostics)
                return None
        return self.modules[key]

    def sources_for(self, stmt: ast.ImportStmt, importer: SourceFile) -> list[SourceFile] | None:
        if stmt.path == STD:
            return stdlib_files()
        base = Path(importer.path).parent if not importer.path.startswith("<") else Path.cwd()
        path = Path(os.path.normpath(base / stmt.path))
        code, why, hint = None, "", 'the standard library is `import "std"`; other paths are relative to this file'
        if not stmt.path.endswith(".snn"):
            code, why, hint = "SNN004", "is not a .snn file", "imports name model files, e.g. `import \"lib/cells.snn\"`"
        else:
            try:
                return [SourceFile(str(path), read_text(path))]
            except UnreadableSource as e:
                code, why = ("SNN005", "is too large") if e.errno == errno.EFBIG else ("SNN004", "is not a regular file")
                hint = f"it is {e.strerror}"
            except UnicodeDecodeError:
                code, why, hint = "SNN003", "is not UTF-8 text", "save the file as UTF-8"
            except OSError as e:
                code = "SNN001"
                why = "was not found" if e.errno == errno.ENOENT else f"cannot be read ({e.strerror or e})"
        self.failed = True
        self.diags.error(code, f'import "{stmt.path}" {why} (looked for {path})', stmt.span, hint)
        return None

    def models(self, source: SourceFile, span: Span | None = None) -> dict[str, ast.NeuronDef | ast.SynapseDef]:
        """Every model definition visible in ``source``: its own and those its imports bring in."""
        key = _key(source)
        if key in self.active:
            start = self.active.index(key)
            chain = self.active[start:] + [key]
            where = self.via[start] if start < len(self.via) else span   # the import that starts the cycle
            self.diags.error("SNN002", "import cycle: " + " -> ".join(_short(k) for k in chain), where,
                             "two files cannot import each other; move the shared models to a third file")
            return {}
        if key in self.done:
            return self.done[key]
        module = self.module(source)
        if module is None:
            return {}
        self.active.append(key)
        found: dict[str, ast.NeuronDef | ast.SynapseDef] = {}
        for item in module.items:
            if isinstance(item, ast.ImportStmt):
                for name, node in self.imported(item, source).items():
                    self.add(found, name, node, item.span)
        for item in module.items:
            if isinstance(item, (ast.NeuronDef, ast.SynapseDef)):
                self.add(found, item.name.name, item, item.name.span)
        self.active.pop()
        self.done[key] = found
        return found

    def imported(self, stmt: ast.ImportStmt, importer: SourceFile) -> dict:
        sources = self.sources_for(stmt, importer)
        if sources is None:
            return {}
        available: dict = {}
        self.via.append(stmt.span)
        for src in sources:
            for name, node in self.models(src, stmt.span).items():
                self.add(available, name, node, stmt.span)
        self.via.pop()
        if not stmt.names:
            return available
        chosen = {}
        for ident in stmt.names:
            if ident.name in available:
                chosen[ident.name] = available[ident.name]
            else:
                self.failed = True
                self.diags.error("SNN201", f'"{stmt.path}" defines no model `{ident.name}`', ident.span,
                                 did_you_mean(ident.name, available))
        return chosen

    def add(self, found: dict, name: str, node, span: Span | None) -> None:
        if name in found and found[name] is not node:
            prev = found[name].name.span
            self.diags.error("SNN202", f"model `{name}` is defined twice", span,
                             f"the other definition is at {prev.source.path}:{prev.line}")
        else:
            found[name] = node


def resolve_source(source: SourceFile) -> tuple[ir.Program, tuple]:
    """Parse and resolve ``source`` with its imports.

    A syntax error in ``source`` raises :class:`SnnError`. Otherwise returns the program (parts that failed
    to resolve are left out) and every diagnostic found, so checks can still run on the rest."""
    diags = Diagnostics()
    loader = _Loader(diags)
    module = loader.module(source)
    diags.raise_if_errors()
    model_nodes = loader.models(source)
    models: dict[str, ir.Model] = {}
    for name, node in model_nodes.items():
        model = resolve_model(node, diags)
        if model is not None:
            models[name] = model
    networks: dict[str, ir.Network] = {}
    for item in module.items:
        if isinstance(item, ast.NetworkDef):
            if item.name.name in networks or item.name.name in models:
                diags.error("SNN202", f"`{item.name.name}` is already defined", item.name.span)
                continue
            net = resolve_network(item, models, diags, quiet_unknown_models=loader.failed)
            if net is not None:
                networks[net.name] = net
    trains = []
    for item in module.items:
        if isinstance(item, ast.TrainDef):
            if trains or any(d.code == "SNN601" for d in diags.items if d.span and d.span.source is source):
                diags.error("SNN202", "a file has at most one train block", item.span,
                            "put other training setups in files of their own that import this one's models")
                continue
            train = resolve_train(item, networks, diags)
            if train is not None:
                trains.append(train)
    program = ir.Program(tuple(models.values()), tuple(networks.values()), tuple(trains))
    return program, tuple(diags.items)



