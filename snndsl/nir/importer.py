"""Import a NIR graph as a readable ``.snn`` model plus a parameter file (``snndsl import model.nir -o m.snn``).

Every NIR neuron node becomes a population; chains of ``Linear`` / ``Affine`` / ``Scale`` / ``Delay`` nodes
between two of them become one projection (composed: delays add, matrices multiply). A node exported by snndsl
(``metadata["snndsl"]``) comes back as the standard-library model it was (``LIF``, ``IF``, ``LI``, ``Expon``)
when that model reproduces the node's NIR parameters; any other node is written as a model that
states NIR's own equation (``NirLIF``, ``NirCubaLIF``, ...), dimensionless except time. The language has no
array literals, so weights and per-neuron values go to ``<model>.params.npz`` next to the ``.snn`` file, and
:func:`load` compiles the model and applies them. docs/nir.md explains the choices.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import attrs
import brainunit as u
import numpy as np

from snndsl import ir
from snndsl.nir.export import NotExpressible, coherent, neuron_spec, number, synapse_spec

SPIKING = ("LIF", "IF", "CubaLIF", "Threshold")
NEURONS = ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Threshold")
#: Standard-library models and the NIR field each parameter comes from.
STD = {"LIF": {"tau": "tau", "R": "r", "V_rest": "v_leak", "V_th": "v_threshold", "V_reset": "v_reset"},
       "IF": {"tau": "tau", "R": "r", "V_th": "v_threshold"}, "LI": {"tau": "tau"}, "Expon": {"tau": "tau"}}
#: Names the language reserves (see snndsl.resolve.models.RESERVED); an imported name that is one gets a `_`.
KEYWORDS = frozenset({"t", "dt", "time", "label", "target", "true", "false", "self"})
_FIELDS = {"LIF": "tau r v_leak v_threshold v_reset", "IF": "r v_threshold v_reset", "LI": "tau r v_leak",
           "I": "r", "CubaLIF": "tau_syn tau_mem r v_leak v_threshold v_reset w_in",
           "CubaLI": "tau_syn tau_mem r v_leak w_in", "Threshold": "threshold"}
_EQUATIONS = {
    "LIF": ["dv/dt = (v_leak - v + r * I) / tau"], "LI": ["dv/dt = (v_leak - v + r * I) / tau"],
    "IF": ["dv/dt = r * I / second        # NIR's r is per second"],
    "I": ["dv/dt = r * I / second        # NIR's r is per second"],
    "CubaLIF": ["dI/dt = (w_in * S - I) / tau_syn", "dv/dt = (v_leak - v + r * I) / tau_mem"],
    "CubaLI": ["dI/dt = (w_in * S - I) / tau_syn", "dv/dt = (v_leak - v + r * I) / tau_mem"],
    "Threshold": ["dv/dt = (I - v) / dt            # one Euler step of length dt: v <- I"],
}
_DOC = {"LIF": "tau dv/dt = (v_leak - v) + r I, spike when v > v_threshold", "LI": "tau dv/dt = (v_leak - v) + r I",
        "IF": "dv/dt = r I, spike when v > v_threshold", "I": "dv/dt = r I",
        "CubaLIF": "tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + r I, spike when v > v_threshold",
        "CubaLI": "tau_syn dI/dt = -I + w_in S, tau_mem dv/dt = (v_leak - v) + r I",
        "Threshold": "spike when the input exceeds threshold (no state)"}


#: A readout that delivers the sum of its inputs of this step (stdlib Delta cannot be a readout: its output
#: is the input `w`, which a population has no stored value of).
IDENTITY = """# the sum of the weighted inputs of this step (a NIR Output fed by weights, or an identity node)
synapse NirIdentity {
    state g
    on_spike g = w
    output g
}"""


class NirImportError(Exception):
    """The graph uses something snndsl cannot represent, or is malformed."""


@attrs.define
class Imported:
    """The result of an import: the ``.snn`` text and the arrays it refers to (``key -> (numbers, unit)``)."""

    text: str
    params: dict[str, tuple[np.ndarray, str]]
    name: str

    def write(self, snn_path: str | Path) -> tuple[Path, Path | None]:
        from snndsl.fileio import atomic_write_text
        snn_path = Path(snn_path)
        pfile = params_path(snn_path)
        atomic_write_text(snn_path, self.text.replace("<params>", pfile.name).replace("<snn>", snn_path.name))
        if not self.params:
            return snn_path, None
        save_params(pfile, self.params)
        return snn_path, pfile


def params_path(snn_path: str | Path) -> Path:
    p = Path(snn_path)
    return p.with_name(p.stem + ".params.npz")


def save_params(path: Path, params: dict[str, tuple[np.ndarray, str]]) -> None:
    from snndsl.fileio import atomic_write
    arrays = {k: np.asarray(v) for k, (v, _) in params.items()}
    arrays["__units__"] = np.array(json.dumps({k: unit for k, (_, unit) in params.items()}))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_params(path: str | Path) -> dict[str, tuple[np.ndarray, str]]:
    with np.load(path, allow_pickle=False) as f:
        units = json.loads(str(f["__units__"]))
        return {k: (f[k], units[k]) for k in f.files if k != "__units__"}


# ---------------------------------------------------------------- graph → populations and projections


def _unit(text: str | None) -> Any:
    return u.UNITLESS if text in (None, "", "1") else u.Unit(text)


def _meta(node) -> dict:
    raw = (getattr(node, "metadata", None) or {}).get("snndsl")
    try:
        return json.loads(raw) if raw is not None else {}
    except (TypeError, ValueError):
        return {}


def _flatten(nodes: dict, edges: list) -> tuple[dict, list]:
    """Inline nested subgraphs (as some tools write recurrent layers): their Input/Output nodes dissolve."""
    import nir
    out, entry, exit_ = {}, {}, {}
    inner_edges: list[tuple[str, str]] = []
    for name, node in nodes.items():
        if not isinstance(node, nir.NIRGraph):
            out[name] = node
            continue
        sub_nodes, sub_edges = _flatten(node.nodes, list(node.edges))
        ins = {k for k, v in sub_nodes.items() if isinstance(v, nir.Input)}
        outs = {k for k, v in sub_nodes.items() if isinstance(v, nir.Output)}
        out.update({f"{name}.{k}": v for k, v in sub_nodes.items() if k not in ins | outs})
        inner_edges += [(f"{name}.{a}", f"{name}.{b}") for a, b in sub_edges if a not in ins and b not in outs]
        entry[name] = [f"{name}.{b}" for a, b in sub_edges if a in ins]
        exit_[name] = [f"{name}.{a}" for a, b in sub_edges if b in outs]
    flat = [(x, y) for a, b in edges for x in exit_.get(a, [a]) for y in entry.get(b, [b])]
    return out, flat + inner_edges


def _shape_size(shape) -> int:
    dims = [int(d) for d in np.atleast_1d(np.asarray(shape)).reshape(-1)]
    if sum(d > 1 for d in dims) > 1:
        raise NirImportError(f"a multi-dimensional signal {tuple(dims)}; snndsl populations are 1-D")
    return int(np.prod(dims)) if dims else 1


def _kind(name: str, node) -> str:
    import nir
    t = type(node).__name__
    if isinstance(node, (nir.Input, nir.Output)):
        return t.lower()
    role = _meta(node).get("role")
    if isinstance(node, nir.Scale) and role == "population":
        return "pop"
    if isinstance(node, nir.LI) and role == "synapse":
        return "synapse"
    if t in NEURONS:
        return "pop"
    if isinstance(node, (nir.Linear, nir.Affine, nir.Scale, nir.Delay, nir.Flatten)):
        return "op"
    raise NirImportError(f"node `{name}` is a NIR {t}, which snndsl cannot represent")


def _sizes(nodes: dict, edges: list) -> dict[str, tuple[int, int]]:
    """``(in, out)`` size of each node: from weights, shapes and per-neuron arrays, then along edges (a
    parameter given as a scalar takes the size of its neighbours)."""
    import nir
    known: dict[str, list] = {}
    for name, node in nodes.items():
        if isinstance(node, (nir.Linear, nir.Affine)):
            if np.ndim(node.weight) != 2:
                raise NirImportError(f"node `{name}`: weights of shape {np.shape(node.weight)}; snndsl takes 2-D")
            known[name] = [int(node.weight.shape[1]), int(node.weight.shape[0])]
        elif isinstance(node, nir.Input):
            n = _shape_size(node.input_type["input"])
            known[name] = [n, n]
        elif isinstance(node, nir.Output) and node.output_type.get("output") is not None \
                and np.size(node.output_type["output"]):
            n = _shape_size(node.output_type["output"])
            known[name] = [n, n]
        else:
            arrays = [v for k, v in vars(node).items() if k not in ("metadata", "input_type", "output_type")
                      and isinstance(v, np.ndarray)]
            n = max((a.size for a in arrays), default=1)
            known[name] = [n, n] if n > 1 else [None, None]
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


def _vec(x, n: int, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size not in (1, n):
        raise NirImportError(f"{what} has {a.size} values for {n} neurons")
    return np.broadcast_to(a, (n,)).copy()


@attrs.define
class Proj:
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


def _compose(p: Proj, nodes: dict, n_in: int, dt_s: float, sizes: dict) -> Proj:
    import nir
    m, b, delay, diagonal = np.eye(n_in), None, 0.0, True
    for op in p.ops:
        node = nodes[op]
        meta = _meta(node)
        p.name = p.name or meta.get("projection")
        p.index = min(p.index, meta.get("index", p.index))
        if p.synapse is not None:
            raise NirImportError(f"node `{p.synapse}` (a synapse) must come right before its target")
        if isinstance(node, nir.Delay):
            d = _vec(node.delay, sizes[op][0], f"delay `{op}`")
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
            s = _vec(node.scale, sizes[op][0], f"scale `{op}`")
            m = s[:, None] * m
            b = s * b if b is not None else None
            p.unit = (node.metadata or {}).get("unit") or p.unit
        elif isinstance(node, nir.LI):
            p.synapse = op
    steps = delay / dt_s
    if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
        raise NirImportError(f"a delay of {delay:g} s is not a multiple of dt = {dt_s:g} s")
    p.delay_steps, p.diagonal, p.bias = int(round(steps)), diagonal, b
    p.matrix = None if diagonal and np.array_equal(m, np.eye(n_in)) else m.T.copy()
    return p


def _paths(name: str, succ: dict, kinds: dict) -> list[tuple[list[str], str]]:
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


# ---------------------------------------------------------------- text


def fmt(x: float) -> str:
    """The shortest decimal that is the same float32 (what the compiled model computes in)."""
    x = np.float32(x)
    if x != 0 and not 1e-4 <= abs(x) < 1e7:
        return np.format_float_scientific(x, trim="-")
    return np.format_float_positional(x, trim="-")


def quantity(x: float, unit: Any) -> str:
    text = ir.show_unit(unit)
    return fmt(x) if text == "1" else f"{fmt(x)} {text}"


def ident(name: str, taken: set[str]) -> str:
    from snndsl.lower.emit import py_name
    from snndsl.resolve.unit_names import shadows_unit
    s = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_") or "n"
    if s[0].isdigit():
        s = "n" + s
    while s in KEYWORDS or shadows_unit(s) or s in taken or py_name(s) != s:   # py_name: Python keywords
        s += "_"
    taken.add(s)
    return s


def literal_model(kind: str, reset: str = "hard", method: str = "exp_euler") -> tuple[str, str]:
    """The name and text of a model stating NIR's equation for ``kind`` (dimensionless, times in ms)."""
    name = "Nir" + {"I": "Integrator"}.get(kind, kind) + ("Soft" if reset == "soft" and kind != "Threshold" else "") \
        + ("" if method in ("exp_euler", "exact") or kind == "Threshold" else method.capitalize())
    lines = [f"# NIR {kind}: {_DOC[kind]}" + (f"; then v = v_reset ({reset} reset)" if kind in SPIKING[:3] else ""),
             f"neuron {name} {{"]
    for f in _FIELDS[kind].split():
        lines.append(f"    param {f}: " + ("ms" if f.startswith("tau") else "1"))
    cuba = kind.startswith("Cuba")
    lines.append(f"    input {'S' if cuba else 'I'}: 1")
    if cuba:
        lines.append("    state I: 1 = 0")
    lines.append("    state v: 1 = 0")
    lines += ["    " + e for e in _EQUATIONS[kind]]
    if kind in SPIKING:
        lines.append(f"    spike when v > {'threshold' if kind == 'Threshold' else 'v_threshold'}, scale = 1")
        lines.append("    reset hard v = 0" if kind == "Threshold" else f"    reset {reset} v = v_reset")
    if kind == "Threshold" or method not in ("exp_euler", "exact"):
        lines.append(f"    method {'euler' if kind == 'Threshold' else method}")
    return name, "\n".join(lines + ["}"])


