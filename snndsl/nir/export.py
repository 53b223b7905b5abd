"""Export a network to NIR, the Neuromorphic Intermediate Representation (``snndsl export FILE --to nir``).

NIR describes each node by continuous-time equations. A model is recognised by what its equations *are*, not
by its name: every linear one-state neuron ``dV/dt = a V + b I + c`` with ``spike when V > x`` and a reset
becomes ``nir.LIF`` (``tau = -1/a``, ``r = b tau``, ``v_leak = c tau``), without the leak ``nir.IF``, without
the spike ``nir.LI`` / ``nir.I``; a two-state synaptic-current neuron becomes ``nir.CubaLIF`` / ``nir.CubaLI``;
``Expon`` synapses and readouts become ``nir.LI`` nodes. Numbers are written in one coherent unit system
(time in s, mV, mA, ohm) and the units, ``dt`` and the reset mode go into each node's metadata, with what
snndsl needs to rebuild the network exactly under ``metadata["snndsl"]`` (a JSON string). docs/nir.md has the
full table and the list of what is refused (SNN701).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import attrs
import brainunit as u
import numpy as np

from snndsl import ir
from snndsl.ir.evaluate import UnitError, evaluate
from snndsl.diagnostics import Diagnostic, SnnError
from snndsl.ir.tools import refs, substitute

#: The unit each dimension is written in inside a NIR file (first match wins): a coherent system, so that
#: ``r * I`` is in the unit of ``v`` and weights times signals need no conversion factors.
COHERENT = (u.UNITLESS, u.mV, u.mA, u.ohm, u.siemens, u.second, u.Hz, u.ohm / u.second, u.mV / u.second,
            u.mA / u.second)
LINEAR_METHODS = ("exp_euler", "exact")


class NotExpressible(Exception):
    """A construct with no NIR counterpart; the message says what, the caller adds where."""


def coherent(unit: Any) -> Any:
    for c in COHERENT:
        if u.get_dim(c) == u.get_dim(unit):
            return c
    raise NotExpressible(f"values in {ir.show_unit(unit)} have no NIR counterpart")


def number(value: Any, unit: Any) -> np.ndarray:
    """``value`` (a quantity or a plain number) in ``unit``, as float64 numbers."""
    return np.asarray(u.Quantity(value).to_decimal(unit), dtype=np.float64)


def unit_text(unit: Any) -> str:
    return ir.show_unit(unit)


# ---------------------------------------------------------------- recognising models


@attrs.define
class NodeSpec:
    """A model instance as a NIR primitive: ``type``, its fields (float64 arrays in the coherent units),
    their units, the reset mode and the snndsl state playing each NIR role (``v``, ``i``)."""

    type: str
    fields: dict[str, np.ndarray]
    units: dict[str, str]
    reset: str | None = None
    roles: dict[str, str] = attrs.Factory(dict)
    method: str = "exp_euler"
    spike_op: str | None = None


def _functions(expr: ir.Expr) -> list[str]:
    if isinstance(expr, ir.Func):
        return [expr.name] + [f for a in expr.args for f in _functions(a)]
    if isinstance(expr, ir.BinOp):
        return _functions(expr.left) + _functions(expr.right)
    if isinstance(expr, ir.Neg):
        return _functions(expr.operand)
    return []


def _evaluator(values: dict[str, Any], dt: Any):
    def ev(expr: ir.Expr, **probe: Any) -> Any:
        def env(ref: ir.Ref) -> Any:
            if ref.kind == "param":
                return values[ref.name]
            if ref.kind == "dt":
                return dt
            if ref.kind == "time":
                raise NotExpressible("it depends on the time `t`")
            if ref.name in probe:
                return probe[ref.name]
            raise NotExpressible(f"`{ref.name}` appears where NIR has no such term")
        try:
            return evaluate(expr, env)
        except (UnitError, TypeError, ValueError) as e:
            raise NotExpressible(f"its equations cannot be evaluated as linear ones ({e})") from None
    return ev


def _affine(f, names: list[str], units: list[Any]) -> tuple[Any, list[Any]]:
    """``f(**vars)`` is ``c + sum_k coeff_k var_k``: returns ``c`` and the coefficients, checking affinity."""
    zero = {n: 0.0 * un for n, un in zip(names, units)}
    c = f(**zero)
    coeffs = [(f(**{**zero, n: 1.0 * un}) - c) / (1.0 * un) for n, un in zip(names, units)]
    point = {n: x * un for n, un, x in zip(names, units, (1.7, -2.3, 0.61))}
    got = f(**point)
    want = c + sum(x * un * k for x, un, k in zip((1.7, -2.3, 0.61), units, coeffs))
    unit = u.get_unit(c)
    a, b = number(got, unit), number(want, unit)
    if not np.allclose(a, b, rtol=1e-6, atol=1e-9 * (1.0 + np.max(np.abs(b)))):
        raise NotExpressible("its equations are not linear")
    return c, coeffs


def _has_state(expr: ir.Expr | None) -> bool:
    return any(k == "state" for k, _ in refs(expr))


def neuron_spec(model: ir.Model, values: dict[str, Any], dt: Any) -> NodeSpec:
    """The NIR node a neuron model with these parameter values is (raises :class:`NotExpressible`)."""
    if model.refractory is not None:
        raise NotExpressible("a refractory period has no NIR counterpart")
    if model.on_spike:
        raise NotExpressible(f"`on_spike {model.on_spike[0].var} {model.on_spike[0].op} ...` (a spike-triggered "
                             "update) has no NIR counterpart")
    if len(model.ports) != 1:
        raise NotExpressible(f"NIR neurons have one input, {model.name} has {len(model.ports)} input ports")
    lets = {let.name: let.value for let in model.lets}
    odes = {o.var: substitute(o.rhs, lets) for o in model.odes}
    order = [o.var for o in model.odes]
    for var, rhs in odes.items():
        if _functions(rhs):
            raise NotExpressible(f"d{var}/dt uses {_functions(rhs)[0]}(), but NIR neurons are linear")
    missing = [s.name for s in model.states if s.name not in odes]
    if missing:
        raise NotExpressible(f"state `{missing[0]}` has no equation")
    ev = _evaluator(values, dt)
    port = model.ports[0]
    method = model.method if model.method not in LINEAR_METHODS else "exp_euler"
    if len(model.states) == 1:
        v = model.states[0]
        c, (a, b) = _affine(lambda **p: ev(odes[v.name], **p), [v.name, port.name], [v.unit, port.unit])
        vu, iu = coherent(v.unit), coherent(port.unit)
        spec = _leaky(ev, model, v.name, c, a, b, vu, iu, method, dt)
        spec.roles = {"v": v.name}
        spec.units["input"] = unit_text(iu)
        spec.units["output"] = "1" if model.spiking else unit_text(vu)
        return spec
    if len(model.states) == 2:
        return _cuba(ev, model, odes, order, port, method)
    raise NotExpressible(f"{len(model.states)} state variables; NIR neurons have one (LIF, LI, IF, I) or two "
                         "(CubaLIF, CubaLI)")


def _spike_reset(ev, model: ir.Model, v: str, vu: Any) -> tuple[np.ndarray, np.ndarray, str]:
    sp, rs = model.spike, model.reset
    if not (isinstance(sp.left, ir.Ref) and sp.left.kind == "state" and sp.left.name == v and sp.op in (">", ">=")
            and not _has_state(sp.right)):
        raise NotExpressible(f"the spike condition must read `spike when {v} > threshold` for NIR")
    if rs is None or rs.var != v or _has_state(rs.value):
        raise NotExpressible(f"NIR neurons reset `{v}` to a constant after a spike")
    return number(ev(sp.right), vu), number(ev(rs.value), vu), rs.mode


def _leaky(ev, model, v, c, a, b, vu, iu, method, dt) -> NodeSpec:
    per_s = number(a, u.Hz)
    units = {"r": unit_text(coherent(vu / iu))}
    if np.all(per_s < 0):
        tau = -1.0 / per_s
        fields = {"tau": tau, "r": number(b * (tau * u.second), vu / iu),
                  "v_leak": number(c * (tau * u.second), vu)}
        units.update(tau="s", v_leak=unit_text(vu))
        kind = "LIF" if model.spiking else "LI"
    elif np.all(per_s == 0) and np.all(number(c, vu / u.second) == 0):
        fields = {"r": number(b, vu / iu / u.second)}
        units["r"] = unit_text(coherent(vu / iu / u.second))
        kind = "IF" if model.spiking else "I"
    else:
        raise NotExpressible(f"d{v}/dt is neither a leak towards a fixed point (LIF/LI) nor a pure integration "
                             "(IF/I)")
    spec = NodeSpec(kind, fields, units, method=method)
    if model.spiking:
        thr, reset, mode = _spike_reset(ev, model, v, vu)
        spec.spike_op, spec.reset = model.spike.op, mode
        fields.update(v_threshold=thr, v_reset=reset)
        units.update(v_threshold=unit_text(vu), v_reset=unit_text(vu))
        dt_s = float(number(dt, u.second))
        if method == "euler" and kind == "LIF" and np.allclose(fields["tau"], dt_s, rtol=1e-6):
            # one forward-Euler step of length tau = dt replaces v by r I + v_leak: a stateless threshold
            if not np.all(fields["r"] > 0):
                raise NotExpressible("a threshold unit needs a positive input gain r")
            theta = (thr - fields["v_leak"]) / fields["r"]
            return NodeSpec("Threshold", {"threshold": theta}, {"threshold": unit_text(iu)}, mode, method=method,
                            spike_op=model.spike.op)
    return spec


def _cuba(ev, model: ir.Model, odes: dict, order: list[str], port: ir.PortDef, method: str) -> NodeSpec:
    names = [s.name for s in model.states]
    v = model.spike.left.name if model.spike is not None and isinstance(model.spike.left, ir.Ref) else None
    if v not in names:
        v = next((n for n in names if any(r == ("state", m) for m in names if m != n for r in refs(odes[n]))), None)
    syn = next((n for n in names if n != v), None)
    if v is None or syn is None or _has_state_other(odes[syn], syn) or ("input", port.name) in refs(odes[v]):
        raise NotExpressible("two states, but not a synaptic current feeding a membrane (CubaLIF/CubaLI)")
    if order.index(syn) > order.index(v):
        raise NotExpressible(f"d{syn}/dt must be declared before d{v}/dt so that {v} integrates the new current "
                             "(the order NIR's CubaLIF is imported with)")
    su, vu = model.state(syn).unit, model.state(v).unit
    c1, (a1, b1) = _affine(lambda **p: ev(odes[syn], **p), [syn, port.name], [su, port.unit])
    c2, (a2, b2) = _affine(lambda **p: ev(odes[v], **p), [v, syn], [vu, su])
    k1, k2 = number(a1, u.Hz), number(a2, u.Hz)
    if not (np.all(k1 < 0) and np.all(k2 < 0) and np.all(number(c1, su / u.second) == 0)):
        raise NotExpressible("the current and the membrane must both decay (tau_syn, tau_mem > 0), the current "
                             "towards 0")
    cs, cv, ci = coherent(su), coherent(vu), coherent(port.unit)
    tau_syn, tau_mem = -1.0 / k1, -1.0 / k2
    fields = {"tau_syn": tau_syn, "tau_mem": tau_mem, "r": number(b2 * (tau_mem * u.second), cv / cs),
              "v_leak": number(c2 * (tau_mem * u.second), cv), "w_in": number(b1 * (tau_syn * u.second), cs / ci)}
    units = {"tau_syn": "s", "tau_mem": "s", "r": unit_text(coherent(cv / cs)), "v_leak": unit_text(cv),
             "w_in": unit_text(coherent(cs / ci)), "input": unit_text(ci),
             "output": "1" if model.spiking else unit_text(cv)}
    spec = NodeSpec("CubaLIF" if model.spiking else "CubaLI", fields, units, roles={"v": v, "i": syn},
                    method=method)
    if model.spiking:
        thr, reset, mode = _spike_reset(ev, model, v, cv)
        fields.update(v_threshold=thr, v_reset=reset)
        units.update(v_threshold=unit_text(cv), v_reset=unit_text(cv))
        spec.reset, spec.spike_op = mode, model.spike.op
    return spec


def _has_state_other(expr, own: str) -> bool:
    return any(k == "state" and n != own for k, n in refs(expr))


def synapse_spec(model: ir.Model, values: dict[str, Any], dt: Any, w_unit: Any) -> NodeSpec | None:
    """A synapse model (on a projection, or as a readout) as a NIR node; ``None`` for an identity (Delta)."""
    ev = _evaluator(values, dt)
    lets = {let.name: let.value for let in model.lets}
    out = substitute(model.output, lets)
    w1 = 1.0 * w_unit
    if not model.states:
        if isinstance(out, ir.Ref) and out.kind == "weight":
            return None
        raise NotExpressible("a stateless synapse must deliver its input `w` unchanged")
    if (len(model.states) == 1 and not model.odes and len(model.on_spike) == 1 and model.on_spike[0].op == "="
            and isinstance(out, ir.Ref) and out.name == model.states[0].name
            and substitute(model.on_spike[0].value, lets) == ir.Ref("weight", "w")):
        return None                 # g = w each step: an identity, as the Delta readout
    if len(model.states) != 1 or len(model.odes) != 1:
        raise NotExpressible(f"{len(model.states)} state variables; NIR's LI node models a single-exponential "
                             "synapse (Expon) only")
    if model.method not in LINEAR_METHODS:
        raise NotExpressible(f"method {model.method}: only exponential-Euler synapses map onto NIR exactly")
    g = model.states[0].name
    gu = model.states[0].unit or w_unit
    rhs = substitute(model.odes[0].rhs, lets)
    if _functions(rhs):
        raise NotExpressible(f"d{g}/dt uses {_functions(rhs)[0]}(), but NIR is linear")
    c, (a,) = _affine(lambda **p: ev(rhs, **p), [g], [gu])
    upd = model.on_spike
    ok = (len(upd) == 1 and upd[0].var == g and upd[0].op == "+="
          and np.allclose(number(ev(substitute(upd[0].value, lets), w=w1), gu), 1.0)
          and np.allclose(number(ev(substitute(upd[0].value, lets), w=0.0 * w_unit), gu), 0.0)
          and np.allclose(number(ev(out, **{g: 1.0 * gu}), gu), 1.0)
          and np.allclose(number(ev(out, **{g: 0.0 * gu}), gu), 0.0))
    per_s = number(a, u.Hz)
    if not ok or not np.all(per_s < 0) or not np.all(number(c, gu / u.second) == 0):
        raise NotExpressible(f"only `d{g}/dt = -{g} / tau`, `on_spike {g} += w`, `output {g}` (Expon) maps onto "
                             "a NIR node")
    tau = -1.0 / per_s
    dt_s = float(number(dt, u.second))
    cu = coherent(gu)
    # snndsl: g <- g e^(-dt/tau) + w. NIR LI, integrated exactly over a step with its input held:
    # v <- v e^(-dt/tau) + r w (1 - e^(-dt/tau)); the same when r = 1 / (1 - e^(-dt/tau)).
    r = 1.0 / -np.expm1(-dt_s / tau)
    return NodeSpec("LI", {"tau": tau, "r": r, "v_leak": np.zeros_like(tau)},
                    {"tau": "s", "r": "1", "v_leak": unit_text(cu), "input": unit_text(cu), "output": unit_text(cu)},
                    roles={"v": g})


# ---------------------------------------------------------------- network → graph


def _read(x: Any) -> Any:
    import brainstate as bs
    return x.value if isinstance(x, bs.State) else x


def _per_neuron(value: Any, n: int) -> Any:
    """A parameter value over ``n`` neurons as a float64 quantity (or plain array) of shape ``(n,)``."""
    mant = np.broadcast_to(np.asarray(u.get_mantissa(value), dtype=np.float64), (n,)).copy()
    unit = u.get_unit(value)
    return mant if unit.is_unitless and not isinstance(value, u.Quantity) else u.Quantity(mant, unit=unit)


def surrogate_text(spec: ir.Spec) -> str:
    return f"{spec.name}(" + ", ".join(f"{k} = {ir.show_value(v)}" for k, v in spec.args) + ")"


def _make_node(spec: NodeSpec, n: int, meta: dict) -> Any:
    import nir
    f = {k: np.broadcast_to(np.asarray(v, np.float64), (n,)).copy() for k, v in spec.fields.items()}
    cls = {"LIF": nir.LIF, "IF": nir.IF, "LI": nir.LI, "I": nir.I, "CubaLIF": nir.CubaLIF, "CubaLI": nir.CubaLI,
           "Threshold": nir.Threshold}[spec.type]
    return cls(**f, metadata=meta)


def _node_meta(spec: NodeSpec, dt_s: float, snn: dict) -> dict:
    meta: dict[str, Any] = {"dt": dt_s, "units": dict(spec.units)}
    if spec.reset is not None:
        meta["reset"] = spec.reset
    meta["snndsl"] = json.dumps(snn, sort_keys=True)
    return meta


def to_nir(model, net=None, network: str | None = None):
    """The NIR graph of one network of a :class:`~snndsl.compiled.CompiledModel`.

    ``net`` is an instance of the network (default: a new one); its parameter values (trained, or as
    initialised) are what is exported, and its states are re-initialised to read initial values. Raises :class:`SnnError` (SNN701) naming every construct NIR cannot
    express, each at its population or projection."""
    import brainstate as bs
    import nir

    from snndsl.lower.emit import py_name
    from snndsl.lower.network import NetworkLowering

    program, netir = model.program, model.ir(network)
    lowering = NetworkLowering(program, netir)
    problems: list[Diagnostic] = []

    def refuse(what: str, why: str, span) -> None:
        problems.append(Diagnostic("SNN701", f"{what} is not expressible in NIR: {why}", span))

    for x in netir.inputs:
        if x.source is not None:
            refuse(f"input `{x.name}`", f"its encoder {x.source.name}() generates data inside the network; NIR "
                   "inputs are data given from outside", x.span)
    conductance = {pr.name for pr in netir.projections if pr.output is not None and pr.output.name == "conductance"}
    for pr in netir.projections:
        if pr.name in conductance:
            refuse(f"projection `{pr.name}`", "a conductance input g (E - V) depends on the target's membrane",
                   pr.span)
    if net is None:
        net = model.network(network)
    bs.nn.init_all_states(net)
    dt, dt_s = netir.dt, float(number(netir.dt, u.second))
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    snn_unit: dict[str, Any] = {}       # the unit of what each node sends, in snndsl
    nir_unit: dict[str, Any] = {}       # ... and as its numbers are written in the NIR file

    for i, x in enumerate(netir.inputs):
        if x.source is not None:
            continue
        unit = x.unit if x.kind == "current" and x.unit is not None else u.UNITLESS
        meta = {"snndsl": json.dumps({"role": "input", "kind": x.kind, "unit": unit_text(unit), "index": i})}
        nodes[x.name] = nir.Input(input_type=np.array([x.size]), metadata=meta)
        snn_unit[x.name] = nir_unit[x.name] = unit
    for index, pop in enumerate(netir.populations):
        m = program.model(pop.model)
        mod = getattr(net, py_name(pop.name))
        values = {p.name: _per_neuron(_read(getattr(mod, py_name(p.name))), pop.size) for p in m.params}
        try:
            if m.kind == "neuron":
                spec = neuron_spec(m, values, dt)
            else:
                spec = synapse_spec(m, values, dt, pop.facts.receives)
        except NotExpressible as e:
            refuse(f"{'readout' if pop.readout else 'population'} `{pop.name}` ({m.name})", str(e), pop.span)
            continue
        snn = {"role": "population", "name": pop.name, "index": index, "model": m.name, "std": _is_std(m),
               "readout": pop.readout,
               "trainable": [k for k, v in pop.values if v.trainable], "method": spec.method}
        if spec.spike_op:
            snn["spike_op"] = spec.spike_op
        if m.spiking and pop.surrogate is not None:
            snn["surrogate"] = surrogate_text(pop.surrogate)
        if m.spiking:
            snn_unit[pop.name] = u.UNITLESS
        elif m.kind == "synapse":
            snn_unit[pop.name] = pop.facts.receives
        else:
            snn_unit[pop.name] = m.state(spec.roles["v"]).unit
        nir_unit[pop.name] = coherent(snn_unit[pop.name])
        if spec is None:            # an identity readout (Delta): a unit gain node
            meta = {"dt": dt_s, "units": {"input": unit_text(nir_unit[pop.name])},
                    "snndsl": json.dumps(snn, sort_keys=True)}
            nodes[pop.name] = nir.Scale(np.ones(pop.size, np.float32), metadata=meta)
            continue
        meta = _node_meta(spec, dt_s, snn)
        for role, state in spec.roles.items():
            s = m.state(state)
            su = s.unit if s.unit is not None else pop.facts.receives
            meta[f"{role}_initial"] = number(getattr(mod, py_name(state)).value, coherent(su)).reshape(-1)
        nodes[pop.name] = _make_node(spec, pop.size, meta)

    for index, pr in enumerate(netir.projections):
        if pr.name in conductance:
            continue
        a = lowering.attr[pr.name]
        pre, post = netir.node(pr.pre), netir.node(pr.post)
        comm = getattr(net, a)
        w, b = _weights(comm, pr, pre.size, post.size)
        arriving = u.get_unit(w) * snn_unit.get(pr.pre, u.UNITLESS)
        try:
            delivered = coherent(arriving)
            syn_spec = None
            if pr.synapse is not None:
                syn_model = program.model(pr.synapse.model)
                smod = getattr(net, f"{a}_syn")
                svals = {p.name: _per_neuron(_read(getattr(smod, py_name(p.name))), post.size)
                         for p in syn_model.params}
                try:
                    syn_spec = synapse_spec(syn_model, svals, dt, arriving)
                except NotExpressible as e:
                    raise NotExpressible(f"synapse {syn_model.name}: {e}") from None
        except NotExpressible as e:
            refuse(f"projection `{pr.name}`", str(e), pr.span)
            continue
        if pr.pre not in nodes or pr.post not in nodes:
            continue
        src = pr.pre
        snn = {"projection": pr.name, "index": index}
        if pr.delay_steps > 0:
            d = nir.Delay(np.full(pre.size, pr.delay_steps * dt_s),
                          metadata={"dt": dt_s, "snndsl": json.dumps({**snn, "role": "delay"})})
            nodes[f"{a}_delay"] = d
            edges.append((src, f"{a}_delay"))
            src = f"{a}_delay"
        per_signal = 1.0 * nir_unit[pr.pre]
        wn = np.asarray(number(w * per_signal, delivered), np.float32)
        meta = {"unit": unit_text(delivered),
                "snndsl": json.dumps({**snn, "role": "weights", "conn": pr.conn.name})}
        if pr.conn.name == "one_to_one":
            node = nir.Scale(wn, metadata=meta)
        elif b is not None:
            node = nir.Affine(wn.T.copy(), np.asarray(number(b, delivered), np.float32), metadata=meta)
        else:
            node = nir.Linear(wn.T.copy(), metadata=meta)
        nodes[a] = node
        edges.append((src, a))
        src = a
        if syn_spec is not None:
            smeta = _node_meta(syn_spec, dt_s, {**snn, "role": "synapse", "model": pr.synapse.model,
                                                 "std": _is_std(program.model(pr.synapse.model)),
                                                 "trainable": [k for k, v in pr.synapse.values if v.trainable]})
            smeta["v_initial"] = number(getattr(getattr(net, f"{a}_syn"), py_name(syn_spec.roles["v"])).value,
                                        delivered).reshape(-1)
            nodes[f"{a}_syn"] = _make_node(syn_spec, post.size, smeta)
            edges.append((src, f"{a}_syn"))
            src = f"{a}_syn"
        edges.append((src, pr.post))
    if problems:
        raise SnnError(sorted(problems, key=lambda d: (d.line, d.column)))
    for index, name in enumerate(netir.outputs):
        key = "output" if len(netir.outputs) == 1 else f"output_{name}"
        while key in nodes:
            key += "_"
        nodes[key] = nir.Output(output_type=np.array([netir.node(name).size]),
                                metadata={"snndsl": json.dumps({"role": "output", "index": index})})
        edges.append((name, key))
    graph = nir.NIRGraph(nodes, edges, metadata={"dt": dt_s, "generator": "snndsl", "network": netir.name},
                         type_check=False)
    graph.check_types()
    return graph


def _is_std(model: ir.Model) -> bool:
    return model.span is not None and model.span.source.path.startswith("<std>")


def _weights(comm, pr: ir.Projection, n_pre: int, n_post: int) -> tuple[Any, Any]:
    """The effective weights ``(pre, post)`` (masks and sparse storage applied; ``(n,)`` for one_to_one) and
    the bias (or ``None``), as quantities."""
    if pr.conn.name == "one_to_one":
        return comm.weight.value, None
    params = comm.weight.value
    if not isinstance(params, dict):            # sparse fixed_prob: one weight per synapse
        unit = u.get_unit(params)
        dense = np.zeros((n_pre, n_post), np.float32)
        dense[np.asarray(comm.pre), np.asarray(comm.post)] = np.asarray(u.get_mantissa(params))
        return u.Quantity(dense, unit=unit) if not unit.is_unitless else dense, None
    w = params["weight"]
    if getattr(comm, "w_mask", None) is not None:
        w = w * comm.w_mask
    return w, params.get("bias")


# ---------------------------------------------------------------- files and the command line


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
           seed: int = 0):
    """Compile ``path``, build its network (parameters from the checkpoint ``params/params`` when given, else
    initialised with ``seed``), and write the NIR graph to ``out``. Returns the graph."""
    import brainstate as bs

    from snndsl.runtime.model import load

    model = load(path)
    bs.random.seed(seed)
    net = model.network(network)
    if params is not None:
        load_params(model, net, params)
    graph = to_nir(model, net, network)
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


__all__ = ["to_nir", "export", "neuron_spec", "synapse_spec", "NotExpressible"]
