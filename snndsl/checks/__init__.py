"""Checks on the resolved model: pure functions ``Program -> Iterable[Diagnostic]``, run in :data:`RULES` order.

Every rule sees the whole program and reports all it finds; :func:`run` collects the findings of every rule,
so a user sees all problems at once.
"""

from __future__ import annotations

from typing import Callable, Iterable

from snndsl.diagnostics import Diagnostic
from snndsl.ir import Program
from snndsl.checks import arrays
from snndsl.checks import graph
from snndsl.checks import loops
from snndsl.checks import memory
from snndsl.checks import methods
from snndsl.checks import plasticity
from snndsl.checks import train_block as training
from snndsl.checks import unit_consistency as units
from snndsl.checks import values

Check = Callable[[Program], Iterable[Diagnostic]]

RULES: tuple[Check, ...] = (
    units.model_equations,      # SNN301-308 inside neuron and synapse models
    units.population_values,    # SNN305 parameter and state overrides
    units.projection_delivery,  # SNN307 what a projection delivers matches the target port
    methods.population_methods,  # SNN309 a population's method suits its model's equations
    plasticity.plasticity_models,  # SNN244-245 inside plasticity models
    plasticity.plastic_projections,  # SNN245-246/305 plasticity on its projection
    values.positive_and_ranged,  # SNN501-507 time constants, dt, probabilities, delays
    values.initialisers,        # SNN305/507 initialiser arguments
    values.spike_scales,        # SNN507 surrogate scale of each population
    arrays.array_shapes,        # SNN272-273, SNN278 per-neuron arrays, weight matrices, biases
    graph.endpoints_and_sizes,  # SNN401-402
    graph.zero_delay_cycles,    # SNN403
    graph.outputs_and_usage,    # SNN404-406
    training.settings,          # SNN603
    training.loss_and_data,     # SNN201/207/217/219/603 in train blocks
    loops.windows_and_algorithms,  # SNN603 windows and online algorithm factors
    loops.online_trainable,     # SNN604 parts an online algorithm cannot train
    training.loss_terms,        # SNN605-606 the loss fits the data and is a number per batch
    memory.network_size,        # SNN508 the network fits in memory
)


def run(program: Program) -> list[Diagnostic]:
    """Every diagnostic of every rule, in rule order."""
    found: list[Diagnostic] = []
    for rule in RULES:
        found.extend(rule(program))
    return found
