"""A NIR graph read as populations and projections (the first half of ``snndsl import``).

Nested subgraphs are inlined; every node is classified (:func:`node_kind`); sizes are found from weights,
shapes and per-neuron arrays and propagated along edges (a scalar field takes its neighbours' size); every
path of ``Delay`` / ``Linear`` / ``Affine`` / ``Scale`` nodes (and at most one LI synapse, last) from an
input or population to a population or output is composed into one :class:`Proj`: delays add (and must be a
whole number of steps), matrices multiply. A zero-delay cycle through two or more populations is cut with a
one-step lag (:func:`break_cycles`), since snndsl reads a recurrent input from the previous step.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import numpy as np

from snndsl import units as u
from snndsl.nir.errors import NirImportError
from snndsl.nir.recognise import NEURONS, SPIKING, matches_expon
from snndsl.nir.units import per_neuron, seconds


def snndsl_meta(node: Any) -> dict:
    """What snndsl's export recorded on ``node`` (``metadata["snndsl"]``), or ``{}``."""
    raw = (getattr(node, "metadata", None) or {}).get("snndsl")
    try:
        return json.loads(raw) if raw is not None else {}
    except (TypeError, ValueError):
        return {}


def flatten(nodes: dict, edges: list) -> tuple[dict, list]:
    """Inline nested subgraphs (as some tools write recurrent layers): their Input/Output nodes dissolve and
    their nodes are named ``subgraph.node``."""
    import nir
    out, entry, exit_ = {}, {}, {}
    inner_edges: list[tuple[str, str]] = []
    for name, node in nodes.items():
        if not isinstance(node, nir.NIRGraph):
            out[name] = node
            continue
        sub_nodes, sub_edges = flatten(node.nodes, list(node.edges))
        ins = {k for k, v in sub_nodes.items() if isinstance(v, nir.Input)}
        outs = {k for k, v in sub_nodes.items() if isinstance(v, nir.Output)}
        out.update({f"{name}.{k}": v for k, v in sub_nodes.items() if k not in ins | outs})
        inner_edges += [(f"{name}.{a}", f"{name}.{b}") for a, b in sub_edges if a not in ins and b not in outs]
        entry[name] = [f"{name}.{b}" for a, b in sub_edges if a in ins]
        exit_[name] = [f"{name}.{a}" for a, b in sub_edges if b in outs]
    flat = [(x, y) for a, b in edges for x in exit_.get(a, [a]) for y in entry.get(b, [b])]
    return out, flat + inner_edges


def read_graph(graph: Any) -> tuple[dict, list, dict]:
    """``(nodes, edges, kinds)`` of ``graph`` with subgraphs inlined; nodes exported by snndsl come first, in
    the order of the original network (their recorded ``index``), the others in the graph's order. Refuses
    (:class:`NirImportError`) values no model can run (:func:`check_values`) and nodes connected to nothing
    (:func:`check_connected`)."""
    nodes, edges = flatten(dict(graph.nodes), list(graph.edges))
    check_values(nodes)
    check_connected(nodes, edges)
    pos = {k: i for i, k in enumerate(nodes)}
    nodes = dict(sorted(nodes.items(), key=lambda kv: (snndsl_meta(kv[1]).get("index", 10**6), pos[kv[0]])))
    return nodes, edges, {k: node_kind(k, v) for k, v in nodes.items()}


def check_values(nodes: dict) -> None:
    """Refuse what no model can run: a NaN or infinite number in any array of a node, a time constant
    (``tau``, ``tau_syn``, ``tau_mem``) that is not positive, a negative delay."""
    for name, node in nodes.items():
        for field, value in vars(node).items():
            if field in ("metadata", "input_type", "output_type") or isinstance(value, (bool, str, dict)):
                continue
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                continue
            if not np.all(np.isfinite(arr)):
                raise NirImportError(f"node `{name}`: `{field}` holds NaN or infinite values")
            if field.startswith("tau") and np.any(arr <= 0):
                raise NirImportError(f"node `{name}`: the time constant `{field}` must be positive, not "
                                     f"{np.min(arr):g} s")
            if field == "delay" and np.any(arr < 0):
                raise NirImportError(f"node `{name}`: a delay must not be negative, not {np.min(arr):g} s")


