"""Value ranges: positive time constants and dt, probabilities in [0, 1], delays on the dt grid."""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.ir.evaluate import UnitError, evaluate, same_dim
from snndsl.diagnostics import Diagnostic
from snndsl.registry import INITIALISERS


def _is_time(value: Any) -> bool:
    return isinstance(value, u.Quantity) and same_dim(value, 1.0 * u.ms)


def _ms(value: Any) -> float:
    """A time in ms; for an array of times (one per neuron) the smallest, which every rule here judges."""
    return float(np.min(value.to_decimal(u.ms)))


def _default_value(param: ir.ParamDef) -> Any:
    """The default's value when it is a constant expression (``-5 ms``), else ``None``."""
    return _constant(param.default)


def _constant(expr: ir.Expr | None) -> Any:
    """The value of ``expr`` when it is a constant (no symbols, consistent units), else ``None``."""
    if expr is None:
        return None
    try:
        return evaluate(expr, _no_symbols)
    except (UnitError, LookupError):
        return None


def _no_symbols(ref: ir.Ref) -> Any:
    raise LookupError(ref.name)


#: A normal distribution of time constants must have its mean this many standard deviations above 0
#: (otherwise some neurons would draw a negative tau: 1 in 10^9 at 6).
TAU_SIGMAS = 6


def _time_constant(name: str, value: Any, span, owner: str) -> Iterator[Diagnostic]:
    """SNN501 for a non-positive time constant; the values of initialisers are checked at their bounds, and a
    distribution without a lower bound (``normal``) must lie :data:`TAU_SIGMAS` standard deviations above 0."""
    if not name.startswith("tau"):
        return
    values = [value]
    if isinstance(value, ir.Spec):
        values = [value.arg(k) for k in ("low", "value", "mean") if value.arg(k) is not None]
    for v in values:
        if _is_time(v) and _ms(v) <= 0:
            yield Diagnostic("SNN501", f"time constant `{name}` of {owner} must be positive, not "
                             f"{ir.show_value(v)}", span, "a decay needs tau > 0")
            return
    dist = INITIALISERS[value.name].traits if isinstance(value, ir.Spec) and value.name in INITIALISERS else None
    if dist is not None and dist.kind == "spread" and value.arg("low") is None:
        mean, std = value.arg(dist.first), value.arg(dist.second)
        if _is_time(mean) and _is_time(std) and _ms(std) > 0 and _ms(mean) < TAU_SIGMAS * _ms(std):
            yield Diagnostic("SNN501", f"time constant `{name}` of {owner} would be drawn negative for some "
                             f"neurons: the mean of {value.name}({ir.show_value(mean)}, {ir.show_value(std)}) is "
                             f"only {_ms(mean) / _ms(std):.2g} standard deviations above 0", span,
                             f"bound it below: `truncated_normal({ir.show_value(mean)}, {ir.show_value(std)}, "
                             "low = 1 ms)`, or `uniform(low, high)` with low > 0")


