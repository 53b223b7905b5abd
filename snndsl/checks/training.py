"""Train-block values: positive epochs and batch, a checkpoint base of at least 2, usable data sizes."""

from __future__ import annotations

from typing import Iterator

from .. import ir
from ..errors import Diagnostic


def settings(program: ir.Program) -> Iterator[Diagnostic]:
    for train in program.trains:
        if train.epochs < 1:
            yield Diagnostic("SNN603", f"epochs must be at least 1, not {train.epochs}", train.where("epochs"))
        if train.batch is not None and train.batch < 1:
            yield Diagnostic("SNN603", f"batch must be at least 1, not {train.batch}", train.where("batch"))
        if isinstance(train.devices, int):
            if train.devices < 1:
                yield Diagnostic("SNN603", f"devices must be at least 1, not {train.devices}", train.where("devices"))
            elif train.batch is not None and train.batch % train.devices:
                yield Diagnostic("SNN603", f"batch {train.batch} does not divide evenly over {train.devices} "
                                 "devices", train.where("devices"), f"use a batch that is a multiple of {train.devices}")
        if train.loop.name == "checkpointed" and train.loop.arg("base") < 2:
            yield Diagnostic("SNN603", f"checkpointed(base = {train.loop.arg('base')}) needs a base of at least 2",
                             train.loop.span, "16 is a good default")
        if train.data is not None:
            for key in ("steps", "samples", "classes"):
                v = train.data.arg(key)
                if v is not None and v < 1:
                    yield Diagnostic("SNN603", f"`{key}` of {train.data.name} must be at least 1, not {v}",
                                     train.data.span)
