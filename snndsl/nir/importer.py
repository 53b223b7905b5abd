"""Import a NIR graph as a readable ``.snn`` model plus a parameter file (``snndsl import model.nir -o m.snn``).

Every NIR neuron node becomes a population (:mod:`snndsl.nir.models`); chains of ``Linear`` / ``Affine`` /
``Scale`` / ``Delay`` nodes between two of them become one projection (:mod:`snndsl.nir.graph`,
:mod:`snndsl.nir.connect`). NIR times are seconds; the file states them in ms and steps the equations at the
graph's ``dt`` (given with ``--dt`` when the graph records none; 1 ms is assumed otherwise, and said). The file
is built as a syntax tree and printed by the canonical printer (:mod:`snndsl.nir.layout`), so it is already in
``snndsl fmt`` form; arrays go to ``<model>.params.npz`` (:mod:`snndsl.nir.params`). docs/nir.md explains the
choices. This module and :mod:`snndsl.nir.export` share the recogniser and never import each other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from snndsl import units as u
from snndsl.nir import astbuild as b
from snndsl.nir.connect import connect
from snndsl.nir.errors import NirImportError
from snndsl.nir.graph import (Proj, break_cycles, projections, read_graph, sizes, snndsl_meta, successors,
                              time_step, unmatched_synapses)
from snndsl.nir.layout import Item, block, render
from snndsl.nir.models import Context, population
from snndsl.nir.names import camel, safe_name
from snndsl.nir.params import apply_params, load, params_path, read_params, save_params
from snndsl.nir.units import parse_unit
from snndsl.syntax import ast


@attrs.define
class Imported:
    """The result of an import: the ``.snn`` text and the arrays it refers to (``key -> (numbers, unit)``).

    The text says ``<snn>`` and ``<params>`` (in comments) where the file names go; :meth:`write` fills them in.
    """

    text: str
    params: dict[str, tuple[np.ndarray, str]]
    name: str

    def write(self, snn_path: str | Path) -> tuple[Path, Path | None]:
        """Write the ``.snn`` file and, when there are arrays, its ``.params.npz``; returns both paths."""
        from snndsl.fileio import atomic_write_text
        snn_path = Path(snn_path)
        pfile = params_path(snn_path)
        atomic_write_text(snn_path, self.text.replace("<params>", pfile.name).replace("<snn>", snn_path.name))
        if not self.params:
            return snn_path, None
        save_params(pfile, self.params)
        return snn_path, pfile


def _outputs(ctx: Context, projs: list[Proj]) -> list[str]:
    """The names in the ``output`` statement: a population wired straight to a NIR Output is output itself
    (that projection is dropped); an Output fed through weights becomes an identity readout of its own."""
    import nir
    outputs = []
    for out in [k for k in ctx.nodes if ctx.kinds[k] == "output"]:
        into = [p for p in projs if p.post == out]
        if len(into) == 1 and not into[0].ops and ctx.kinds[into[0].pre] == "pop":
            outputs.append(ctx.names[into[0].pre])
            projs.remove(into[0])
        elif into:
            ctx.nodes[out], ctx.kinds[out] = nir.Scale(np.ones(ctx.sizes[out][0]), metadata={}), "readout"
            ctx.names[out] = safe_name(out, ctx.taken)
            outputs.append(ctx.names[out])
    return outputs


def _input(ctx: Context, k: str) -> ast.NetInput:
    """``input x: spikes[n]``, or ``input x: current[n] unit`` for a current input exported by snndsl."""
    meta = snndsl_meta(ctx.nodes[k])
    current = meta.get("kind") == "current"
    unit = parse_unit(meta.get("unit")) if current else u.UNITLESS
    ctx.punits[k] = (unit, unit)
    ctx.nir_out[k] = unit
    size = b.integer(ctx.sizes[k][1])
    if unit is not u.UNITLESS and current:
        return ast.NetInput(b.ident(ctx.names[k]), b.ident("current"), size, b.unit_type(unit), None, span=b.NOWHERE)
    return ast.NetInput(b.ident(ctx.names[k]), b.ident("spikes"), size, None, None, span=b.NOWHERE)


def _header(has_params: bool) -> list[str]:
    """The comment lines heading an imported file (``<snn>``/``<params>`` stand for the file names)."""
    import nir
    lines = [f"# <snn>: imported from NIR by `snndsl import` (nir {getattr(nir, '__version__', '?')}).",
             "# NIR gives continuous-time equations (times in seconds); snndsl steps them at dt with exponential",
             "# Euler, exact for these linear equations with each step's input held."]
    if has_params:
        lines += ["# Arrays (weights, per-neuron values) are in <params>; run with them:",
                  "#     snndsl run <snn> --steps N --params <params>",
                  '#     model, net = snndsl.nir.importer.load("<snn>")      # from Python']
    return lines


def _network_name(ctx: Context, graph: Any, name: str | None, fallback: str) -> str:
    """The network's name: ``name``, else the graph's recorded one, else ``fallback``; capitalised, not taken."""
    gmeta = getattr(graph, "metadata", None) or {}
    netname = safe_name(name or gmeta.get("network") or fallback, set(ctx.models) | ctx.taken)
    return netname[0].upper() + netname[1:] if netname[0].islower() else netname


def _items(ctx: Context, netname: str, body: list) -> list[Item]:
    """The file's items: the standard models imported by name, the models written out, the network."""
    std = sorted(m for m, item in ctx.models.items() if item is None)
    items = [Item(ast.ImportStmt("std", tuple(b.ident(m) for m in std), span=b.NOWHERE))] if std else []
    items += [item for item in ctx.models.values() if item is not None]
    return items + [block(ast.NetworkDef, netname, body)]


