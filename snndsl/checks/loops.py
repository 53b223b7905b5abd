"""Loop policies: window lengths and algorithm settings in range, and what an online learning algorithm can
train.

Online learning (``loop = online(...)``) estimates gradients forward in time with eligibility traces
(braintrace). A trace follows a weight matrix applied by one traced operation (``braintrace.matmul``) into
the states it drives; the learning signal is the loss's derivative at the same step. A model part outside
that scheme would silently get no gradient, so it is an error (SNN604) that names the part and says why.
"""

from __future__ import annotations

from typing import Iterator

from snndsl import ir
from snndsl.diagnostics import Diagnostic
from snndsl.registry import LOOPS, ONLINE

#: Weight storages (``ProjectionFacts.storage``) an online algorithm traces: a dense matrix, or a dense
#: matrix times a fixed 0/1 mask (``braintrace.nn.Linear`` with ``w_mask``).
TRACED_STORAGE = ("dense", "masked")

_OTHER_LOOPS = "train it with `loop = truncated(window = ...)` or `loop = bptt`"


def windows_and_algorithms(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN603: a loop policy's window is at least one step, and an online algorithm's factors that must
    lie in [0, 1) (``OnlineAlgorithm.unit_interval``: a decay or low-pass factor ``f`` in ``e_t = f e_{t-1} +
    ...``; 1 or more would let the trace grow without bound) do. Reported at the loop setting.
    """
    for train in program.trains:
        loop = train.loop
        policy = LOOPS[loop.name].traits
        window = loop.arg(policy.window) if policy.window else None
        if window is not None and window < 1:
            yield Diagnostic("SNN603", f"{loop.name}(): `{policy.window}` must be at least 1 step, not {window}",
                             loop.span, "the number of steps between two updates, e.g. `window = 10`")
        for value in (v for _, v in loop.args if isinstance(v, ir.Spec) and v.registry == "online"):
            for name in ONLINE[value.name].traits.unit_interval:
                factor = value.arg(name)
                if not 0 <= factor < 1:
                    yield Diagnostic("SNN603", f"`{name}` of {value.name} must lie in [0, 1), not {factor:g}",
                                     value.span, "0 keeps no memory of earlier steps; 0.9 forgets 10 % per step")


def _trainable(what: str, values: tuple[tuple[str, ir.Value], ...]) -> Iterator[tuple[str, ir.Value]]:
    for name, value in values:
        if value.trainable:
            yield f"`{name}` of {what}", value


def online_trainable(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN604: under ``loop = online(...)`` every trainable value is a weight the algorithm traces.

    Reported at the loop setting, one finding per part, naming it and its line:

    * a ``trainable`` parameter of a population or of a projection's synapse: traces follow projection
      weights only, so it would get no gradient;
    * a projection whose weights are not stored as a dense or masked matrix (``one_to_one``, and
      ``fixed_prob`` over more than 250,000 pairs, stored sparsely): braintrace traces only a weight matrix
      applied by one matrix product;
    * a projection with a delay: the learning signal is the loss's derivative at the same step, and no
      credit flows back through a delay line, so the weights before it would get none.
    """
    for train in program.trains:
        net = program.network(train.network)
        if net is None or not LOOPS[train.loop.name].traits.online:
            continue
        algorithm = train.loop.arg("algorithm")
        who = f"online({algorithm.name})" if isinstance(algorithm, ir.Spec) else "online learning"
        parts = [x for pop in net.populations for x in _trainable(f"`{pop.name}`", pop.values)]
        parts += [x for pr in net.projections if pr.synapse is not None
                  for x in _trainable(f"the synapse of `{pr.name}`", pr.synapse.values)]
        for part, value in parts:
            line = f" (line {value.span.line})" if value.span is not None else ""
            yield Diagnostic("SNN604", f"{who} cannot train {part}{line}: eligibility traces follow projection "
                             "weights only, so a parameter of a model would get no gradient", train.loop.span,
                             f"drop `trainable`, or {_OTHER_LOOPS}")
        for pr in net.projections:
            line = f" (line {pr.span.line})" if pr.span is not None else ""
            if pr.facts is not None and pr.facts.storage not in TRACED_STORAGE:
                yield Diagnostic("SNN604", f"{who} cannot train projection `{pr.name}`{line}: {pr.conn.name} "
                                 f"stores its weights as `{pr.facts.storage}`, and braintrace traces only a dense "
                                 "or masked weight matrix", train.loop.span,
                                 f"connect it with `dense(...)` (or a `fixed_prob` of at most 250,000 pairs), or "
                                 f"{_OTHER_LOOPS}")
            if pr.delay_steps > 0:
                yield Diagnostic("SNN604", f"{who} cannot train through projection `{pr.name}`{line}: it has a "
                                 "delay, and the learning signal (the loss's derivative at the same step) does not "
                                 "flow back through a delay line", train.loop.span,
                                 f"remove the delay, or {_OTHER_LOOPS}")
