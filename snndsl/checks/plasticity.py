"""Checks of plasticity models and of the projections they are attached to (SNN244-246, SNN305).

A plasticity model is checked alone with the weight in the stand-in unit ``[w]`` (the unit of ``w`` and of
every parameter declared ``: w``), then on each projection with the weight's real unit.
"""

from __future__ import annotations

from typing import Any, Iterator

from snndsl import units as u
from snndsl import ir
from snndsl.checks.unit_consistency import check_values
from snndsl.diagnostics import Diagnostic
from snndsl.ir.evaluate import W_UNIT, UnitError, evaluate, initialiser_dim, same_dim, show
from snndsl.ir.infer import ModelEnv, one
from snndsl.registry import FUNCTIONS, LOOPS


def _is_zero(v: Any) -> bool:
    return not isinstance(v, u.Quantity) and v is not None and float(v) == 0.0


def _bounded(v: Any) -> bool:
    """Whether ``v`` is a call whose arguments after the first bound it (a ``bounds`` function: ``clip``)."""
    entry = FUNCTIONS.get(v.name) if isinstance(v, ir.Func) else None
    return entry is not None and entry.traits.bounds and len(v.args) > 1


def check_plasticity_model(model: ir.Model, w_unit=W_UNIT) -> list[Diagnostic]:
    """Diagnostics of one plasticity model, ``w`` in ``w_unit``:

    * SNN245: a parameter declared ``: w`` has a default other than ``0`` or in another unit; ``clip(x, lo,
      hi)`` assigned to a state has bounds in another unit than that state;
    * SNN244: an initial value, an ODE (``dX/dt`` in X per time), a handler assignment (in the unit of its
      target) or ``transmit`` (in the unit of ``w``) has the wrong unit;
    * the evaluator's own codes (SNN302/304/308) inside an expression.
    """
    env, out = ModelEnv(model, w_unit), []

    def ev(expr):
        try:
            return evaluate(expr, env)
        except UnitError as e:
            out.append(Diagnostic(e.code, e.message, e.span, e.hint))
            return None

    for p in model.params:
        if p.default is None:
            continue
        v = ev(p.default)
        target = one(p.unit if p.unit is not None else w_unit)
        if v is not None and not same_dim(v, target) and not (p.unit is None and _is_zero(v)):
            code = "SNN245" if p.unit is None else "SNN244"
            out.append(Diagnostic(code, f"default of `{p.name}` is in {show(v)}, but it is declared in "
                                  f"{show(target)}", p.default.span,
                                  "a parameter declared `: w` is in the weight's unit: give it at the projection, "
                                  "or default it to 0" if p.unit is None else None))
    for s in model.states:
        if s.init is not None:
            v = ev(s.init)
            if v is not None and not _is_zero(v) and not same_dim(v, env.state_value(s.name)):
                out.append(Diagnostic("SNN244", f"initial value of `{s.name}` is in {show(v)}, but `{s.name}` is "
                                      f"in {show(env.state_value(s.name))}", s.init.span))
    for ode in model.odes:
        rhs, state = ev(ode.rhs), env.state_value(ode.var)
        if rhs is not None and not same_dim(rhs, state / one(u.ms)):
            out.append(Diagnostic("SNN244", f"d{ode.var}/dt is in {show(rhs)}, but {ode.var} changes in "
                                  f"{show(state / one(u.ms))}", ode.rhs.span, "divide by a time constant"
                                  if same_dim(rhs, state) else None))
    for handler in model.handlers:
        for st in handler.stmts:
            if isinstance(st, ir.TransmitDef):
                v, target, what = st.value, env.values.get(("state", "w"), env.values["weight", "w"]), "`transmit`"
            else:
                v, target, what = st.value, env.state_value(st.var), f"`{st.var} {st.op} ...`"
            if _bounded(v) and not isinstance(st, ir.TransmitDef):
                bounds = [(b, ev(b)) for b in v.args[1:]]
                bad = [(b, x) for b, x in bounds if x is not None and not _is_zero(x) and not same_dim(x, target)]
                if bad:
                    b, x = bad[0]
                    out.append(Diagnostic("SNN245", f"a bound of `{st.var}` is in {show(x)}, but `{st.var}` is in "
                                          f"{show(target)}", b.span, "bounds are in the unit of what they bound"
                                          " (declare `param w_max: w` for the weight's unit)"))
                    continue
                if any(x is None for _, x in bounds):
                    continue
                v = v.args[0]              # the bounds fit (a plain 0 fits any unit): check what is clipped
            got = ev(v)
            if got is not None and not same_dim(got, target) and not (_is_zero(got) and st.op == "="):
                out.append(Diagnostic("SNN244", f"{what} in {handler.event} is in {show(got)}, but it must be in "
                                      f"{show(target)}", st.value.span, "each statement keeps its target's unit"))
    return out


