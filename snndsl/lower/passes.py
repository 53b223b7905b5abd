"""The train-step lowering passes, and the switch that turns each off (for tests and benchmarks).

Each pass rewrites what the lowering emits wherever it is valid, leaving the values computed and the
gradients unchanged; each is visible in the emitted module as ordinary code (docs/performance.md, "Lowering
passes"):

* ``carried_spike``: a spiking neuron keeps its last output spike as a state (``self._spike``) and resets from
  it, instead of applying the surrogate spike function to the stored membrane again; one surrogate residual
  per step under backpropagation through time instead of two (:class:`snndsl.lower.models.ModelLowering`);
* ``bool_residual``: a dense projection from spikes is computed by the prelude's ``_spike_dense``, whose
  custom VJP keeps the 0/1 spikes as a boolean residual instead of a float32 copy;
* ``last_step_delay``: a delay of one step is a single state holding last step's value (the prelude's
  ``_LastStep``) instead of a ring buffer with a write position.

The switch is a compile-time setting read while lowering (a context variable, default: every pass on);
nothing of it reaches the emitted module, which just contains the code each pass chose.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

#: Every pass, by name.
PASSES = ("carried_spike", "bool_residual", "last_step_delay")

_OFF: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("snndsl_passes_off", default=frozenset())


def enabled(name: str) -> bool:
    """Whether pass ``name`` (one of :data:`PASSES`) applies to what is lowered now."""
    if name not in PASSES:
        raise ValueError(f"unknown lowering pass {name!r}; passes: {', '.join(PASSES)}")
    return name not in _OFF.get()


@contextlib.contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Lower without the passes ``names`` inside the ``with`` block (every pass when none is named): the
    reference the gradient-equality tests and the benchmark compare each pass against."""
    unknown = set(names) - set(PASSES)
    if unknown:
        raise ValueError(f"unknown lowering pass(es) {sorted(unknown)}; passes: {', '.join(PASSES)}")
    token = _OFF.set(_OFF.get() | frozenset(names or PASSES))
    try:
        yield
    finally:
        _OFF.reset(token)
