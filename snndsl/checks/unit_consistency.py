"""Dimensional analysis: every equation, reset, condition, default, override and projection, with
:mod:`snndsl.units`.

Each symbol stands in as ``1 unit``; :func:`snndsl.ir.evaluate.evaluate` computes the unit of each expression and
stops at the first mismatch inside it. A synapse state declared without a unit takes the unit of what the
synapse receives: checked alone, that is the stand-in ``[w]``; checked on a projection, the real one, which
the inference pass (:mod:`snndsl.ir.infer`) recorded on the projection.
"""

from __future__ import annotations

from typing import Any, Iterator

from snndsl import units as u
from snndsl import ir
from snndsl.diagnostics import Diagnostic
from snndsl.ir.evaluate import W_UNIT, UnitError, evaluate, initialiser_dim, same_dim, show
from snndsl.ir.infer import ModelEnv, one
from snndsl.ir.linear import nonlinear_ode
from snndsl.ir.noise import NoiseSplit, NotAffine, split_noise
from snndsl.registry import INPUT_KINDS, INTEGRATORS, OUTPUTS

MS = u.ms


def _err(code: str, message: str, span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, hint)


def check_model(model: ir.Model, w_unit=W_UNIT) -> tuple[list[Diagnostic], Any]:
    """Diagnostics of one model's equations, and the value of its output (``None`` if none, or if it has a
    unit error); the weighted input ``w`` and unitless synapse states are in ``w_unit``.

    With every symbol a stand-in ``1 unit`` (``t`` and ``dt`` in ms), each expression is evaluated and:

    * SNN301: ``dX/dt`` has the dimension of ``X / time``;
    * SNN302/SNN304/SNN308 (from the evaluator): ``+``/``-``/``min``/``max``/``clip`` operands share a dimension,
      ``exp``/``log``/... take dimensionless arguments, an exponent is a dimensionless constant (a dimensioned
      base only to an integer or half-integer power);
    * SNN303: both sides of the spike condition share a dimension, and so does the scale (the surrogate's
      argument ``(left - right) / scale`` must be dimensionless);
    * SNN305: parameter defaults and state initial values are in the declared unit (a plain ``0`` fits any
      state), and the refractory period is a time;
    * SNN306: reset and ``on_spike`` values are in the unit of the state they set;
    * SNN309: with ``method exact`` the ODE system (``let`` definitions substituted) is linear in its states
      (:func:`snndsl.ir.linear.nonlinear_ode`; inputs and parameters are constants over the step).

    A ``let`` with a unit error stands in as a plain number afterwards, so each error is reported once.
    """
    env, out = ModelEnv(model, w_unit), []

    def ev(expr):
        """The stand-in value of ``expr``; a unit error is collected and gives ``None``, and so does a bool
        (SNN231: a switch where a number belongs)."""
        try:
            value = evaluate(expr, env)
        except UnitError as e:
            out.append(_err(e.code, e.message, e.span, e.hint))
            return None
        if isinstance(value, bool):
            out.append(_err("SNN231", "a bool (true or false) is not a number", expr.span,
                            "use it to choose: `select(switch, value_if_true, value_if_false)`"))
            return None
        return value

    for p in model.params:
        if p.default is not None and p.kind != "bool":
            v = ev(p.default)
            if v is not None and not same_dim(v, one(p.unit)):
                out.append(_err("SNN305", f"default of `{p.name}` is in {show(v)}, but it is declared in "
                                f"{show(p.unit)}", p.default.span))
    for s in model.states:
        if s.init is not None:
            v = ev(s.init)
            zero = not isinstance(v, u.Quantity) and v is not None and float(v) == 0.0
            if v is not None and not zero and not same_dim(v, env.state_value(s.name)):
                out.append(_err("SNN305", f"initial value of `{s.name}` is in {show(v)}, but `{s.name}` is in "
                                f"{show(env.state_value(s.name))}", s.init.span))
    env.bind_lets(lambda e: out.append(_err(e.code, e.message, e.span, e.hint)))
    method = INTEGRATORS.get(model.method)
    if method is not None and method.traits.linear_only and (bad := nonlinear_ode(model)) is not None:
        names = ", ".join(o.var for o in model.odes)
        out.append(_err("SNN309", f"d{bad.var}/dt is not linear in the states ({names}), so the system has no "
                        "exact propagator", bad.rhs.span, "use `method exp_euler` (the default) or `method rk4`"))
    for ode in model.odes:
        state = env.state_value(ode.var)
        split = noise_terms(ode, state, ev, out)
        if split is None:
            continue
        rhs = ev(split.drift) if split.drift is not None else None
        if rhs is not None and not same_dim(rhs, state / one(MS)):
            hint = ("divide by a time constant" if same_dim(rhs, state)
                    else "check the units of each term against the state's")
            out.append(_err("SNN301", f"d{ode.var}/dt is in {show(rhs)}, but {ode.var} changes in "
                            f"{show(state / one(MS))}", ode.rhs.span, hint))
    reset_ok, reset_value = True, None
    if model.reset is not None:
        reset_value = ev(model.reset.value)
        reset_ok = reset_value is not None and same_dim(reset_value, env.state_value(model.reset.var))
    if model.spike is not None:
        sp = model.spike
        left, right = ev(sp.left), ev(sp.right)
        if left is not None and right is not None and not same_dim(left, right):
            out.append(_err("SNN303", f"spike condition compares {show(left)} with {show(right)}", sp.span,
                            "both sides of the comparison must have the same dimension"))
        elif left is not None and sp.scale is not None and reset_ok:
            scale = ev(sp.scale)
            if scale is not None and not same_dim(scale, left):
                out.append(_err("SNN303", f"spike scale is in {show(scale)}, but the condition is in {show(left)}",
                                sp.scale.span, "the surrogate's argument (left - right) / scale must be "
                                "dimensionless"))
    for upd in ([model.reset] if model.reset else []) + list(model.on_spike):
        v = reset_value if upd is model.reset else ev(upd.value)
        state = env.state_value(upd.var)
        if v is not None and not same_dim(v, state):
            what = "reset" if isinstance(upd, ir.ResetDef) else "on_spike"
            out.append(_err("SNN306", f"{what} gives `{upd.var}` a value in {show(v)}, but `{upd.var}` is in "
                            f"{show(state)}", upd.value.span))
    if model.refractory is not None:
        v = ev(model.refractory)
        if v is not None and not same_dim(v, one(MS)):
            out.append(_err("SNN305", f"refractory period is in {show(v)}, not a time", model.refractory.span))
    output = ev(model.output) if model.output is not None else None
    return out, output