def plasticity_models(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN244/SNN245 inside every plasticity model that resolved cleanly (:func:`check_plasticity_model`
    with the stand-in weight unit)."""
    for model in program.models:
        if model.kind == "plasticity" and not model.broken:
            yield from check_plasticity_model(model)


def plastic_projections(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN245/SNN246/SNN305 for each projection with ``plasticity = ...``:

    * SNN246: the source spikes (handlers run at spikes); with an ``on_pre`` or ``on_post`` handler the
      corresponding side spikes; no bias ``b`` (a plastic projection delivers weights only);
    * SNN246: not under an online loop policy (its algorithm traces the weights as parameters; a plastic
      projection's weights change outside it);
    * SNN245: values given for ``: w`` parameters, and a unit declared on ``w``, are in the weight's unit;
    * SNN305: the other values fit the declared units.
    """
    for net in program.networks:
        for pr in net.projections:
            use = pr.plasticity
            model = program.model(use.model) if use is not None else None
            if model is None or model.broken or pr.facts is None:
                continue
            w = pr.conn.arg("w")
            w_val = initialiser_dim(w) if isinstance(w, ir.Spec) else (w if w is not None else 1.0)
            w_unit = u.get_unit(w_val)
            post = net.node(pr.post)
            if not pr.facts.event_source:
                yield Diagnostic("SNN246", f"{model.name} on `{pr.name}` needs spikes from `{pr.pre}`, which does not "
                                 "spike", use.span, "plasticity runs at spikes: project from a spiking population "
                                 "or a spike input")
            if any(h.event == "on_post" for h in model.handlers) and not (
                    isinstance(post, ir.Population) and post.facts is not None and post.facts.spiking):
                yield Diagnostic("SNN246", f"{model.name} has `on_post`, but `{pr.post}` does not spike", use.span,
                                 "project onto a spiking population")
            online = [t for t in program.trains if t.network == net.name and t.loop.name in LOOPS
                      and LOOPS[t.loop.name].traits.online]
            if online:
                yield Diagnostic("SNN246", f"`{pr.name}` has plasticity, which {online[0].loop.name}(...) learning "
                                 "cannot trace", use.span, "train with `loop = bptt` (or checkpointed/truncated)")
            if pr.conn.arg("b") is not None:
                yield Diagnostic("SNN246", f"a plastic projection has no bias, but `{pr.name}` gives `b`",
                                 pr.conn.span, "remove `b = ...`")
            for name, value in use.values:
                p = model.param(name)
                if p is not None and p.unit is None:
                    got = initialiser_dim(value.value) if isinstance(value.value, ir.Spec) else value.value
                    if not same_dim(got, one(w_unit)) and not _is_zero(got):
                        yield Diagnostic("SNN245", f"`{name}` of {model.name} is in the weight's unit, "
                                         f"{show(w_unit)}, but the value is in {show(got)}", value.span,
                                         f"e.g. `{name} = 1 {show(w_unit)}`" if show(w_unit) != "1" else None)
            yield from (d for d in check_values(model, tuple((k, v) for k, v in use.values
                                                           if model.param(k) is None or model.param(k).unit
                                                           is not None), w_unit))
            ws = model.state("w")
            if ws is not None and ws.unit is not None and not same_dim(one(ws.unit), one(w_unit)):
                yield Diagnostic("SNN245", f"`w` of {model.name} is declared in {show(ws.unit)}, but the weights of "
                                 f"`{pr.name}` are in {show(w_unit)}", use.span, "declare `state w per connection` "
                                 "without a unit: it takes the weights'")