def check_connected(nodes: dict, edges: list) -> None:
    """Refuse a node with no edges. NIR gives such a node an ``Input`` named ``input_<node>`` (and an
    ``Output`` named ``output_<node>``) of its own when it reads or builds a graph; a node wired only to such
    made-up ends is refused too, rather than imported as a population fed by an input nobody declared."""
    import nir
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for a, b in edges:
        succs.setdefault(a, []).append(b)
        preds.setdefault(b, []).append(a)
    for name, node in nodes.items():
        if isinstance(node, (nir.Input, nir.Output)):
            continue
        ins, outs = preds.get(name, []), succs.get(name, [])
        made = re.compile(rf"(input|output)_{re.escape(name)}(_\d+)?")
        made_up = all(isinstance(nodes.get(k), (nir.Input, nir.Output)) and made.fullmatch(k) for k in ins + outs)
        if not ins + outs or (ins and made_up):
            raise NirImportError(f"node `{name}` is connected to nothing" + (
                f" (NIR gave it an input `{ins[0]}` of its own)" if ins else "") + "; connect it or remove it")


def time_step(graph: Any, nodes: dict, dt: Any) -> tuple[float, str | None]:
    """The step in seconds and a note when it is assumed: ``dt`` (a time quantity, or seconds) when given,
    else the graph's ``metadata["dt"]``, else the first node's, else 1 ms."""
    if dt is None:
        gmeta = getattr(graph, "metadata", None) or {}
        found = [float(v.metadata["dt"]) for v in nodes.values() if (getattr(v, "metadata", None) or {}).get("dt")]
        dt = float(gmeta["dt"]) if "dt" in gmeta else (found[0] if found else None)
        if dt is None:
            return 1e-3, "# the graph records no dt: 1 ms assumed (snndsl import --dt ...)"
    return seconds(dt), None


