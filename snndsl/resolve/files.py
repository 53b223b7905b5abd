"""Files and imports: reading, parsing (with a cache of imported files) and following ``import`` statements.

:class:`Loader` parses each file once per run and gathers the model definitions visible in a file, its own
and those its imports bring in (canonical paths, cycles reported as SNN002). Imported files are read through
a ``read`` function, so an editor can supply the text of unsaved buffers; their parse trees are remembered by
path and text, so re-checking a file after a keystroke does not parse the standard library again.
"""

from __future__ import annotations

import errno
import os
import weakref
from importlib import resources
from pathlib import Path
from typing import Callable

from snndsl.diagnostics import Diagnostics, SnnError, did_you_mean
from snndsl.source import SourceFile, Span, UnreadableSource, read_text
from snndsl.syntax import ast
from snndsl.syntax.parser import parse

STD = "std"

#: Reads an imported file's text given its path; raises ``OSError`` or ``UnicodeDecodeError`` as a disk read
#: would.
Reader = Callable[[str], str]


def read_disk(path: str) -> str:
    """The UTF-8 text of the regular file at ``path`` (the default :data:`Reader`): never blocks on a pipe
    or reads a device, and refuses files over the size limit (:func:`snndsl.source.read_text`)."""
    return read_text(path)


def stdlib_files() -> list[SourceFile]:
    """The standard library's ``.snn`` files (``import "std"``), read from the installed package, in name order;
    each is reported under the path ``<std>/NAME.snn``.
    """
    root = resources.files("snndsl").joinpath("stdlib")
    return [_cached_source(f"<std>/{f.name}", f.read_text(encoding="utf-8"))
            for f in sorted(root.iterdir(), key=lambda f: f.name) if f.name.endswith(".snn")]


def stdlib_path(path: str) -> str | None:
    """The file on disk behind a standard-library path ``<std>/NAME.snn``; ``None`` for any other path, or when
    the package is not installed as plain files."""
    if not path.startswith("<std>/"):
        return None
    found = resources.files("snndsl").joinpath("stdlib", path[len("<std>/"):])
    return str(found) if isinstance(found, Path) and found.is_file() else None


def file_key(source: SourceFile) -> str:
    """One name per file however an import spells its path (``a/../b.snn``, symlinks): the real path, or the
    path itself for sources that are not files (``<std>/LIF.snn``, ``<string>``)."""
    return source.path if source.path.startswith("<") else os.path.realpath(source.path)


def _short(key: str) -> str:
    try:
        return os.path.relpath(key)
    except ValueError:
        return key


#: Imported files parsed before: ``(path, text)`` → (the source, its tree or its syntax error). Keyed by
#: content, so an edited file is parsed again; bounded (oldest first out).
_PARSED: dict[tuple[str, str], tuple[SourceFile, "ast.Module | SnnError"]] = {}
_PARSED_MAX = 64


def _cached_source(path: str, text: str) -> SourceFile:
    """The :class:`SourceFile` for ``(path, text)``: the one parsed before when the text is unchanged, so its
    cached tree (whose spans point into it) can be reused."""
    hit = _PARSED.get((path, text))
    return hit[0] if hit is not None else SourceFile(path, text)


def _parse_cached(source: SourceFile) -> ast.Module:
    """:func:`parse` of an imported file, remembered by path and text; raises :class:`SnnError` as it does."""
    key = (source.path, source.text)
    hit = _PARSED.get(key)
    if hit is None or hit[0] is not source:
        try:
            result: ast.Module | SnnError = parse(source)
        except SnnError as e:
            result = e
        while len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[key] = hit = (source, result)
    if isinstance(hit[1], SnnError):
        raise hit[1]
    return hit[1]


#: The trees of files being checked, by the :class:`SourceFile` object itself: checking a source and then
#: viewing it (:func:`snndsl.resolve.view_source`) parses it once. Entries go when the source does.
_ROOTS: "weakref.WeakKeyDictionary[SourceFile, ast.Module | SnnError]" = weakref.WeakKeyDictionary()