def positive_and_ranged(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN501-507 on values: time constants, dt, probabilities, refractory periods and delays.

    * SNN501: a parameter whose name starts with ``tau`` and whose value is a time must be ``> 0``: model
      defaults, population overrides and synapse overrides; for an initialiser, its ``low``/``value``/``mean``,
      and a ``normal`` distribution's mean must be :data:`TAU_SIGMAS` standard deviations above 0.
    * SNN507: a constant refractory period is ``>= 0``; a delay is ``>= 0``.
    * SNN502: ``dt > 0``.
    * SNN503: a connection probability ``p`` lies in ``[0, 1]``.
    * SNN505: a delay is a whole number of steps, ``delay / dt`` an integer within 1e-9 (the hint gives the
      nearest valid delays ``floor(delay / dt) * dt`` and ``ceil(delay / dt) * dt``).

    Defaults that depend on other symbols are not judged.
    """
    for model in program.models:
        for p in model.params:
            yield from _time_constant(p.name, _default_value(p), p.span, model.name)
        period = _constant(model.refractory)
        if _is_time(period) and _ms(period) < 0:
            yield Diagnostic("SNN507", f"refractory period must not be negative, not {ir.show_value(period)}",
                             model.refractory.span)
    for net in program.networks:
        dt = net.dt
        if dt is not None and _ms(dt) <= 0:
            yield Diagnostic("SNN502", f"dt must be positive, not {ir.show_value(dt)}", net.dt_span or net.span,
                             "e.g. `dt = 0.1 ms`")
            dt = None
        for pop in net.populations:
            for name, value in pop.values:
                yield from _time_constant(name, value.value, value.span, pop.name)
        for proj in net.projections:
            p = proj.conn.arg("p")
            if p is not None and not 0.0 <= p <= 1.0:
                yield Diagnostic("SNN503", f"connection probability must lie in [0, 1], not {p:g}",
                                 proj.conn.span)
            if proj.synapse is not None:
                for name, value in proj.synapse.values:
                    yield from _time_constant(name, value.value, value.span, proj.synapse.model)
            if proj.delay is not None:
                yield from _delay(proj, dt)


def _delay(proj: ir.Projection, dt: Any) -> Iterator[Diagnostic]:
    """A delay must be >= 0 (SNN507) and a whole number of steps of ``dt`` (SNN505, naming the two nearest
    valid delays); ``dt`` ``None`` (invalid, reported elsewhere) skips the second test."""
    d = _ms(proj.delay)
    if d < 0:
        yield Diagnostic("SNN507", f"delay must not be negative, not {ir.show_value(proj.delay)}", proj.delay_span)
        return
    if dt is None:
        return
    step = _ms(dt)
    ratio = d / step
    if not math.isclose(ratio, round(ratio), rel_tol=1e-9, abs_tol=1e-9):
        lo, hi = math.floor(ratio) * step, math.ceil(ratio) * step
        yield Diagnostic("SNN505", f"delay {d:g} ms is not a multiple of dt = {step:g} ms", proj.delay_span,
                         f"the nearest valid delays are {lo:g} ms and {hi:g} ms")


def _specs(program: ir.Program):
    """Every initialiser Spec of every network, with the span to report at."""
    for net in program.networks:
        for pop in net.populations:
            for _, v in pop.values:
                if isinstance(v.value, ir.Spec):
                    yield v.value
        for proj in net.projections:
            for key in ("w", "b"):
                if isinstance(proj.conn.arg(key), ir.Spec):
                    yield proj.conn.arg(key)
            if proj.synapse is not None:
                for _, v in proj.synapse.values:
                    if isinstance(v.value, ir.Spec):
                        yield v.value


def initialisers(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN305/SNN507 on initialiser arguments, in populations, weights, biases and synapse overrides.

    * SNN305: the arguments of ``normal(mean, std)``, ``truncated_normal(mean, std, low, high)`` and
      ``uniform(low, high)`` share one dimension.
    * SNN507: ``uniform`` needs ``high - low > 0``; ``normal`` and ``truncated_normal`` need ``std > 0``.

    Other initialisers have nothing to compare.
    """
    for spec in _specs(program):
        dist = INITIALISERS[spec.name].traits
        if dist is None:
            continue
        va, vb = spec.arg(dist.first), spec.arg(dist.second)
        others = [spec.arg(k) for k in dist.bounds if spec.arg(k) is not None]
        if not all(same_dim(va, x) for x in (vb, *others)):
            yield Diagnostic("SNN305", f"{spec.name}() mixes units: {ir.show_value(va)} and {ir.show_value(vb)}",
                             spec.span, "give every argument the same unit")
            continue
        if dist.kind == "range" and not _si(vb) - _si(va) > 0:
            yield Diagnostic("SNN507", f"{spec.name}() needs {dist.first} < {dist.second}, got {ir.show_value(va)} and "
                             f"{ir.show_value(vb)}", spec.span)
        if dist.kind == "spread" and _magnitude(vb) <= 0:
            yield Diagnostic("SNN507", f"{spec.name}() needs a positive {dist.second}, not {ir.show_value(vb)}",
                             spec.span)


def _magnitude(v: Any) -> float:
    """The number of ``v``; for an array (one per neuron) the smallest, which the rules here judge."""
    return float(np.min(u.get_mantissa(v))) if isinstance(v, u.Quantity) else float(np.min(v))


def _si(v: Any) -> float:
    """``v`` in SI base units, as a Python float (on the host: a subtraction of quantities would run, and
    compile, a JAX operation)."""
    return float(u.get_mantissa(v)) * float(u.get_unit(v).magnitude) if isinstance(v, u.Quantity) else float(v)


def spike_scales(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN507: the surrogate's scale (``V_th - V_reset`` by default) must be positive for each population:
    a negative one would flip the spike itself, not only its gradient.

    The emitted spike is the surrogate function (a Heaviside step forward) of ``(left - right) / scale`` for
    ``spike when left >= right`` (``(right - left) / scale`` for ``<=``): with ``scale < 0`` it would fire on the
    wrong side of the threshold. The scale is evaluated with the population's parameter values (overrides, else
    defaults; an initialiser by its ``mean`` or ``low``); a scale that depends on states or cannot be evaluated
    is not judged.
    """
    for net in program.networks:
        for pop in net.populations:
            model = program.model(pop.model)
            if model is None or model.broken or model.spike is None or model.spike.scale is None:
                continue
            values = {}
            for p in model.params:
                given = pop.value(p.name)
                v = given.value if given is not None else _default_value(p)
                if isinstance(v, ir.Spec):      # heterogeneous: judge by its typical value
                    v = v.arg("mean") if v.arg("mean") is not None else v.arg("low")
                values[p.name] = v
            try:
                scale = evaluate(model.spike.scale, lambda r: _lookup_value(values, r))
            except (UnitError, LookupError, TypeError):
                continue
            if _magnitude(scale) <= 0:
                yield Diagnostic("SNN507", f"the spike scale of {pop.name} ({model.name}) is "
                                 f"{ir.show_value(scale)}; it must be positive", pop.span,
                                 "the reset value must lie below the threshold (the surrogate's argument is "
                                 "(V - V_th) / (V_th - V_reset)); or give `, scale = ...` in the model")


def _lookup_value(values: dict, ref: ir.Ref) -> Any:
    """The constant given for parameter ``ref`` in ``values``; ``LookupError`` for anything else (not constant)."""
    if ref.kind != "param" or values.get(ref.name) is None:
        raise LookupError(ref.name)
    return values[ref.name]
