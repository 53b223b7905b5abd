"""Integration methods chosen per population: the choice must suit the model's equations."""

from __future__ import annotations

from typing import Iterator

from snndsl import ir
from snndsl.diagnostics import Diagnostic
from snndsl.ir.linear import nonlinear_ode
from snndsl.registry import INTEGRATORS


def population_methods(program: ir.Program) -> Iterator[Diagnostic]:
    """SNN309: a population choosing a method defined only for linear systems (``method = exact``) on a
    model whose ODE system is not linear in its states (:func:`snndsl.ir.linear.nonlinear_ode`), located
    at the choice. (A model's own ``method exact`` is checked with its equations.)"""
    for net in program.networks:
        for pop in net.populations:
            model = program.model(pop.model)
            method = INTEGRATORS.get(pop.method) if pop.method is not None else None
            if model is None or method is None or not method.traits.linear_only or model.broken:
                continue
            bad = nonlinear_ode(model)
            if bad is not None:
                yield Diagnostic("SNN309", f"{pop.name} chooses `method = {pop.method}`, but d{bad.var}/dt of "
                                 f"{model.name} is not linear in its states", pop.where("method"),
                                 "choose `method = exp_euler` or `rk4`, or leave the model's method")