def _parse_root(source: SourceFile) -> ast.Module:
    """:func:`parse` of the file being checked, remembered for as long as this very source object lives."""
    result = _ROOTS.get(source)
    if result is None:
        try:
            result = parse(source)
        except SnnError as e:
            result = e
        _ROOTS[source] = result
    if isinstance(result, SnnError):
        raise result
    return result


class Loader:
    """Parses files once each and gathers model definitions across imports (cycles are SNN002).

    ``edges`` records, for every file loaded, each of its import statements and the files that statement
    loads directly (by :func:`file_key`).
    """

    def __init__(self, diags: Diagnostics, read: Reader | None = None):
        self.diags = diags
        self.read = read or read_disk
        self.modules: dict[str, ast.Module] = {}
        self.active: list[str] = []
        self.done: dict[str, dict] = {}
        self.via: list[Span] = []   # via[i]: the import in active[i] being followed
        self.edges: dict[str, list[tuple[ast.ImportStmt, tuple[str, ...]]]] = {}
        #: whether an import failed: then unknown model names are not reported again at each use
        self.failed = False

    def module(self, source: SourceFile, root: bool = False) -> ast.Module | None:
        """The tree of ``source`` (``None`` after reporting its syntax error). The ``root`` file, the one being
        checked, is parsed once per source object; imported files come from the cache when their text is
        unchanged."""
        key = file_key(source)
        if key not in self.modules:
            try:
                self.modules[key] = _parse_root(source) if root else _parse_cached(source)
            except SnnError as e:
                self.diags.extend(e.diagnostics)
                return None
        return self.modules[key]

    def sources_for(self, stmt: ast.ImportStmt, importer: SourceFile) -> list[SourceFile] | None:
        """The files ``stmt`` names (every standard-library file for ``"std"``), or ``None`` after SNN001/003."""
        if stmt.path == STD:
            return stdlib_files()
        base = Path(importer.path).parent if not importer.path.startswith("<") else Path.cwd()
        path = Path(os.path.normpath(base / stmt.path))
        code, why, hint = None, "", 'the standard library is `import "std"`; other paths are relative to this file'
        if not stmt.path.endswith(".snn"):
            code, why, hint = "SNN004", "is not a .snn file", "imports name model files, e.g. `import \"lib/cells.snn\"`"
        else:
            try:
                return [_cached_source(str(path), self.read(str(path)))]
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
        key = file_key(source)
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
        self.edges[key] = []
        found: dict[str, ast.NeuronDef | ast.SynapseDef] = {}
        for item in module.items:
            if isinstance(item, ast.ImportStmt):
                for name, node in self.imported(item, source).items():
                    self.add(found, name, node, item.span)
        for item in module.items:
            if isinstance(item, (ast.NeuronDef, ast.SynapseDef, ast.PlasticityDef)):
                self.add(found, item.name.name, item, item.name.span)
        self.active.pop()
        self.done[key] = found
        return found

    def imported(self, stmt: ast.ImportStmt, importer: SourceFile) -> dict:
        """The models ``stmt`` brings into ``importer`` (SNN201 for a named model the file does not define)."""
        sources = self.sources_for(stmt, importer)
        if sources is None:
            return {}
        self.edges[file_key(importer)].append((stmt, tuple(file_key(s) for s in sources)))
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
        """Make model ``node`` visible as ``name`` (SNN202 when another model already has that name)."""
        if name in found and found[name] is not node:
            prev = found[name].name.span
            self.diags.error("SNN202", f"model `{name}` is defined twice", span,
                             f"the other definition is at {prev.source.path}:{prev.line}")
        else:
            found[name] = node

    def reached(self, key: str) -> set[str]:
        """Every file loaded, directly or through other files, by the imports of the file ``key``."""
        seen: set[str] = set()
        todo = [k for _, keys in self.edges.get(key, ()) for k in keys]
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(k2 for _, keys in self.edges.get(k, ()) for k2 in keys)
        return seen