def from_nir(graph, name: str | None = None, dt: Any = None, fallback_name: str = "Imported") -> Imported:
    """A NIR graph → ``.snn`` text and its arrays. ``dt`` (a time quantity, or seconds) overrides the one in
    the graph's metadata; without either, 1 ms is assumed (and said in the file). The network is called
    ``name``, else what the graph's metadata says, else ``fallback_name``. Raises :class:`NirImportError`
    for what snndsl cannot represent."""
    nodes, edges, kinds = read_graph(graph)
    dt_s, dt_note = time_step(graph, nodes, dt)
    size = sizes(nodes, edges)
    succ = successors(edges)
    unmatched_synapses(nodes, kinds, succ, size, dt_s)
    ctx = Context(nodes, kinds, size, dt_s)
    ctx.names = {k: safe_name(k, ctx.taken) for k in nodes if kinds[k] in ("input", "pop")}
    projs = projections(nodes, kinds, succ, size, dt_s)
    outputs = _outputs(ctx, projs)
    projs.sort(key=lambda p: p.index)
    break_cycles(projs, kinds, nodes)

    inputs = [_input(ctx, k) for k in nodes if kinds[k] == "input"]
    pops = [population(ctx, k) for k in nodes if kinds[k] in ("pop", "readout")]
    labels: set[str] = set()
    conns = [connect(ctx, p, labels) for p in projs]
    body: list = [(ast.DtStmt(b.quantity(dt_s * 1e3, u.ms), span=b.NOWHERE), dt_note)] + inputs + pops + conns
    if outputs:
        body.append(ast.NetOutput(tuple(b.ident(o) for o in outputs), span=b.NOWHERE))
    netname = _network_name(ctx, graph, name, fallback_name)
    text = render(_items(ctx, netname, body), _header(bool(ctx.params)))
    return Imported(text, ctx.params, netname)


# ---------------------------------------------------------------- files and the command line


def read(path: str | Path, dt: Any = None, name: str | None = None) -> Imported:
    """Read a NIR file and import it (:func:`from_nir`); the network is named after the file by default.

    A graph whose shapes only broadcasting explains is read again without NIR's type check. Raises
    :class:`NirImportError` for a file that is not a NIR graph (or uses what snndsl cannot express) and
    ``OSError`` when it cannot be read; ``dt`` is a time quantity, or ``None`` for the graph's own.
    """
    import nir
    try:
        try:
            graph = nir.read(str(path))
        except (ValueError, AssertionError, NotImplementedError):   # shapes that only broadcasting explains
            graph = nir.read(str(path), type_check=False)
    except (KeyError, TypeError, ValueError, AssertionError, NotImplementedError) as e:
        raise NirImportError(f"not a NIR graph snndsl can read ({type(e).__name__}: {e})") from None
    return from_nir(graph, name, dt, camel(Path(path).stem))


def import_file(path: str | Path, out: str | Path, dt: Any = None, name: str | None = None):
    """Read a NIR file and write ``out`` (.snn) and, when there are arrays, ``out.params.npz``; the text is
    checked before anything is written. Returns the paths written."""
    from snndsl.compiler import check_text
    result = read(path, dt, name)
    check_text(result.text.replace("<params>", "p").replace("<snn>", "m"), str(out))
    return result.write(out)


def parse_dt(text: str) -> Any:
    """``--dt`` text (``1 ms``, ``100 us``) as a time quantity; ``ValueError`` without a time unit."""
    from snndsl.resolve.unit_names import lookup
    m = re.fullmatch(r"\s*([0-9.]+(?:[eE][+-]?\d+)?)\s*([A-Za-z]+)\s*", text or "")
    unit = lookup(m.group(2)) if m else None
    if unit is None or u.get_dim(unit) != u.get_dim(u.second):
        raise ValueError(f"--dt needs a time with its unit, e.g. '1 ms' or '100 us', not {text!r}")
    return float(m.group(1)) * unit


__all__ = ["from_nir", "read", "import_file", "apply_params", "load", "read_params", "params_path", "parse_dt",
           "Imported", "NirImportError"]