def noise_terms(ode: ir.OdeDef, state: Any, ev, out: list[Diagnostic]) -> NoiseSplit | None:
    """The drift and diffusion of ``ode`` (:func:`~snndsl.ir.noise.split_noise`), after checking its noise
    term: SNN262 when the right-hand side is not affine in ``xi`` (then ``None``: nothing more is checked),
    SNN260 when the diffusion ``g`` of ``g * xi`` is not in the state's unit per sqrt(time), so that
    ``g * xi`` has the unit of dX/dt (``xi`` is in 1/sqrt(time))."""
    try:
        split = split_noise(ode.rhs)
    except NotAffine as e:
        out.append(_err("SNN262", f"d{ode.var}/dt is not linear in the noise `xi`", e.node.span,
                        "white noise enters as `g * xi` with g free of xi (Euler-Maruyama): no xi^2, "
                        "exp(xi) or division by xi"))
        return None
    if split.diffusion is not None:
        g = ev(split.diffusion)
        want = state / one(MS) ** 0.5
        if g is not None and not same_dim(g, want):
            hint = ("xi is in 1/sqrt(time): scale it by 1/sqrt(a time constant), e.g. `sigma * xi / sqrt(tau)` "
                    "or Brian2's `sigma * xi * tau^-0.5`")
            out.append(_err("SNN260", f"the noise term of d{ode.var}/dt is in {show(g * one(u.second) ** -0.5)}, "
                            f"but d{ode.var}/dt is in {show(state / one(MS))}: its factor of xi must be in "
                            f"{show(want)}", split.term.span, hint))
    return split