# ---------------------------------------------------------------- the import


@functools.lru_cache(maxsize=1)
def _std_models() -> dict[str, ir.Model]:
    from snndsl.compiler import check_text
    return {m.name: m for m in check_text('import "std"').program.models}


def _fields(node, kind: str, n: int) -> dict[str, np.ndarray]:
    return {f: _vec(getattr(node, f), n, f"`{f}`") for f in _FIELDS[kind].split()}


def _close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=1e-6, atol=1e-12) for k in a)


def _std_values(model: ir.Model, fields: dict, n: int) -> dict[str, Any]:
    vals = {}
    for p in model.params:
        src = STD[model.name].get(p.name)
        if src is not None:
            vals[p.name] = u.Quantity(fields[src], unit=coherent(p.unit)).to(p.unit)
        else:
            raise NirImportError(f"no NIR field for {model.name}.{p.name}")
    return vals


def _try_std(node, kind: str, meta: dict, n: int, dt, std: dict, reset: str) -> tuple[ir.Model, dict] | None:
    """The standard model the node was exported from, with its values, if it reproduces the node exactly."""
    model = std.get(meta.get("model")) if meta.get("std") else None
    if model is None or model.name not in STD:
        return None
    try:
        fields = _fields(node, kind, n)
        values = _std_values(model, fields, n)
        if model.kind == "neuron":
            spec = neuron_spec(model, values, dt)
        else:
            spec = synapse_spec(model, values, dt, _unit((node.metadata.get("units") or {}).get("input")))
        ok = spec.type == kind and _close(spec.fields, fields) and (spec.reset or "hard") == reset
        return (model, values) if ok else None
    except (NotExpressible, NirImportError, KeyError, TypeError, ValueError, AttributeError):
        return None


