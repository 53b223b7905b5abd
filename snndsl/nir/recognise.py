"""Which NIR primitive a model is, and which standard-library model a NIR node is: shared by export and import.

A model is recognised by what its equations *are*, not by its name. Every linear one-state neuron
``dV/dt = a V + b I + c`` with ``spike when V > x`` and a reset is ``nir.LIF`` with ``tau = -1/a``,
``r = b tau``, ``v_leak = c tau`` (NIR: ``tau dv/dt = (v_leak - v) + r I``); without the leak (``a = c = 0``)
it is ``nir.IF`` with ``r = b`` (NIR: ``dv/dt = r I``, so r is per second); without the spike ``nir.LI`` /
``nir.I``. A two-state synaptic-current neuron is ``nir.CubaLIF`` / ``nir.CubaLI``; a forward-Euler LIF whose
``tau`` equals ``dt`` is a stateless ``nir.Threshold``; ``Expon`` synapses and readouts are ``nir.LI`` nodes.

Every time constant is a NIR time in seconds: not milliseconds, not a number of steps, not a decay factor
``exp(-dt/tau)``. The one place ``dt`` enters a field is the dt trap of synapses: snndsl's ``Expon`` jumps by
``w`` at a spike (``g <- g e^(-dt/tau) + w``) while NIR's LI integrates its input over the step, so the LI
node carries ``r = 1 / (1 - e^(-dt/tau))``; the same node read at another ``dt`` is another synapse, which is
why the import matches ``Expon`` only at the graph's own ``dt``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import attrs
import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.ir.evaluate import UnitError, evaluate
from snndsl.ir.tools import refs, substitute
from snndsl.nir.errors import NirImportError, NotExpressible
from snndsl.nir.units import coherent, number, parse_unit, per_neuron, unit_text

LINEAR_METHODS = ("exp_euler", "exact")
#: NIR node types that spike, and every NIR node type that is a neuron population.
SPIKING = ("LIF", "IF", "CubaLIF", "Threshold")
NEURONS = ("LIF", "IF", "LI", "I", "CubaLIF", "CubaLI", "Threshold")
#: The fields of each neuron node type, in the order NIR's constructors take them.
FIELDS = {"LIF": "tau r v_leak v_threshold v_reset", "IF": "r v_threshold v_reset", "LI": "tau r v_leak",
          "I": "r", "CubaLIF": "tau_syn tau_mem r v_leak v_threshold v_reset w_in",
          "CubaLI": "tau_syn tau_mem r v_leak w_in", "Threshold": "threshold"}
#: Standard-library models an exported node may be read back as, and the NIR field each parameter comes from.
STD = {"LIF": {"tau": "tau", "R": "r", "V_rest": "v_leak", "V_th": "v_threshold", "V_reset": "v_reset"},
       "IF": {"tau": "tau", "R": "r", "V_th": "v_threshold"}, "LI": {"tau": "tau"}, "Expon": {"tau": "tau"}}


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


# ---------------------------------------------------------------- reading linear equations


def _functions(expr: ir.Expr) -> list[str]:
    """The math functions ``expr`` calls, outermost first (NIR neurons are linear: any one refuses the model)."""
    if isinstance(expr, ir.Func):
        return [expr.name] + [f for a in expr.args for f in _functions(a)]
    if isinstance(expr, ir.BinOp):
        return _functions(expr.left) + _functions(expr.right)
    if isinstance(expr, ir.Neg):
        return _functions(expr.operand)
    return []


def _evaluator(values: dict[str, Any], dt: Any) -> Callable[..., Any]:
    """``ev(expr, **probe)``: ``expr`` with parameters from ``values``, ``dt`` and the probed states/inputs."""
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
    """``f(**vars)`` is ``c + sum_k coeff_k var_k``: returns ``c`` and the coefficients, checking affinity
    at one more point (:class:`NotExpressible` when the equation is not linear)."""
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


def _has_state(expr: ir.Expr | None, but: str | None = None) -> bool:
    """Whether ``expr`` reads a state other than ``but``."""
    return any(k == "state" and n != but for k, n in refs(expr))


# ---------------------------------------------------------------- neurons


def neuron_spec(model: ir.Model, values: dict[str, Any], dt: Any) -> NodeSpec:
    """The NIR node a neuron model with these parameter values is (raises :class:`NotExpressible`).

    ``values`` maps each parameter to its per-neuron quantity; ``dt`` is the network's step (a quantity)."""
    if model.refractory is not None:
        raise NotExpressible("a refractory period has no NIR counterpart")
    if model.on_spike:
        raise NotExpressible(f"`on_spike {model.on_spike[0].var} {model.on_spike[0].op} ...` (a spike-triggered "
                             "update) has no NIR counterpart")
    if len(model.ports) != 1:
        raise NotExpressible(f"NIR neurons have one input, {model.name} has {len(model.ports)} input ports")
    lets = {let.name: let.value for let in model.lets}
    odes = {o.var: substitute(o.rhs, lets) for o in model.odes}
    for var, rhs in odes.items():
        if _functions(rhs):
            raise NotExpressible(f"d{var}/dt uses {_functions(rhs)[0]}(), but NIR neurons are linear")
    missing = [s.name for s in model.states if s.name not in odes]
    if missing:
        raise NotExpressible(f"state `{missing[0]}` has no equation")
    ev = _evaluator(values, dt)
    method = model.method if model.method not in LINEAR_METHODS else "exp_euler"
    if len(model.states) == 1:
        return _one_state(ev, model, odes, method, dt)
    if len(model.states) == 2:
        return _cuba(ev, model, odes, [o.var for o in model.odes], method)
    raise NotExpressible(f"{len(model.states)} state variables; NIR neurons have one (LIF, LI, IF, I) or two "
                         "(CubaLIF, CubaLI)")