def model_equations(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN301-309 inside neuron and synapse models: :func:`check_model` on every model that resolved
    cleanly (``broken`` models already have errors). A synapse is checked alone: ``w`` takes the unit of the
    state it is added to in ``on_spike`` where that state declares one, else the stand-in ``[w]``.
    """
    for model in program.models:
        if not model.broken and model.kind != "plasticity":   # checks/plasticity.py checks those
            yield from check_model(model)[0]


def _value_dim(value: ir.Value) -> Any:
    return initialiser_dim(value.value) if isinstance(value.value, ir.Spec) else value.value


def check_values(model: ir.Model, values: tuple[tuple[str, ir.Value], ...], w_unit=W_UNIT) -> Iterator[Diagnostic]:
    """SNN305 for each ``(name, value)`` override of a model instance whose dimension differs from the declared
    parameter's or state's (a unitless synapse state is in ``w_unit``). An initialiser's dimension is that of
    its ``unit``/``value``/``mean``/``low`` argument (:func:`snndsl.resolve.args.initialiser_dim`). Names that
    are neither parameters nor states are skipped (the resolver reported them).
    """
    env = ModelEnv(model, w_unit)
    for name, value in values:
        target = env.values.get(("param", name), env.values.get(("state", name)))
        if isinstance(target, bool) or isinstance(value.value, bool):
            continue    # switches: true/false against bool parameters only (resolution checks, SNN231)
        got = _value_dim(value)
        if target is not None and not same_dim(got, target):
            yield _err("SNN305", f"`{name}` of {model.name} is in {show(target)}, but the value is in "
                       f"{show(got)}", value.span, "give the value in the declared unit, e.g. "
                       f"`{name} = 1 {show(target)}`" if show(target) not in ("1", "[w]") else None)


def population_values(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN305 for population overrides: every parameter value and state initial value given in a ``pop``
    or ``readout`` has the dimension its model declares (:func:`check_values`). Synapse overrides in
    ``connect`` are checked by :func:`projection_delivery`, which knows the synapse's input unit.
    """
    for net in program.networks:
        for pop in net.populations:
            model = program.model(pop.model)
            if model is not None and not model.broken:
                yield from check_values(model, pop.values)


def projection_delivery(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN305/SNN307/SNN401: what each projection delivers fits what its target receives.

    Per projection into a population (skipped when a model involved is broken, or the source is a current input
    without a unit): the delivered value is ``d = w × source`` (:func:`delivered_unit`).

    * SNN305: the bias ``b`` has the dimension of ``d``; synapse overrides fit the synapse with ``w`` in ``d``.
    * SNN307: the synapse model (if any) accepts input in ``d``; its output becomes the new ``d``. A synapse
      model with errors of its own is skipped (reported where it is defined).
    * SNN307: a synapse-model readout accepts input in ``d``.
    * SNN401: a neuron target has an input port, and the ``port = ...`` named, if any (default: its first).
    * SNN307: with ``output = conductance(E = ...)`` the port receives ``d × E`` (a conductance times a
      voltage, a current); that, or ``d`` itself, must have the port's dimension. The hint suggests the likely fix.
    """
    for net in program.networks:
        for proj in net.projections:
            post = net.node(proj.post)
            if not isinstance(post, ir.Population):
                continue
            model = program.model(post.model)
            pre = net.node(proj.pre)
            syn = program.model(proj.synapse.model) if proj.synapse is not None else None
            if model is None or model.broken or (syn is not None and syn.broken) or (
                    isinstance(pre, ir.InputDef) and not INPUT_KINDS[pre.kind].traits.spiking and pre.unit is None):
                continue
            if syn is not None and check_model(syn)[0]:
                continue   # the synapse model's own errors are reported where it is defined
            if proj.facts is None:
                continue
            delivered = one(proj.facts.delivered)
            b = proj.conn.arg("b")
            if b is not None:
                b_val = initialiser_dim(b) if isinstance(b, ir.Spec) else b
                if not same_dim(b_val, delivered):
                    yield _err("SNN305", f"bias is in {show(b_val)}, but the weights deliver {show(delivered)}",
                               proj.conn.span, "give the bias the weights' unit, e.g. `b = zeros(mA)`")
            if syn is not None:
                yield from check_values(syn, proj.synapse.values, u.get_unit(delivered))
                problems, delivered = check_model(syn, u.get_unit(delivered))
                if problems:
                    yield _err("SNN307", f"synapse {syn.name} cannot take input in {show(proj.facts.delivered)}: "
                               f"{problems[0].message}", proj.synapse.span)
                    continue
            if model.kind == "synapse":
                problems, _ = check_model(model, u.get_unit(delivered))
                if problems:
                    yield _err("SNN307", f"readout {post.name} ({model.name}) cannot take input in "
                               f"{show(delivered)}: {problems[0].message}", proj.span)
                continue
            if not model.ports:
                yield _err("SNN401", f"{post.name} ({model.name}) has no input port to receive `{proj.name}`",
                           proj.span, "declare one in the model: `input I: mA`")
                continue
            port = next((p for p in model.ports if p.name == proj.port), None) if proj.port else model.ports[0]
            if port is None:
                yield _err("SNN401", f"{model.name} has no input port `{proj.port}`", proj.span,
                           "ports: " + ", ".join(p.name for p in model.ports))
                continue
            output = OUTPUTS[proj.output.name].traits if proj.output is not None else None
            conductance = output is not None and output.scales_by is not None
            if conductance:
                delivered = delivered * proj.output.arg(output.scales_by)
            if delivered is not None and not same_dim(delivered, one(port.unit)):
                hint = None
                if conductance:
                    hint = "with `output = conductance(...)` the synapse must deliver a conductance (e.g. nS)"
                elif same_dim(delivered, one(u.nS)) or same_dim(delivered, one(u.mS)):
                    hint = "a conductance needs `output = conductance(E = 0 mV)` on the projection"
                elif same_dim(delivered * one(u.mV), one(port.unit)):
                    hint = "a conductance needs `output = conductance(E = 0 mV)` on the projection"
                elif u.get_unit(delivered).is_unitless:
                    hint = f"give the weights a unit, e.g. `w = kaiming_normal({show(port.unit)})`"
                yield _err("SNN307", f"`{proj.name}` delivers {show(delivered)} to port `{port.name}` of "
                           f"{post.name}, which takes {show(port.unit)}", proj.conn.span, hint)