def from_nir(graph, name: str | None = None, dt: Any = None, fallback_name: str = "Imported") -> Imported:
    """A NIR graph → ``.snn`` text and its arrays. ``dt`` (a time quantity, or seconds) overrides the one in
    the graph's metadata; without either, 1 ms is assumed (and said in the file). The network is called
    ``name``, else what the graph's metadata says, else ``fallback_name``."""
    import nir
    nodes, edges = _flatten(dict(graph.nodes), list(graph.edges))
    pos = {k: i for i, k in enumerate(nodes)}
    nodes = dict(sorted(nodes.items(), key=lambda kv: (_meta(kv[1]).get("index", 10**6), pos[kv[0]])))
    kinds = {k: _kind(k, v) for k, v in nodes.items()}
    gmeta = getattr(graph, "metadata", None) or {}
    dt_note = ""
    if dt is None:
        found = [float(v.metadata["dt"]) for v in nodes.values() if (getattr(v, "metadata", None) or {}).get("dt")]
        dt = float(gmeta["dt"]) if "dt" in gmeta else (found[0] if found else None)
        if dt is None:
            dt, dt_note = 1e-3, "  # the graph records no dt: 1 ms assumed (snndsl import --dt ...)"
    dt_s = float(number(dt, u.second)) if isinstance(dt, u.Quantity) else float(dt)
    dtq = dt_s * u.second
    sizes = _sizes(nodes, edges)
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    std = _std_models()
    for k in [k for k in nodes if kinds[k] == "synapse"]:   # one that no longer matches Expon is an LI
        nxt = succ.get(k, [])
        if len(nxt) != 1 or kinds[nxt[0]] != "pop" or not _std_synapse(nodes[k], sizes[k][0], dtq, std):
            kinds[k] = "pop"
    taken: set[str] = set()
    names = {k: ident(k, taken) for k, v in nodes.items() if kinds[k] in ("input", "pop")}

    # projections: every path of ops from an input or population to a population or output
    projs: list[Proj] = []
    for src in [k for k in nodes if kinds[k] in ("input", "pop")]:
        for ops, sink in _paths(src, succ, kinds):
            projs.append(_compose(Proj(src, sink, ops), nodes, sizes[src][1], dt_s, sizes))
    outputs: list[str] = []
    for out in [k for k in nodes if kinds[k] == "output"]:
        into = [p for p in projs if p.post == out]
        if len(into) == 1 and not into[0].ops and kinds[into[0].pre] == "pop":
            outputs.append(names[into[0].pre])
            projs.remove(into[0])
        elif into:
            nodes[out], kinds[out] = nir.Scale(np.ones(sizes[out][0]), metadata={}), "readout"
            names[out] = ident(out, taken)
            outputs.append(names[out])
    projs.sort(key=lambda p: p.index)
    _break_cycles(projs, kinds, nodes)

    # populations
    models_used: dict[str, str] = {}    # model name -> "std" or literal text
    pops: list[str] = []
    punits: dict[str, tuple[Any, Any]] = {}     # node -> (unit of its input port, unit of its output)
    nir_out: dict[str, Any] = {}                # node -> the unit its output's numbers have in the file
    params: dict[str, tuple[np.ndarray, str]] = {}
    for k, node in nodes.items():
        if kinds[k] == "input":
            meta = _meta(node)
            unit = _unit(meta.get("unit")) if meta.get("kind") == "current" else u.UNITLESS
            punits[k] = (unit, unit)
            nir_out[k] = unit
            continue
        if kinds[k] not in ("pop", "readout"):
            continue
        n, meta = sizes[k][0], _meta(node)
        kind = type(node).__name__
        before = set(params)
        reset = (node.metadata or {}).get("reset", "hard") if kind in SPIKING[:3] else "hard"
        reset = str(reset) if str(reset) in ("hard", "soft") else "hard"
        found = _try_std(node, kind, meta, n, dtq, std, reset) if kinds[k] == "pop" else None
        if kinds[k] == "readout" or kind == "Scale":       # an identity: the sum of what arrives, each step
            models_used["NirIdentity"] = IDENTITY
            iu = _unit(((node.metadata or {}).get("units") or {}).get("input"))
            punits[k] = (iu, iu)
            pops.append(f"    readout {names[k]} = NirIdentity({n})")
            continue
        init = {role: (node.metadata or {}).get(f"{role}_initial") for role in ("v", "i")}
        if found is not None:
            model, values = found
            models_used[model.name] = "std"
            texts = _values(names[k], model, values, params, n)
            if model.kind == "synapse":
                iu = _unit(((node.metadata or {}).get("units") or {}).get("input"))
                punits[k] = (iu, iu)
            else:
                punits[k] = (model.ports[0].unit, u.UNITLESS if model.spiking else model.states[0].unit)
            states = {"v": model.states[0]}
        else:
            method = meta.get("method", "exp_euler")
            mname, text = literal_model(kind, reset, method)
            models_used[mname] = text
            fields = _fields(node, kind, n)
            values = {f: (u.Quantity(v, unit=u.second).to(u.ms) if f.startswith("tau") else v)
                      for f, v in fields.items()}
            model = _literal_ir(text, mname)
            texts = _values(names[k], model, values, params, n)
            punits[k] = (u.UNITLESS, u.UNITLESS)
            states = {"v": model.state("v"), "i": model.state("I")}
        for role, arr in init.items():
            st = states.get(role)
            if arr is None or st is None:
                continue
            su = st.unit if st.unit is not None else punits[k][0]
            v = u.Quantity(_vec(arr, n, "initial state"), unit=coherent(su)).to(su) if found else _vec(arr, n, "")
            default = 0.0
            texts += _one(f"{names[k]}.{st.name}", st.name, v, su, params, default)
        if meta.get("surrogate") and model.spiking and model.surrogate is not None:
            from snndsl.nir.export import surrogate_text
            if meta["surrogate"] != surrogate_text(model.surrogate):
                texts.append(f"surrogate = {meta['surrogate']}")
        trainable = set(meta.get("trainable", [])) if found else set()
        texts = [("trainable " + t) if t.split(" = ")[0] in trainable else t for t in texts]
        word = "readout" if model.kind == "synapse" or meta.get("readout") else "pop"
        arrays = [key for key in params if key not in before]
        note = f"    # per neuron: {', '.join(arrays)} in <params>" if arrays else ""
        pops.append(f"    {word} {names[k]} = {model.name}({', '.join([str(n)] + texts)}){note}")

    # projections → connect statements
    conns, labels = [], set()
    for p in projs:
        pre, post = names[p.pre], names[p.post]
        label = p.name if p.name and "->" not in p.name else None
        auto = f"{pre}->{post}"
        if (label or auto) in labels:
            label = ident(f"{pre}_to_{post}", labels | taken)
        key = label or auto
        labels.add(key)
        pin, _ = punits[p.post]
        _, pout = punits[p.pre]
        wu = _nice(pin / pout)
        src_unit = _unit(p.unit) if p.unit else _nice(pin)
        pre_nir = nir_out.get(p.pre, _nice(pout))
        factor = bfactor = 1.0      # snndsl numbers per NIR number (1 when the NIR side is dimensionless)
        if u.get_dim(src_unit) == u.get_dim(wu * pre_nir):
            factor = float(u.Quantity(1.0, unit=src_unit).to_decimal(wu * pre_nir))
            bfactor = float(u.Quantity(1.0, unit=src_unit).to_decimal(wu * pout))
        notes = []
        if p.matrix is None:
            conn = f"one_to_one(w = {quantity(factor, wu)})"
        elif p.diagonal and p.bias is None:
            w = np.diag(p.matrix) * factor
            conn = f"one_to_one(w = {_weight(w, wu, f'{key}.w', params, notes)})"
        else:
            w = p.matrix * factor
            conn = f"dense(w = {_weight(w, wu, f'{key}.w', params, notes)}"
            if p.bias is not None:
                conn += f", b = {_weight(p.bias * bfactor, wu * pout, f'{key}.b', params, notes)}"
            conn += ")"
        if p.synapse is not None:
            tau = _vec(nodes[p.synapse].tau, sizes[p.post][0], "tau")
            models_used["Expon"] = "std"
            t = _one(f"{key}.syn.tau", "tau", u.Quantity(tau, unit=u.second).to(u.ms), u.ms, params, None)
            conn += f", synapse = Expon({', '.join(t)})"
        if p.delay_steps:
            conn += f", delay = {quantity(p.delay_steps * dt_s * 1e3, u.ms)}"
            if p.lagged:
                notes.append("closes a cycle: reads last step's output")
        head = f"connect {label}: " if label else "connect "
        line = f"    {head}{pre} -> {post}: {conn}"
        if notes:
            arrays = [n for n in notes if n.startswith(key + ".")]
            others = [n for n in notes if n not in arrays]
            note = ", ".join(arrays) + " in <params>" if arrays else ""
            line += "    # " + "; ".join([x for x in [note] + others if x])
        conns.append(line)

    netname = ident(name or gmeta.get("network") or fallback_name, set(models_used) | taken)
    if netname[0].islower():
        netname = netname[0].upper() + netname[1:]
    inputs = []
    for k in [k for k in nodes if kinds[k] == "input"]:
        unit = punits[k][0]
        kind_text = f"current[{sizes[k][1]}] {ir.show_unit(unit)}" if unit is not u.UNITLESS and \
            _meta(nodes[k]).get("kind") == "current" else f"spikes[{sizes[k][1]}]"
        inputs.append(f"    input {names[k]}: {kind_text}")
    std_names = sorted(m for m, v in models_used.items() if v == "std")
    lines = [f"# <snn>: imported from NIR by `snndsl import` (nir {getattr(nir, '__version__', '?')}).",
             "# NIR gives continuous-time equations (times in seconds); snndsl steps them at dt with exponential",
             "# Euler, exact for these linear equations with each step's input held."]
    if params:
        lines += ["# Arrays (weights, per-neuron values) are in <params>; load both with",
                  '#     model, net = snndsl.nir_import.load("<snn>")']
    lines.append("")
    if std_names:
        lines += [f'import {", ".join(std_names)} from "std"', ""]
    for m, text in models_used.items():
        if text != "std":
            lines += [text, ""]
    lines += [f"network {netname} {{", f"    dt = {quantity(dt_s * 1e3, u.ms)}{dt_note}"] + inputs + pops + conns
    if outputs:
        lines.append(f"    output {', '.join(outputs)}")
    lines.append("}")
    return Imported("\n".join(lines) + "\n", params, netname)