def _one_state(ev, model: ir.Model, odes: dict, method: str, dt: Any) -> NodeSpec:
    """A one-state neuron: dv/dt = a v + b I + c read off by probing (:func:`_affine`), then classified by
    :func:`_leaky`; ``v`` is the NIR role of the state, ``input``/``output`` units recorded."""
    v, port = model.states[0], model.ports[0]
    c, (a, b) = _affine(lambda **p: ev(odes[v.name], **p), [v.name, port.name], [v.unit, port.unit])
    vu, iu = coherent(v.unit), coherent(port.unit)
    spec = _leaky(ev, model, v.name, c, a, b, vu, iu, method, dt)
    spec.roles = {"v": v.name}
    spec.units["input"] = unit_text(iu)
    spec.units["output"] = "1" if model.spiking else unit_text(vu)
    return spec


def _spike_reset(ev, model: ir.Model, v: str, vu: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """Threshold, reset value (in ``vu``) and reset mode of ``spike when v > x`` / ``reset ... v = c``."""
    sp, rs = model.spike, model.reset
    if not (isinstance(sp.left, ir.Ref) and sp.left.kind == "state" and sp.left.name == v and sp.op in (">", ">=")
            and not _has_state(sp.right)):
        raise NotExpressible(f"the spike condition must read `spike when {v} > threshold` for NIR")
    if rs is None or rs.var != v or _has_state(rs.value):
        raise NotExpressible(f"NIR neurons reset `{v}` to a constant after a spike")
    return number(ev(sp.right), vu), number(ev(rs.value), vu), rs.mode


def _leaky(ev, model, v, c, a, b, vu, iu, method, dt) -> NodeSpec:
    """``dv/dt = a v + b I + c`` as LIF/LI (``a < 0``) or IF/I (``a = c = 0``), or as a Threshold.

    LIF/LI: tau = -1/a, r = b tau, v_leak = c tau, so that tau dv/dt = (v_leak - v) + r I. IF/I: r = b, in
    volts per ampere per second (NIR's ``dv/dt = r I``). Anything else (a growing or mixed leak) is
    refused. A spiking model adds threshold, reset value and mode (:func:`_spike_reset`); a forward-Euler
    LIF with tau = dt is a :func:`_threshold`.
    """
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
    if not model.spiking:
        return spec
    thr, reset, mode = _spike_reset(ev, model, v, vu)
    spec.spike_op, spec.reset = model.spike.op, mode
    fields.update(v_threshold=thr, v_reset=reset)
    units.update(v_threshold=unit_text(vu), v_reset=unit_text(vu))
    if method == "euler" and kind == "LIF" and np.allclose(fields["tau"], float(number(dt, u.second)), rtol=1e-6):
        return _threshold(spec, thr, iu, model.spike.op)
    return spec


def _threshold(lif: NodeSpec, thr: np.ndarray, iu: Any, spike_op: str) -> NodeSpec:
    """One forward-Euler step of length ``tau = dt`` replaces v by ``r I + v_leak``: a stateless threshold
    on the input, ``I > (v_threshold - v_leak) / r``."""
    f = lif.fields
    if not np.all(f["r"] > 0):
        raise NotExpressible("a threshold unit needs a positive input gain r")
    theta = (thr - f["v_leak"]) / f["r"]
    return NodeSpec("Threshold", {"threshold": theta}, {"threshold": unit_text(iu)}, lif.reset, method=lif.method,
                    spike_op=spike_op)


def _cuba_roles(model: ir.Model, odes: dict, port: ir.PortDef) -> tuple[str, str]:
    """``(v, i)``: the membrane (the spiking state, else the one fed by the other) and the synaptic current."""
    names = [s.name for s in model.states]
    v = model.spike.left.name if model.spike is not None and isinstance(model.spike.left, ir.Ref) else None
    if v not in names:
        v = next((n for n in names if any(r == ("state", m) for m in names if m != n for r in refs(odes[n]))), None)
    syn = next((n for n in names if n != v), None)
    if v is None or syn is None or _has_state(odes[syn], but=syn) or ("input", port.name) in refs(odes[v]):
        raise NotExpressible("two states, but not a synaptic current feeding a membrane (CubaLIF/CubaLI)")
    return v, syn


def _cuba(ev, model: ir.Model, odes: dict, order: list[str], method: str) -> NodeSpec:
    """``tau_syn dI/dt = -I + w_in S``, ``tau_mem dv/dt = (v_leak - v) + r I`` (CubaLIF / CubaLI).

    Both ODEs are read off as affine forms: dI/dt = a1 I + b1 S (no constant: the current decays to 0) and
    dv/dt = a2 v + b2 I + c2, with a1, a2 < 0. Then tau_syn = -1/a1, w_in = b1 tau_syn, tau_mem = -1/a2,
    r = b2 tau_mem, v_leak = c2 tau_mem, each in the coherent units. The current's ODE must come first so
    that v integrates this step's current, as NIR's CubaLIF is stepped.
    """
    port = model.ports[0]
    v, syn = _cuba_roles(model, odes, port)
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


# ---------------------------------------------------------------- synapses


def _is_identity(model: ir.Model, lets: dict, out: ir.Expr) -> bool:
    """``output w`` (Delta), or ``state g``, ``on_spike g = w``, ``output g``: the input of this step."""
    if not model.states:
        if isinstance(out, ir.Ref) and out.kind == "weight":
            return True
        raise NotExpressible("a stateless synapse must deliver its input `w` unchanged")
    return (len(model.states) == 1 and not model.odes and len(model.on_spike) == 1 and model.on_spike[0].op == "="
            and isinstance(out, ir.Ref) and out.name == model.states[0].name
            and substitute(model.on_spike[0].value, lets) == ir.Ref("weight", "w"))


def synapse_spec(model: ir.Model, values: dict[str, Any], dt: Any, w_unit: Any) -> NodeSpec | None:
    """A synapse model (on a projection, or as a readout) as a NIR LI node; ``None`` for an identity (Delta).

    Only ``dg/dt = -g / tau``, ``on_spike g += w``, ``output g`` (Expon) maps, onto LI with ``tau`` in s,
    ``v_leak = 0`` and ``r = 1 / (1 - e^(-dt/tau))`` (the dt trap: see the module docstring)."""
    lets = {let.name: let.value for let in model.lets}
    out = substitute(model.output, lets)
    if _is_identity(model, lets, out):
        return None
    if len(model.states) != 1 or len(model.odes) != 1:
        raise NotExpressible(f"{len(model.states)} state variables; NIR's LI node models a single-exponential "
                             "synapse (Expon) only")
    if model.method not in LINEAR_METHODS:
        raise NotExpressible(f"method {model.method}: only exponential-Euler synapses map onto NIR exactly")
    ev = _evaluator(values, dt)
    g = model.states[0].name
    gu = model.states[0].unit or w_unit
    rhs = substitute(model.odes[0].rhs, lets)
    if _functions(rhs):
        raise NotExpressible(f"d{g}/dt uses {_functions(rhs)[0]}(), but NIR is linear")
    c, (a,) = _affine(lambda **p: ev(rhs, **p), [g], [gu])
    upd = model.on_spike
    jump = substitute(upd[0].value, lets) if len(upd) == 1 else None
    ok = (len(upd) == 1 and upd[0].var == g and upd[0].op == "+="
          and np.allclose(number(ev(jump, w=1.0 * w_unit), gu), 1.0)
          and np.allclose(number(ev(jump, w=0.0 * w_unit), gu), 0.0)
          and np.allclose(number(ev(out, **{g: 1.0 * gu}), gu), 1.0)
          and np.allclose(number(ev(out, **{g: 0.0 * gu}), gu), 0.0))
    per_s = number(a, u.Hz)
    if not ok or not np.all(per_s < 0) or not np.all(number(c, gu / u.second) == 0):
        raise NotExpressible(f"only `d{g}/dt = -{g} / tau`, `on_spike {g} += w`, `output {g}` (Expon) maps onto "
                             "a NIR node")
    tau = -1.0 / per_s
    # snndsl: g <- g e^(-dt/tau) + w. NIR LI, integrated exactly over a step with its input held:
    # v <- v e^(-dt/tau) + r w (1 - e^(-dt/tau)); the same when r = 1 / (1 - e^(-dt/tau)).
    r = 1.0 / -np.expm1(-float(number(dt, u.second)) / tau)
    cu = unit_text(coherent(gu))
    return NodeSpec("LI", {"tau": tau, "r": r, "v_leak": np.zeros_like(tau)},
                    {"tau": "s", "r": "1", "v_leak": cu, "input": cu, "output": cu}, roles={"v": g})


# ---------------------------------------------------------------- standard-library models


def is_std(model: ir.Model) -> bool:
    """Whether ``model`` is defined by the standard library (``import "std"``)."""
    return model.span is not None and model.span.source.path.startswith("<std>")


def surrogate_text(spec: ir.Spec) -> str:
    """A surrogate as ``name(k = v, ...)``, as it is stored in the metadata and compared on import."""
    return f"{spec.name}(" + ", ".join(f"{k} = {ir.show_value(v)}" for k, v in spec.args) + ")"


@functools.lru_cache(maxsize=1)
def std_models() -> dict[str, ir.Model]:
    """Every standard-library model, by name."""
    from snndsl.compiler import check_text
    return {m.name: m for m in check_text('import "std"').program.models}


def node_fields(node: Any, kind: str, n: int) -> dict[str, np.ndarray]:
    """The fields of NIR neuron node ``node`` (of type ``kind``) as ``n`` float64 values each."""
    return {f: per_neuron(getattr(node, f), n, f"`{f}`") for f in FIELDS[kind].split()}


def _std_values(model: ir.Model, fields: dict) -> dict[str, Any]:
    """The parameter values of standard model ``model`` from NIR ``fields`` (coherent units → the model's)."""
    vals = {}
    for p in model.params:
        src = STD[model.name].get(p.name)
        if src is None:
            raise NirImportError(f"no NIR field for {model.name}.{p.name}")
        vals[p.name] = u.Quantity(fields[src], unit=coherent(p.unit)).to(p.unit)
    return vals


def _close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.allclose(a[k], b[k], rtol=1e-6, atol=1e-12) for k in a)


def match_std(node: Any, kind: str, meta: dict, n: int, dt: Any, reset: str) -> tuple[ir.Model, dict] | None:
    """The standard model ``node`` was exported from (``meta`` is its ``metadata["snndsl"]``) and its parameter
    values, if that model at this ``dt`` gives back exactly the node's fields and reset; else ``None``."""
    model = std_models().get(meta.get("model")) if meta.get("std") else None
    if model is None or model.name not in STD:
        return None
    try:
        fields = node_fields(node, kind, n)
        values = _std_values(model, fields)
        if model.kind == "neuron":
            spec = neuron_spec(model, values, dt)
        else:
            spec = synapse_spec(model, values, dt, parse_unit((node.metadata.get("units") or {}).get("input")))
        ok = spec.type == kind and _close(spec.fields, fields) and (spec.reset or "hard") == reset
        return (model, values) if ok else None
    except (NotExpressible, NirImportError, KeyError, TypeError, ValueError, AttributeError):
        return None


def matches_expon(node: Any, n: int, meta: dict, dt: Any) -> bool:
    """Whether NIR LI node ``node`` is a standard ``Expon`` synapse at step ``dt``."""
    return match_std(node, "LI", {**meta, "std": True, "model": "Expon"}, n, dt, "hard") is not None
