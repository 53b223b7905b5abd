"""AST → IR: the only place names are looked up.

:func:`resolve_source` parses a file, follows its imports (``import "std"``, ``import "lib.snn"``,
``import A, B from "..."``), resolves every model, network and train block, and returns an
:class:`snndsl.ir.Program`. Errors are collected across the whole file and raised together.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from snndsl.syntax import ast
from snndsl import ir
from snndsl.diagnostics import Diagnostics
from snndsl.source import SourceFile
from snndsl.resolve.arrays import ArrayContext, BytesReader
from snndsl.resolve.files import STD, Loader, Reader, file_key, stdlib_files, stdlib_path
from snndsl.resolve.models import resolve_model
from snndsl.resolve.network import resolve_network
from snndsl.resolve.plasticity import resolve_plasticity
from snndsl.resolve.train_block import resolve_train

__all__ = ["STD", "FileView", "Reader", "file_key", "resolve_source", "stdlib_files", "stdlib_path", "view_source"]


def resolve_source(source: SourceFile, read: Reader | None = None,
                   read_array: BytesReader | None = None) -> tuple[ir.Program, tuple]:
    """Parse and resolve ``source`` with its imports (imported files read with ``read``, by default from disk;
    array files of ``load(...)``, relative to ``source``'s folder, with ``read_array``, by default from disk).

    A syntax error in ``source`` raises :class:`SnnError`. Otherwise returns the program (parts that failed
    to resolve are left out) and every diagnostic found, so checks can still run on the rest."""
    diags = Diagnostics()
    loader = Loader(diags, read)
    module = loader.module(source, root=True)
    diags.raise_if_errors()
    model_nodes = loader.models(source)
    models: dict[str, ir.Model] = {}
    for name, node in model_nodes.items():
        model = (resolve_plasticity(node, diags) if isinstance(node, ast.PlasticityDef)
                 else resolve_model(node, diags))
        if model is not None:
            models[name] = model
    networks: dict[str, ir.Network] = {}
    base = Path(source.path).parent if not source.path.startswith("<") else Path.cwd()
    arrays = ArrayContext(base, read_array)
    for item in module.items:
        if isinstance(item, ast.NetworkDef):
            if item.name.name in networks or item.name.name in models:
                diags.error("SNN202", f"`{item.name.name}` is already defined", item.name.span)
                continue
            net = resolve_network(item, models, diags, quiet_unknown_models=loader.failed, arrays=arrays)
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


@attrs.frozen
class FileView:
    """What a file sees, for editor tools: its tree, the models visible in it (its own and imported ones, each
    a syntax node whose span says which file defines it), and each of its imports with every file that import
    loads, directly or through other files (by :func:`file_key`)."""

    module: ast.Module
    models: dict[str, ast.NeuronDef | ast.SynapseDef]
    imports: tuple[tuple[ast.ImportStmt, frozenset[str]], ...]

    @property
    def files(self) -> frozenset[str]:
        """Every file the imports load."""
        return frozenset().union(*(keys for _, keys in self.imports))


def view_source(source: SourceFile, read: Reader | None = None) -> FileView:
    """The :class:`FileView` of ``source``, following imports as :func:`resolve_source` does but reporting
    nothing (a broken import just brings in fewer models). Raises :class:`SnnError` on a syntax error in
    ``source`` itself."""
    diags = Diagnostics()
    loader = Loader(diags, read)
    module = loader.module(source, root=True)
    diags.raise_if_errors()
    models = loader.models(source)
    key = file_key(source)
    imports = []
    for stmt, keys in loader.edges.get(key, ()):
        reached = set(keys)
        for k in keys:
            reached |= loader.reached(k)
        imports.append((stmt, frozenset(reached)))
    return FileView(module, dict(models), tuple(imports))