@functools.lru_cache(maxsize=64)
def _literal_ir(text: str, name: str) -> ir.Model:
    from snndsl.compiler import check_text
    return check_text(text).program.model(name)


def _nice(unit: Any) -> Any:
    try:
        c = coherent(unit)
    except NotExpressible:
        return unit
    return c


def _std_synapse(node, n: int, dt, std: dict) -> bool:
    meta = _meta(node)
    return _try_std(node, "LI", {**meta, "std": True, "model": "Expon"}, n, dt, std, "hard") is not None


def _break_cycles(projs: list[Proj], kinds: dict, nodes: dict) -> None:
    """A cycle through two or more populations needs a one-step lag in snndsl: cut it at an edge leaving a
    spiking population when there is one (a self-projection already reads last step's output)."""
    from snndsl.checks.graph import _cycles
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
        cut = next((p for p in inside if type(nodes[p.pre]).__name__ in SPIKING), inside[0])
        cut.delay_steps, cut.lagged = 1, True


def _values(key: str, model: ir.Model, values: dict, params: dict, n: int) -> list[str]:
    out = []
    for p in model.params:
        if p.name in values:
            out += _one(f"{key}.{p.name}", p.name, values[p.name], p.unit, params, None)
    return out


def _one(key: str, name: str, value: Any, unit: Any, params: dict, default) -> list[str]:
    """``name = value`` for a population argument; a per-neuron array goes to ``params`` (mean in the text)."""
    unit = unit if unit is not None else u.UNITLESS
    arr = np.asarray(u.Quantity(value).to_decimal(unit), np.float64).reshape(-1)
    if default is not None and np.all(arr == default):
        return []
    uniform = np.all(arr.astype(np.float32) == np.float32(arr[0]))
    if not uniform:
        params[key] = (arr, ir.show_unit(unit))
    return [f"{name} = {quantity(arr[0] if uniform else arr.mean(), unit)}"]