def successors(edges: list) -> dict[str, list[str]]:
    """The nodes each node feeds, in edge order."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    return succ


def unmatched_synapses(nodes: dict, kinds: dict, succ: dict, size: dict, dt_s: float) -> None:
    """An exported synapse that does not feed exactly one population, or no longer matches ``Expon`` at
    this step (another ``dt``, edited fields), is read as an LI population instead."""
    for k in [k for k in nodes if kinds[k] == "synapse"]:
        nxt = succ.get(k, [])
        if len(nxt) != 1 or kinds[nxt[0]] != "pop" or \
                not matches_expon(nodes[k], size[k][0], snndsl_meta(nodes[k]), dt_s * u.second):
            kinds[k] = "pop"


def node_kind(name: str, node: Any) -> str:
    """``input``, ``output``, ``pop`` (a neuron node, or an exported identity readout), ``synapse`` (an LI
    exported as a projection's synapse) or ``op`` (weights, delays, flatten); anything else is refused."""
    import nir
    t = type(node).__name__
    if isinstance(node, (nir.Input, nir.Output)):
        return t.lower()
    role = snndsl_meta(node).get("role")
    if isinstance(node, nir.Scale) and role == "population":
        return "pop"
    if isinstance(node, nir.LI) and role == "synapse":
        return "synapse"
    if t in NEURONS:
        return "pop"
    if isinstance(node, (nir.Linear, nir.Affine, nir.Scale, nir.Delay, nir.Flatten)):
        return "op"
    raise NirImportError(f"node `{name}` is a NIR {t}, which snndsl cannot represent")


def _shape_size(shape: Any) -> int:
    """The number of channels of a NIR shape; :class:`NirImportError` for a signal with two or more axes > 1."""
    dims = [int(d) for d in np.atleast_1d(np.asarray(shape)).reshape(-1)]
    if sum(d > 1 for d in dims) > 1:
        raise NirImportError(f"a multi-dimensional signal {tuple(dims)}; snndsl populations are 1-D")
    return int(np.prod(dims)) if dims else 1


def _own_size(name: str, node: Any) -> list:
    """``[in, out]`` as far as ``node`` itself says (``None`` where it does not)."""
    import nir
    if isinstance(node, (nir.Linear, nir.Affine)):
        if np.ndim(node.weight) != 2:
            raise NirImportError(f"node `{name}`: weights of shape {np.shape(node.weight)}; snndsl takes 2-D")
        return [int(node.weight.shape[1]), int(node.weight.shape[0])]
    if isinstance(node, nir.Input):
        n = _shape_size(node.input_type["input"])
        return [n, n]
    if isinstance(node, nir.Output) and node.output_type.get("output") is not None \
            and np.size(node.output_type["output"]):
        n = _shape_size(node.output_type["output"])
        return [n, n]
    arrays = [v for k, v in vars(node).items() if k not in ("metadata", "input_type", "output_type")
              and isinstance(v, np.ndarray)]
    n = max((a.size for a in arrays), default=1)
    return [n, n] if n > 1 else [None, None]


def sizes(nodes: dict, edges: list) -> dict[str, tuple[int, int]]:
    """``(in, out)`` size of each node: from weights, shapes and per-neuron arrays, then along edges (a
    parameter given as a scalar takes the size of its neighbours); 1 where nothing says."""
    known = {name: _own_size(name, node) for name, node in nodes.items()}
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if known[a][1] is not None and known[b][0] is None:
                known[b] = [known[a][1], known[a][1]] if known[b][1] is None else [known[a][1], known[b][1]]
                changed = True
            if known[b][0] is not None and known[a][1] is None:
                known[a] = [known[b][0], known[b][0]] if known[a][0] is None else [known[a][0], known[b][0]]
                changed = True
    for a, b in edges:
        if None not in (known[a][1], known[b][0]) and known[a][1] != known[b][0]:
            raise NirImportError(f"edge {a} -> {b}: {a} sends {known[a][1]} values, {b} takes {known[b][0]}")
    return {k: (v[0] or 1, v[1] or 1) for k, v in known.items()}


# ---------------------------------------------------------------- projections


@attrs.define
class Proj:
    """One projection: the op nodes on its path and what they compose to."""

    pre: str
    post: str
    ops: list[str]
    delay_steps: int = 0
    matrix: np.ndarray | None = None        # (in, out); None: identity
    diagonal: bool = True
    bias: np.ndarray | None = None
    unit: str | None = None                 # the unit of the weights' output, from the metadata
    synapse: str | None = None
    name: str | None = None
    lagged: bool = False
    index: int = 10**9


def _compose_op(p: Proj, op: str, node: Any, n_op: int, acc: list) -> None:
    """Fold op node ``node`` into ``acc = [matrix (out, in), bias or None, delay in s, diagonal]``.

    With y = M x + b so far: a ``Linear``/``Affine`` W gives M' = W M and b' = W b (+ its own bias); a
    ``Scale`` s gives M' = diag(s) M, b' = s b; a ``Delay`` adds its (uniform) delay, allowed only before
    any bias, since snndsl delays the source's output; an ``LI`` marks the projection's synapse.
    ``diagonal`` stays true while no full matrix was applied. :class:`NirImportError` for per-neuron
    delays or a delay after a bias.
    """
    import nir
    m, b, delay, diagonal = acc
    meta = snndsl_meta(node)
    if isinstance(node, nir.Delay):
        d = per_neuron(node.delay, n_op, f"delay `{op}`")
        if np.ptp(d) > 1e-12 * max(1.0, np.max(np.abs(d))):
            raise NirImportError(f"delay `{op}` differs between neurons; snndsl delays a whole projection")
        if b is not None and np.any(b != 0):
            raise NirImportError(f"delay `{op}` follows a bias; snndsl delays before the weights")
        delay += float(d[0])
    elif isinstance(node, (nir.Linear, nir.Affine)):
        w = np.asarray(node.weight, np.float64)
        m, diagonal = w @ m, False
        b = (w @ b if b is not None else 0) + (np.asarray(node.bias, np.float64).reshape(-1)
                                                if isinstance(node, nir.Affine) else 0)
        b = None if np.isscalar(b) else b
        p.unit = meta.get("unit", node.metadata.get("unit") if node.metadata else None) or p.unit
    elif isinstance(node, nir.Scale):
        s = per_neuron(node.scale, n_op, f"scale `{op}`")
        m = s[:, None] * m
        b = s * b if b is not None else None
        p.unit = (node.metadata or {}).get("unit") or p.unit
    elif isinstance(node, nir.LI):
        p.synapse = op
    acc[:] = [m, b, delay, diagonal]


def compose(p: Proj, nodes: dict, n_in: int, dt_s: float, size: dict) -> Proj:
    """Compose the ops of ``p`` (from a source sending ``n_in`` values) into its delay in steps of ``dt_s``,
    its matrix (``None`` for the identity), bias and synapse; names it after the exported projection."""
    acc = [np.eye(n_in), None, 0.0, True]
    for op in p.ops:
        node = nodes[op]
        meta = snndsl_meta(node)
        p.name = p.name or meta.get("projection")
        p.index = min(p.index, meta.get("index", p.index))
        if p.synapse is not None:
            raise NirImportError(f"node `{p.synapse}` (a synapse) must come right before its target")
        _compose_op(p, op, node, size[op][0], acc)
    m, b, delay, diagonal = acc
    steps = delay / dt_s
    if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
        raise NirImportError(f"a delay of {delay:g} s is not a multiple of dt = {dt_s:g} s")
    p.delay_steps, p.diagonal, p.bias = int(round(steps)), diagonal, b
    p.matrix = None if diagonal and np.array_equal(m, np.eye(n_in)) else m.T.copy()
    return p


def paths(name: str, succ: dict, kinds: dict) -> list[tuple[list[str], str]]:
    """Every ``(ops, sink)``: a path from ``name`` through op and synapse nodes (no node twice) to a sink."""
    out, stack = [], [(name, [])]
    while stack:
        node, ops = stack.pop()
        for nxt in succ.get(node, []):
            if kinds[nxt] in ("op", "synapse"):
                if nxt not in ops:
                    stack.append((nxt, ops + [nxt]))
            else:
                out.append((ops, nxt))
    return out


def projections(nodes: dict, kinds: dict, succ: dict, size: dict, dt_s: float) -> list[Proj]:
    """Every projection from an input or population, in the graph's order."""
    out = []
    for src in [k for k in nodes if kinds[k] in ("input", "pop")]:
        for ops, sink in paths(src, succ, kinds):
            out.append(compose(Proj(src, sink, ops), nodes, size[src][1], dt_s, size))
    return out


def break_cycles(projs: list[Proj], kinds: dict, nodes: dict) -> None:
    """A cycle through two or more populations needs a one-step lag in snndsl: cut it at its feedback edge,
    the one leading back towards the inputs (its target is no farther from an input than its source, by
    the fewest projections), as nirtorch runs such graphs; among several, the longest step back, then one
    leaving a spiking population, then the first in the graph. Node names never decide. (A self-projection
    already reads last step's output.)"""
    from snndsl.checks.graph import _cycles
    far = _distances(projs, kinds, len(nodes) + 1)
    while True:
        zero = [p for p in projs if p.delay_steps == 0 and p.pre != p.post and kinds.get(p.pre) == "pop"
                and kinds.get(p.post) in ("pop", "readout")]
        edges: dict[str, list[str]] = {}
        for p in zero:
            edges.setdefault(p.pre, []).append(p.post)
        comps = _cycles(list(nodes), edges)
        if not comps:
            return
        members = set(comps[0])
        inside = [p for p in zero if p.pre in members and p.post in members]
        cut = min(inside, key=lambda p: (far[p.post] > far[p.pre], far[p.post] - far[p.pre],
                                         type(nodes[p.pre]).__name__ not in SPIKING, projs.index(p)))
        cut.delay_steps, cut.lagged = 1, True


def _distances(projs: list[Proj], kinds: dict, unreached: int) -> dict[str, int]:
    """The fewest projections from a network input to each node (``unreached`` for nodes no input reaches)."""
    dist = {k: 0 for k, kind in kinds.items() if kind == "input"}
    frontier = set(dist)
    while frontier:
        nxt = set()
        for p in projs:
            if p.pre in frontier and p.post not in dist:
                dist[p.post] = dist[p.pre] + 1
                nxt.add(p.post)
        frontier = nxt
    return {k: dist.get(k, unreached) for k in kinds}
