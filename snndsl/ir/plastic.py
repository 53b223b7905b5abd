"""The IR of plasticity: spike handlers of a plasticity model and its use on a projection.

Part of :mod:`snndsl.ir` (re-exported there): a plasticity model is an :class:`snndsl.ir.Model` of kind
``plasticity`` whose states carry a scope (``StateDef.per``: ``connection``, ``pre`` or ``post``) and whose
``handlers`` run at spikes; a projection names it in :attr:`snndsl.ir.Projection.plasticity`.
"""

from __future__ import annotations

from typing import Any

import attrs

from snndsl.source import Span

_span = attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class TransmitDef:
    """``transmit value`` in ``on_pre``: the weight an arriving spike delivers through each of its connections
    (in the unit of ``w``), evaluated where it stands among the handler's statements."""

    value: Any
    span: Span | None = _span


@attrs.frozen
class HandlerDef:
    """``on_pre { ... }`` (``event == "on_pre"``: for each presynaptic spike as it arrives, after the delay) or
    ``on_post { ... }`` (for each spike of the postsynaptic neuron this step): ``UpdateDef`` assignments and at
    most one :class:`TransmitDef`, applied in order, each seeing the values the ones above left."""

    event: str
    stmts: tuple[Any, ...]
    span: Span | None = _span


@attrs.frozen
class PlasticityUse:
    """``plasticity = Model(args...)`` of a projection: the plasticity model's name and the ``values`` given for
    its parameters and state initial values (``(name, snndsl.ir.Value)`` pairs, as a synapse's); its
    per-connection states live in the projection's weight storage."""

    model: str
    values: tuple[tuple[str, Any], ...] = ()
    span: Span | None = _span