def _weight(w: np.ndarray, unit: Any, key: str, params: dict, notes: list) -> str:
    flat = np.asarray(w, np.float32).reshape(-1)
    if flat.size and np.all(flat == flat[0]):
        return quantity(float(flat[0]), unit)
    params[key] = (np.asarray(w, np.float32), ir.show_unit(unit))
    notes.append(key)
    return f"zeros({ir.show_unit(unit)})" if ir.show_unit(unit) != "1" else "zeros"


# ---------------------------------------------------------------- files, parameters, command line


def read(path: str | Path, dt: Any = None, name: str | None = None) -> Imported:
    import nir
    try:
        try:
            graph = nir.read(str(path))
        except (ValueError, AssertionError, NotImplementedError):   # shapes that only broadcasting explains
            graph = nir.read(str(path), type_check=False)
    except (KeyError, TypeError, ValueError, AssertionError, NotImplementedError) as e:
        raise NirImportError(f"not a NIR graph snndsl can read ({type(e).__name__}: {e})") from None
    return from_nir(graph, name, dt, _camel(Path(path).stem))


def _camel(stem: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[^A-Za-z0-9]+", stem) if w) or "Imported"


def import_file(path: str | Path, out: str | Path, dt: Any = None, name: str | None = None):
    """Read a NIR file and write ``out`` (.snn) and, when there are arrays, ``out.params.npz``; the text is
    checked before anything is written. Returns the paths written."""
    from snndsl.compiler import check_text
    result = read(path, dt, name)
    check_text(result.text.replace("<params>", "p").replace("<snn>", "m"), str(out))
    return result.write(out)


def apply_params(model, net, params: dict[str, tuple[np.ndarray, str]], network: str | None = None) -> None:
    """Set the arrays of an import (``pop.param``, ``pop.state`` initial values, ``proj.w``, ``proj.b``,
    ``proj.syn.param``) on an instance of the compiled network."""
    import brainstate as bs
    import jax.numpy as jnp

    from snndsl.lower.emit import py_name
    from snndsl.lower.network import NetworkLowering

    netir = model.ir(network)
    attr = NetworkLowering(model.program, netir).attr

    def value(arr, unit, like=None):
        q = jnp.asarray(arr, dtype=jnp.float32)
        if unit not in ("", "1"):
            q = u.Quantity(q, unit=u.Unit(unit))
            if isinstance(like, u.Quantity):
                q = q.to(u.get_unit(like))
        return q

    def set_on(mod, m: ir.Model, name: str, arr, unit) -> None:
        if m.param(name) is not None:
            cur = getattr(mod, py_name(name))
            if isinstance(cur, bs.State):
                cur.value = value(arr, unit, cur.value)
            else:
                setattr(mod, py_name(name), value(arr, unit, cur))
        elif m.state(name) is not None:
            setattr(mod, f"{py_name(name)}_init", value(arr, unit))
        else:
            raise KeyError(f"{m.name} has no parameter or state {name!r}")

    for key, (arr, unit) in params.items():
        head, _, rest = key.partition(".")
        pop = netir.node(head)
        if isinstance(pop, ir.Population):
            set_on(getattr(net, py_name(head)), model.program.model(pop.model), rest, arr, unit)
            continue
        label, _, rest = key.rpartition(".") if not key.count(".syn.") else key.partition(".syn.")
        pr = next((p for p in netir.projections if p.name == label), None)
        if pr is None:
            raise KeyError(f"no population or projection for parameter {key!r}")
        comm = getattr(net, attr[pr.name])
        if ".syn." in key:
            set_on(getattr(net, f"{attr[pr.name]}_syn"), model.program.model(pr.synapse.model), rest, arr, unit)
        elif pr.conn.name == "one_to_one":
            comm.weight.value = value(arr, unit, comm.weight.value)
        else:
            w = dict(comm.weight.value)
            slot = {"w": "weight", "b": "bias"}[rest]
            w[slot] = value(arr, unit, w.get(slot))
            comm.weight.value = w


def load(path: str | Path, params: str | Path | None = None, network: str | None = None):
    """Compile an imported ``.snn`` file and apply its parameter file: ``(CompiledModel, network instance)``."""
    from snndsl.runtime.model import load as compile_file
    model = compile_file(path)
    net = model.network(network)
    pfile = Path(params) if params is not None else params_path(path)
    if params is not None or pfile.exists():
        apply_params(model, net, read_params(pfile), network)
    return model, net


def parse_dt(text: str) -> Any:
    from snndsl.resolve.unit_names import lookup
    m = re.fullmatch(r"\s*([0-9.]+(?:[eE][+-]?\d+)?)\s*([A-Za-z]+)\s*", text or "")
    unit = lookup(m.group(2)) if m else None
    if unit is None or u.get_dim(unit) != u.get_dim(u.second):
        raise ValueError(f"--dt needs a time with its unit, e.g. '1 ms' or '100 us', not {text!r}")
    return float(m.group(1)) * unit


__all__ = ["from_nir", "read", "import_file", "apply_params", "load", "Imported", "NirImportError"]
