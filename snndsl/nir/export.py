"""Export a network to NIR, the Neuromorphic Intermediate Representation (``snndsl export FILE --to nir``).

The graph is built one node at a time: an ``Input`` per data input, one node per population or readout (the
NIR primitive :mod:`snndsl.nir.recognise` says its model is), and per projection a chain ``[Delay] ->
Linear | Affine | Scale -> [LI synapse]`` into its target; an ``Output`` per network output. Numbers are
written in one coherent unit system (:mod:`snndsl.nir.units`: time in s, mV, mA, ohm) and the units, ``dt``
and the reset mode go into each node's metadata, with what snndsl needs to rebuild the network exactly under
``metadata["snndsl"]`` (a JSON string). docs/nir.md has the full table and the list of what is refused
(SNN701). This module and :mod:`snndsl.nir.importer` share the recogniser and never import each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.diagnostics import WARNING, Diagnostic, SnnError
from snndsl.lower.emit import derived
from snndsl.runtime.bridge import from_brainunit
from snndsl.nir.errors import NotExpressible
from snndsl.nir.recognise import NodeSpec, is_std, neuron_spec, surrogate_text, synapse_spec
from snndsl.nir.units import coherent, number, unit_text


@attrs.define
class _Graph:
    """The graph under construction and what building it needs: the compiled model, the network instance,
    the unit of what each node sends in snndsl (``snn_unit``) and as written in the file (``nir_unit``)."""

    program: ir.Program
    netir: ir.Network
    lowering: Any
    net: Any
    dt_s: float
    nodes: dict[str, Any] = attrs.Factory(dict)
    edges: list[tuple[str, str]] = attrs.Factory(list)
    snn_unit: dict[str, Any] = attrs.Factory(dict)
    nir_unit: dict[str, Any] = attrs.Factory(dict)
    problems: list[Diagnostic] = attrs.Factory(list)
    warnings: list[Diagnostic] = attrs.Factory(list)

    def refuse(self, what: str, why: str, span) -> None:
        """Record that ``what`` cannot be exported (SNN701 at ``span``); export goes on to find every such part."""
        self.problems.append(Diagnostic("SNN701", f"{what} is not expressible in NIR: {why}", span))

    def chain(self, src: str, name: str, node: Any) -> str:
        """Add ``node`` as ``name`` (``_`` appended while a node has it) fed by ``src``; returns the name (the
        next link's source)."""
        while name in self.nodes:
            name += "_"
        self.nodes[name] = node
        self.edges.append((src, name))
        return name


def _read(x: Any) -> Any:
    """The value of a brainstate ``State`` (or anything else) in snndsl's units (the network's are brainunit's)."""
    import brainstate as bs
    return from_brainunit(x.value if isinstance(x, bs.State) else x)


def _per_neuron(value: Any, n: int) -> Any:
    """A parameter value over ``n`` neurons as a float64 quantity (or plain array) of shape ``(n,)``."""
    mant = np.broadcast_to(np.asarray(u.get_mantissa(value), dtype=np.float64), (n,)).copy()
    unit = u.get_unit(value)
    return mant if unit.is_unitless and not isinstance(value, u.Quantity) else u.Quantity(mant, unit=unit)


def _param_values(model: ir.Model, mod: Any, n: int) -> dict[str, Any]:
    """The current value of each parameter of ``model`` on module ``mod``, per neuron."""
    from snndsl.lower.emit import py_name
    return {p.name: _per_neuron(_read(getattr(mod, py_name(p.name))), n) for p in model.params}


def _make_node(spec: NodeSpec, n: int, meta: dict) -> Any:
    """The ``nir`` node of ``spec``'s type, each field broadcast to ``(n,)`` float64, with ``meta``."""
    import nir
    f = {k: np.broadcast_to(np.asarray(v, np.float64), (n,)).copy() for k, v in spec.fields.items()}
    cls = {"LIF": nir.LIF, "IF": nir.IF, "LI": nir.LI, "I": nir.I, "CubaLIF": nir.CubaLIF, "CubaLI": nir.CubaLI,
           "Threshold": nir.Threshold}[spec.type]
    return cls(**f, metadata=meta)


def _node_meta(spec: NodeSpec, dt_s: float, snn: dict) -> dict:
    """``dt`` (s), the unit of every field, the reset mode and snndsl's own record (a JSON string)."""
    meta: dict[str, Any] = {"dt": dt_s, "units": dict(spec.units)}
    if spec.reset is not None:
        meta["reset"] = spec.reset
    meta["snndsl"] = json.dumps(snn, sort_keys=True)
    return meta


def _initial(meta: dict, mod: Any, roles: dict[str, str], unit_of) -> None:
    """``metadata["v_initial"]`` (and ``i_initial``): the initial value of the state playing each role."""
    from snndsl.lower.emit import py_name
    for role, state in roles.items():
        meta[f"{role}_initial"] = number(_read(getattr(mod, py_name(state))), unit_of(state)).reshape(-1)


# ---------------------------------------------------------------- one function per node kind


def refuse_unsupported(g: _Graph) -> set[str]:
    """Refuse encoders (data generated inside the network) and conductance projections (``g (E - V)`` reads
    the target's membrane); returns the names of the conductance projections, which get no nodes."""
    for x in g.netir.inputs:
        if x.source is not None:
            g.refuse(f"input `{x.name}`", f"its encoder {x.source.name}() generates data inside the network; NIR "
                     "inputs are data given from outside", x.span)
    conductance = {pr.name for pr in g.netir.projections if pr.output is not None
                   and pr.output.name == "conductance"}
    for pr in g.netir.projections:
        if pr.name in conductance:
            g.refuse(f"projection `{pr.name}`", "a conductance input g (E - V) depends on the target's membrane",
                     pr.span)
    return conductance


def input_node(g: _Graph, index: int, x: ir.NetInput) -> None:
    """``nir.Input`` of the input's size; a current input records its unit (spikes are dimensionless)."""
    import nir
    unit = x.unit if x.kind == "current" and x.unit is not None else u.UNITLESS
    meta = {"snndsl": json.dumps({"role": "input", "kind": x.kind, "unit": unit_text(unit), "index": index})}
    g.nodes[x.name] = nir.Input(input_type=np.array([x.size]), metadata=meta)
    g.snn_unit[x.name] = g.nir_unit[x.name] = unit


def _population_record(pop: ir.Population, index: int, m: ir.Model, spec: NodeSpec | None) -> dict:
    """snndsl's record of a population node (``metadata["snndsl"]``): name, position, model, whether it is a
    standard-library model, readout, trainable parameters, integration method, spike comparison and surrogate,
    so the import can rebuild the statement exactly."""
    snn = {"role": "population", "name": pop.name, "index": index, "model": m.name, "std": is_std(m),
           "readout": pop.readout, "trainable": [k for k, v in pop.values if v.trainable],
           "method": spec.method if spec is not None else "exp_euler"}
    if spec is not None and spec.spike_op:
        snn["spike_op"] = spec.spike_op
    if m.spiking and pop.surrogate is not None:
        snn["surrogate"] = surrogate_text(pop.surrogate)
    return snn


def population_node(g: _Graph, index: int, pop: ir.Population) -> None:
    """The NIR neuron node of a population (LIF, IF, LI, I, CubaLIF, CubaLI, Threshold), an LI node for an
    ``Expon`` readout, or a unit-gain ``Scale`` for an identity readout; refused when NIR has none."""
    import nir
    from snndsl.lower.emit import py_name
    m = g.program.model(pop.model)
    mod = getattr(g.net, py_name(pop.name))
    values = _param_values(m, mod, pop.size)
    dt = g.netir.dt
    try:
        spec = neuron_spec(m, values, dt) if m.kind == "neuron" else \
            synapse_spec(m, values, dt, pop.facts.receives)
    except NotExpressible as e:
        g.refuse(f"{'readout' if pop.readout else 'population'} `{pop.name}` ({m.name})", str(e), pop.span)
        return
    snn = _population_record(pop, index, m, spec)
    if spec is not None and spec.reset == "soft":
        g.warnings.append(Diagnostic(
            "SNN701", f"population `{pop.name}` ({m.name}) resets softly (subtracts the threshold), but NIR's "
            "neurons reset to v_reset: other tools will reset it hard (snndsl's own import restores the soft "
            "reset from the node's metadata)", pop.span, severity=WARNING))
    if m.spiking:
        g.snn_unit[pop.name] = u.UNITLESS
    elif m.kind == "synapse":
        g.snn_unit[pop.name] = pop.facts.receives
    else:
        g.snn_unit[pop.name] = m.state(spec.roles["v"]).unit
    g.nir_unit[pop.name] = coherent(g.snn_unit[pop.name])
    if spec is None:            # an identity readout (Delta): a unit gain node
        meta = {"dt": g.dt_s, "units": {"input": unit_text(g.nir_unit[pop.name])},
                "snndsl": json.dumps(snn, sort_keys=True)}
        g.nodes[pop.name] = nir.Scale(np.ones(pop.size, np.float32), metadata=meta)
        return
    meta = _node_meta(spec, g.dt_s, snn)

    def unit_of(state: str) -> Any:
        s = m.state(state)
        return coherent(s.unit if s.unit is not None else pop.facts.receives)
    _initial(meta, mod, spec.roles, unit_of)
    g.nodes[pop.name] = _make_node(spec, pop.size, meta)


def delay_node(g: _Graph, src: str, attr: str, pr: ir.Projection, n_pre: int, record: dict) -> str:
    """``nir.Delay`` of ``delay_steps * dt`` seconds (one value per presynaptic neuron) after ``src``."""
    import nir
    node = nir.Delay(np.full(n_pre, pr.delay_steps * g.dt_s),
                     metadata={"dt": g.dt_s, "snndsl": json.dumps({**record, "role": "delay"})})
    return g.chain(src, f"{attr}_delay", node)


def weight_node(g: _Graph, src: str, attr: str, pr: ir.Projection, w: Any, b: Any, delivered: Any,
                record: dict) -> str:
    """``Scale`` (one_to_one), ``Affine`` (with a bias) or ``Linear``; the matrix is ``(post, pre)`` as NIR
    takes it, in units of ``delivered`` per unit of what the presynaptic node sends in the file."""
    import nir
    n_pre, n_post = g.netir.node(pr.pre).size, g.netir.node(pr.post).size
    shape = (n_post,) if pr.conn.name == "one_to_one" else (n_pre, n_post)
    # a constant weight or bias may be stored as one number: NIR (and HDF5) want the full arrays
    wn = np.broadcast_to(np.asarray(number(w * (1.0 * g.nir_unit[pr.pre]), delivered), np.float32), shape)
    meta = {"unit": unit_text(delivered), "snndsl": json.dumps({**record, "role": "weights", "conn": pr.conn.name})}
    if pr.conn.name == "one_to_one":
        node = nir.Scale(wn.copy(), metadata=meta)
    elif b is not None:
        bias = np.broadcast_to(np.asarray(number(b, delivered), np.float32), (n_post,)).copy()
        node = nir.Affine(wn.T.copy(), bias, metadata=meta)
    else:
        node = nir.Linear(wn.T.copy(), metadata=meta)
    return g.chain(src, attr, node)


def synapse_node(g: _Graph, src: str, attr: str, pr: ir.Projection, spec: NodeSpec, n_post: int,
                 delivered: Any, record: dict, label: str) -> str:
    """The LI node of a projection's ``Expon`` synapse, with its initial conductance."""
    syn_model = g.program.model(pr.synapse.model)
    meta = _node_meta(spec, g.dt_s, {**record, "role": "synapse", "model": pr.synapse.model,
                                     "std": is_std(syn_model),
                                     "trainable": [k for k, v in pr.synapse.values if v.trainable]})
    _initial(meta, getattr(g.net, derived(attr, "syn")), {"v": spec.roles["v"]}, lambda _: delivered)
    return g.chain(src, f"{label}_syn", _make_node(spec, n_post, meta))


def _synapse_spec(g: _Graph, pr: ir.Projection, attr: str, n_post: int, arriving: Any) -> NodeSpec | None:
    """The LI node of ``pr``'s synapse with its current parameter values, ``None`` without a synapse;
    :class:`NotExpressible` (naming the synapse model) when it is not an exponential decay."""
    if pr.synapse is None:
        return None
    syn_model = g.program.model(pr.synapse.model)
    values = _param_values(syn_model, getattr(g.net, derived(attr, "syn")), n_post)
    try:
        return synapse_spec(syn_model, values, g.netir.dt, arriving)
    except NotExpressible as e:
        raise NotExpressible(f"synapse {syn_model.name}: {e}") from None


def projection_nodes(g: _Graph, index: int, pr: ir.Projection) -> None:
    """The chain of nodes of one projection, from its source population or input into its target."""
    if pr.plasticity is not None:          # NIR graphs have fixed weights
        g.refuse(f"projection `{pr.name}`", f"its weights change ({pr.plasticity.model} plasticity)", pr.span)
        return
    attr = g.lowering.attr[pr.name]
    pre, post = g.netir.node(pr.pre), g.netir.node(pr.post)
    w, b = _weights(getattr(g.net, attr), pr, pre.size, post.size)
    arriving = u.get_unit(w) * g.snn_unit.get(pr.pre, u.UNITLESS)
    try:
        delivered = coherent(arriving)
        syn_spec = _synapse_spec(g, pr, attr, post.size, arriving)
    except NotExpressible as e:
        g.refuse(f"projection `{pr.name}`", str(e), pr.span)
        return
    if pr.pre not in g.nodes or pr.post not in g.nodes:
        return
    record = {"projection": pr.name, "index": index}
    src = pr.pre
    label = pr.name.replace("->", "_to_")       # the node names: `x_to_hidden`, `x_to_hidden_syn`, ...
    if pr.delay_steps > 0:
        src = delay_node(g, src, label, pr, pre.size, record)
    src = weight_node(g, src, label, pr, w, b, delivered, record)
    if syn_spec is not None:
        src = synapse_node(g, src, attr, pr, syn_spec, post.size, delivered, record, label)
    g.edges.append((src, pr.post))


def output_nodes(g: _Graph) -> None:
    """``nir.Output`` per network output: ``output`` for one, ``output_<name>`` for several."""
    import nir
    for index, name in enumerate(g.netir.outputs):
        key = "output" if len(g.netir.outputs) == 1 else f"output_{name}"
        while key in g.nodes:
            key += "_"
        g.nodes[key] = nir.Output(output_type=np.array([g.netir.node(name).size]),
                                  metadata={"snndsl": json.dumps({"role": "output", "index": index})})
        g.edges.append((name, key))


def _weights(comm, pr: ir.Projection, n_pre: int, n_post: int) -> tuple[Any, Any]:
    """The effective weights ``(pre, post)`` (masks and sparse storage applied; ``(n,)`` for one_to_one) and
    the bias (or ``None``), as quantities of snndsl's units."""
    if pr.conn.name == "one_to_one":
        return from_brainunit(comm.weight.value), None
    params = comm.weight.value
    if not isinstance(params, dict):            # sparse fixed_prob: one weight per synapse
        params = from_brainunit(params)
        unit = u.get_unit(params)
        dense = np.zeros((n_pre, n_post), np.float32)
        dense[np.asarray(comm.pre), np.asarray(comm.post)] = np.asarray(u.get_mantissa(params))
        return u.Quantity(dense, unit=unit) if not unit.is_unitless else dense, None
    w = params["weight"]
    if getattr(comm, "w_mask", None) is not None:
        w = w * comm.w_mask
    return from_brainunit(w), from_brainunit(params.get("bias"))


# ---------------------------------------------------------------- the graph, files


def to_nir(model, net=None, network: str | None = None, warnings: list | None = None):
    """The NIR graph of one network of a :class:`~snndsl.runtime.model.CompiledModel`.

    ``net`` is an instance of the network (default: a new one); its parameter values (trained, or as
    initialised) are what is exported, and its states are re-initialised to read initial values. Raises
    :class:`SnnError` (SNN701) naming every construct NIR cannot express, each at its population or projection."""
    import brainstate as bs
    import nir

    from snndsl.lower.network import NetworkLowering

    program, netir = model.program, model.ir(network)
    if net is None:
        net = model.network(network)
    g = _Graph(program, netir, NetworkLowering(program, netir), net, float(number(netir.dt, u.second)))
    conductance = refuse_unsupported(g)
    bs.nn.init_all_states(net)
    for i, x in enumerate(netir.inputs):
        if x.source is None:
            input_node(g, i, x)
    for index, pop in enumerate(netir.populations):
        population_node(g, index, pop)
    for index, pr in enumerate(netir.projections):
        if pr.name not in conductance:
            projection_nodes(g, index, pr)
    if g.problems:
        raise SnnError(sorted(g.problems, key=lambda d: (d.line, d.column)))
    if warnings is not None:
        warnings.extend(g.warnings)
    output_nodes(g)
    graph = nir.NIRGraph(g.nodes, g.edges, metadata={"dt": g.dt_s, "generator": "snndsl", "network": netir.name},
                         type_check=False)
    graph.check_types()
    return graph


def load_params(model, net, params_dir: str | Path) -> None:
    """Restore the parameters of a training checkpoint ``DIR/params`` into ``net`` (the train block's
    optimizer is rebuilt only to read the checkpoint's layout)."""
    from snndsl.runtime import checkpoint

    path = Path(params_dir) / "params"
    if not path.exists():
        raise checkpoint.CheckpointError(f"no checkpoint {path}")
    if not hasattr(model.module, "make_trainer"):
        raise checkpoint.CheckpointError(f"{path}: the model has no train block, so no checkpoint can be its")
    optimizer, _, _ = model.module.make_trainer(net, 1)
    checkpoint.load(path, net, optimizer)


def export(path: str | Path, out: str | Path, params: str | Path | None = None, network: str | None = None,
           seed: int = 0, warnings: list | None = None):
    """Compile ``path``, build its network (parameters from ``params`` when given: a training run folder's
    checkpoint ``params/params``, or a parameter folder or ``.npz``, :func:`snndsl.runtime.params.apply_source`;
    else from the parameter file ``path``'s stem``.params.npz`` next to it when there is one, as ``snndsl
    import`` writes, else initialised with ``seed``), and write the NIR graph to ``out``. Returns the graph; what NIR
    keeps only approximately (a soft reset) is appended to ``warnings`` as diagnostics."""
    import brainstate as bs

    from snndsl.nir.params import apply_params, params_path, read_params
    from snndsl.runtime.model import load

    model = load(path)
    bs.random.seed(seed)
    net = model.network(network)
    if params is not None:
        from snndsl.runtime.params import apply_source
        apply_source(model, net, params, network)
    elif params_path(path).exists():
        apply_params(model, net, read_params(params_path(path)), network)
    graph = to_nir(model, net, network, warnings)
    write(graph, out)
    return graph


def write(graph, out: str | Path) -> Path:
    """``nir.write`` to a temporary file next to ``out``, renamed over it once complete."""
    import os
    import tempfile

    import nir

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        nir.write(tmp, graph)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


__all__ = ["to_nir", "export", "write", "load_params", "neuron_spec", "synapse_spec", "NotExpressible"]
