"""Model classes of a network: which class (a *variant*) each population and synapse instantiates, and its name.

A variant is ``(model name, trained parameters)``, with a third item when a population needs a class of its
own: its per-population choices (integration method, reset mode) and the synapses fused into it
(:mod:`snndsl.lower.fusion`). :func:`model_classes` names one class per variant for a whole program; the
network lowering (:mod:`snndsl.lower.network`) instantiates them.
"""

from __future__ import annotations

import attrs

from snndsl import ir
from snndsl.lower import emit as E
from snndsl.lower.fusion import fusable


#: A model class: ``(model name, trained parameters)``, with a third item for a population that needs its own
#: class: its per-population choices and fused synapses (:func:`pop_variant`).
Variant = tuple


def trained(model: ir.Model, values: tuple[tuple[str, ir.Value], ...]) -> Variant:
    """``(model name, its trainable parameters in declaration order)`` of one population or synapse."""
    flagged = {k for k, v in values if v.trainable}
    return model.name, tuple(p.name for p in model.params if p.name in flagged)


def pop_method(program: ir.Program, pop: ir.Population) -> str:
    """The integration method of ``pop``: its own choice (``method = exact``), else its model's."""
    return pop.method or program.model(pop.model).method


def fused_into(program: ir.Program, net: ir.Network, pop: ir.Population) -> list[ir.Projection]:
    """The projections into ``pop`` whose synapse is integrated inside it (:func:`snndsl.lower.fusion.fusable`),
    in declaration order."""
    return [pr for pr in net.projections if pr.post == pop.name and fusable(program, net, pr, pop_method(program, pop))]


def pop_variant(program: ir.Program, net: ir.Network, pop: ir.Population) -> Variant:
    """The model class of ``pop``: :func:`trained`, plus, when it has any, a tuple of its own choices that
    differ from the model's (``("method", "exact")``, ``("reset", "hard")``) and of its fused synapses
    (``("fused", ((port, synapse model, its trained parameters), ...))``)."""
    model = program.model(pop.model)
    extras = []
    if pop.method is not None and pop.method != model.method:
        extras.append(("method", pop.method))
    if pop.reset is not None and model.reset is not None and pop.reset != model.reset.mode:
        extras.append(("reset", pop.reset))
    fused = tuple((pr.port or model.ports[0].name, *trained(program.model(pr.synapse.model), pr.synapse.values))
                  for pr in fused_into(program, net, pop))
    if fused:
        extras.append(("fused", fused))
    base = trained(model, pop.values)
    return (*base, tuple(extras)) if extras else base


def variant_model(program: ir.Program, variant: Variant) -> ir.Model:
    """The model a variant's class implements: the model with the population's choices applied."""
    model = program.model(variant[0])
    for key, value in (variant[2] if len(variant) > 2 else ()):
        if key == "method":
            model = attrs.evolve(model, method=value)
        elif key == "reset":
            model = attrs.evolve(model, reset=attrs.evolve(model.reset, mode=value))
    return model


def variants(program: ir.Program, net: ir.Network) -> list[Variant]:
    """The model classes ``net`` instantiates, populations first."""
    out = [pop_variant(program, net, p) for p in net.populations]
    out += [trained(program.model(pr.synapse.model), pr.synapse.values) for pr in net.projections
            if pr.synapse is not None]
    out += [(pr.plasticity.model, ()) for pr in net.projections if pr.plasticity is not None]
    return list(dict.fromkeys(out))


def _suffix(variant: Variant) -> str:
    """The class-name suffix of a variant's population choices and fused synapses: ``_exact_hard_with_Expon``."""
    parts = []
    for key, value in (variant[2] if len(variant) > 2 else ()):
        parts.append(f"with_{'_'.join(v[1] for v in value)}" if key == "fused" else value)
    return "".join(f"_{p}" for p in parts)


def model_classes(program: ir.Program) -> dict[Variant, str]:
    """The class name of each model variant the program's networks use: the model's name when nothing is
    trained, ``LIF_trainable_tau_V_th`` when ``tau`` and ``V_th`` are, with the population's choices and
    fused synapses appended (``LIF_exact_with_Expon``; underscores appended if taken)."""
    taken = {E.py_name(n.name) for n in (*program.models, *program.networks)} | E.OWNED
    out = {}
    for net in program.networks:
        for variant in variants(program, net):
            if variant in out:
                continue
            model, params = variant[0], variant[1]
            name = E.py_name(model)
            if params or len(variant) > 2:
                name = E.py_name(model + (f"_trainable_{'_'.join(params)}" if params else "") + _suffix(variant))
                while name in taken:
                    name += "_"
                taken.add(name)
            out[variant] = name
    return out
