"""Name → entry tables for everything a model names but does not define.

Surrogates, initialisers, integrators, connectivity rules, synaptic outputs, input kinds, encoders, math
functions, data sources, losses, reductions, optimizers, learning-rate schedules, loop policies and online
learning algorithms are looked up here, never through ``if``/``elif`` chains on names. Each :class:`Entry`
carries its signature, the library :class:`Target` it lowers to (where a library does the job), typed traits,
and hooks implemented by the phase that owns the behaviour (see :mod:`snndsl.registry.core`). Importing this
package imports no JAX.
"""

from __future__ import annotations

from snndsl.registry.core import ALIASES, REQUIRED, Entry, HookMissing, Param, Registry, Target
from snndsl.registry.model_entries import (CONNECTIVITY, ENCODERS, FUNCTIONS, INITIALISERS, INPUT_KINDS,
                                           INTEGRATORS, OUTPUTS, SPARSE_ABOVE, SURROGATES, Connectivity,
                                           Distribution, Encoder, InputKind, Integrator, MathFunction, Output)
from snndsl.registry.training_entries import (DATA, LOOPS, LOSSES, ONLINE, OPTIMIZERS, REDUCTIONS, SCHEDULES,
                                              SETTINGS, DataFile, DataSource, LoopPolicy, Loss, OnlineAlgorithm, Optimizer,
                                              Reduction)

#: Every registry by the key a :class:`snndsl.ir.Spec` names it with (``Spec.registry``).
REGISTRIES: dict[str, Registry] = {
    "surrogate": SURROGATES, "initialiser": INITIALISERS, "integrator": INTEGRATORS,
    "connectivity": CONNECTIVITY, "output": OUTPUTS, "input_kind": INPUT_KINDS, "encoder": ENCODERS,
    "function": FUNCTIONS, "data": DATA, "loss": LOSSES, "reduction": REDUCTIONS, "schedule": SCHEDULES,
    "optimizer": OPTIMIZERS, "loop": LOOPS, "online": ONLINE,
}

__all__ = ["ALIASES", "REQUIRED", "Entry", "HookMissing", "Param", "Registry", "Target", "REGISTRIES",
           "SURROGATES", "INITIALISERS", "INTEGRATORS", "CONNECTIVITY", "OUTPUTS", "INPUT_KINDS", "ENCODERS",
           "FUNCTIONS", "DATA", "LOSSES", "REDUCTIONS", "SCHEDULES", "OPTIMIZERS", "LOOPS", "ONLINE", "SETTINGS",
           "SPARSE_ABOVE", "Connectivity", "Distribution", "Encoder", "Integrator", "InputKind", "MathFunction",
           "Output", "DataFile", "DataSource", "Loss", "Optimizer", "Reduction", "LoopPolicy", "OnlineAlgorithm"]
