"""What the inference pass (:mod:`snndsl.ir.infer`) finds about populations and projections: facts
attached to the IR's :class:`~snndsl.ir.Population` and :class:`~snndsl.ir.Projection` nodes (part of the
IR, re-exported by :mod:`snndsl.ir`)."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class PopulationFacts:
    """What the inference pass (:mod:`snndsl.ir.infer`) found about a population.

    ``spiking``: it emits spikes (its model has a spike condition). ``receives``: for a readout of a
    synapse model, the unit of what its projections deliver (its states without a declared unit take it);
    ``None`` otherwise."""

    spiking: bool
    receives: Any = None



@attrs.frozen
class ProjectionFacts:
    """What the inference pass (:mod:`snndsl.ir.infer`) found about a projection.

    * ``delivered``: the unit one presynaptic event delivers before any synapse (weight unit x source unit);
      the projection's synapse states without a declared unit take it;
    * ``arrives``: the unit reaching the target (the synapse's output, or ``delivered``); ``None`` when the
      synapse cannot take the input (a unit error, reported by the checks);
    * ``event_source``: the source emits spikes (0/1), so delivery can visit only the sources that fired;
    * ``storage``: how the weights are stored, from the connectivity rule: ``dense``, ``masked`` (dense with
      a fixed mask), ``sparse`` (the connected pairs only) or ``diagonal``;
    * ``hoisted``: the weighted input depends on a data input alone (no encoder, no delay), so ``project``
      computes it for a whole segment of steps at once.
    """

    delivered: Any
    arrives: Any
    event_source: bool
    storage: str
    hoisted: bool
