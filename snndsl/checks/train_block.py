"""Train-block values: positive epochs and batch, a checkpoint base of at least 2, usable data sizes."""

from __future__ import annotations

from typing import Iterator

from snndsl import ir
from snndsl.diagnostics import Diagnostic, did_you_mean
from snndsl.ir.text import show_expr
from snndsl.registry import DATA, ENCODERS, LOSSES, REDUCTIONS

#: The largest seed (JAX and NumPy take 32 bits).
MAX_SEED = 2 ** 32 - 1


def settings(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN603: train-block numbers are in range.

    ``epochs >= 1``; ``batch >= 1`` when given; an integer ``devices >= 1`` and, with a batch,
    ``batch % devices == 0`` (each device takes an equal share); a constant learning rate ``lr > 0`` (schedules
    are not checked); ``checkpointed(base = b)`` needs ``b >= 2``; a data source's ``steps``, ``samples``,
    ``classes`` and ``pool`` are at least 1 when present, its ``test_fraction`` is in [0, 1) and is not given
    together with a ``test_path``. Each finding is reported at the setting it concerns.
    """
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
        lr = train.optimizer.arg("lr")
        if isinstance(lr, float) and lr <= 0:
            yield Diagnostic("SNN603", f"the learning rate must be positive, not {lr:g}", train.optimizer.span)
        if train.loop.arg("base") is not None and train.loop.arg("base") < 2:
            yield Diagnostic("SNN603", f"{train.loop.name}(base = {train.loop.arg('base')}) needs a base of at least 2",
                             train.loop.span, "16 is a good default")
        if train.data is not None:
            yield from _data_values(train.data)


def _data_values(data: ir.Spec) -> Iterator[Diagnostic]:
    for key in ("steps", "samples", "classes", "pool"):
        v = data.arg(key)
        if v is not None and v < 1:
            yield Diagnostic("SNN603", f"`{key}` of {data.name} must be at least 1, not {v}", data.span)
    frac = data.arg("test_fraction")
    if data.arg("test_path") and frac:
        yield Diagnostic("SNN603", f"{data.name}() takes its test set from `test_path` or holds out "
                         "`test_fraction` of the training file, not both", data.span,
                         "drop one of them")
    if frac is not None and not 0 <= frac < 1:
        yield Diagnostic("SNN603", f"`test_fraction` of {data.name} is the share of samples held out for "
                         f"testing, at least 0 and below 1, not {frac:g}", data.span, "e.g. 0.2; 0 holds none out")


#: Losses that stand alone (a regulariser is added to one of these).
LOSS_FUNCTIONS = tuple(e.name for e in LOSSES if e.traits.task != "regulariser")


def _walk(e):
    """Every node of the loss expression ``e``, ``e`` first, depth-first (call arguments, operands)."""
    yield e
    for child in getattr(e, "args", ()) or ():
        yield from _walk(child)
    for name in ("left", "right", "operand"):
        if hasattr(e, name):
            yield from _walk(getattr(e, name))


def _spiking_pop(program: ir.Program, net: ir.Network, e) -> bool:
    """Whether ``e`` names a population of a spiking model (what spike-count losses and ``rate_reg`` take)."""
    if not (isinstance(e, ir.Ref) and e.kind == "pop"):
        return False
    node = net.node(e.name)
    return isinstance(node, ir.Population) and program.model(node.model) is not None \
        and program.model(node.model).spiking


def loss_and_data(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN201/207/217/219/603 in train blocks: the loss uses populations as the loss functions expect,
    and the data fits the network.

    * SNN603: ``0 <= seed <= 2^32 - 1`` (what JAX and NumPy take).
    * Loss: it must call a loss function (:data:`LOSS_FUNCTIONS`, SNN207); each ``pop.var`` must name a state
      of that population's model (SNN201); a reduction (:data:`REDUCTIONS`) reduces over ``time`` only (SNN207);
      the prediction of ``cross_entropy`` must contain a reduction, one value per sample (SNN207);
      ``spike_count_cross_entropy`` and ``rate_reg`` take a spiking population (SNN219).
    * Data: exactly one network input has no encoder, the one the data set feeds (SNN603); a data set's
      ``encoding`` is ``rate(...)`` or ``latency(...)`` (SNN217).

    Train blocks whose network is missing are skipped (the resolver reported SNN601).
    """
    for train in program.trains:
        net = program.network(train.network)
        if net is None:
            continue
        if not 0 <= train.seed <= MAX_SEED:
            yield Diagnostic("SNN603", f"seed must be from 0 to {MAX_SEED}, not {train.seed}", train.where("seed"))
        if train.loss is not None:
            yield from _loss(program, net, train)
        if train.data is not None:
            data_inputs = [x for x in net.inputs if x.source is None]
            if len(data_inputs) != 1:
                yield Diagnostic("SNN603", f"a data source feeds one input, but {net.name} has "
                                 f"{len(data_inputs)} inputs without an encoder", train.data.span,
                                 "give the other inputs an encoder, e.g. `= poisson(rate = 5 Hz)`")
            enc = train.data.arg("encoding")
            if isinstance(enc, ir.Spec) and ENCODERS[enc.name].traits.where != "data":
                yield Diagnostic("SNN217", f"a data set is encoded with rate(...) or latency(...), not "
                                 f"{enc.name}(...)", enc.span, "e.g. `encoding = rate(max_rate = 100 Hz)`")


def _loss(program: ir.Program, net: ir.Network, train: ir.Train) -> Iterator[Diagnostic]:
    """The loss's shape: it calls a loss function (SNN207); ``pop.var`` reads name existing states (SNN201);
    reductions are over ``time`` (SNN207); a loss taking ``reduced`` predictions gets one reduced over time
    (SNN207) and one taking ``spiking`` gets a spiking population (SNN219)."""
    nodes = list(_walk(train.loss))
    if not any(isinstance(e, ir.Func) and e.name in LOSS_FUNCTIONS for e in nodes):
        yield Diagnostic("SNN207", "the loss calls no loss function", train.loss.span,
                         "e.g. `loss = cross_entropy(mean(out, time), label)`; loss functions: "
                         + ", ".join(LOSS_FUNCTIONS))
    for e in nodes:
        if isinstance(e, ir.Field):
            node = net.node(e.pop)
            model = program.model(node.model) if isinstance(node, ir.Population) else None
            if model is None or model.state(e.var) is None:
                states = [s.name for s in model.states] if model else []
                yield Diagnostic("SNN201", f"`{e.pop}` has no state `{e.var}`", e.span,
                                 did_you_mean(e.var, states) or (f"states: {', '.join(states)}" if states else None))
        elif isinstance(e, ir.Func) and e.name in REDUCTIONS:
            axis = e.args[1]
            if not (isinstance(axis, ir.Ref) and axis.name == "time"):
                yield Diagnostic("SNN207", f"{e.name}() reduces over `time` only", axis.span,
                                 f"write `{e.name}(x, time)`")
        elif isinstance(e, ir.Func) and e.name in LOSSES and LOSSES[e.name].traits.takes == "reduced":
            pred = e.args[0]
            if not any(isinstance(x, ir.Func) and x.name in REDUCTIONS for x in _walk(pred)):
                yield Diagnostic("SNN207", f"{e.name} needs one prediction per sample: reduce the output "
                                 "over time first", pred.span, "e.g. `cross_entropy(mean(out, time), label)`")
        elif isinstance(e, ir.Func) and e.name in LOSSES and LOSSES[e.name].traits.takes == "spiking":
            if not _spiking_pop(program, net, e.args[0]):
                yield Diagnostic("SNN219", f"{e.name}() takes a spiking population", e.args[0].span,
                                 "spiking populations: " + ", ".join(
                                     p.name for p in net.populations
                                     if program.model(p.model) and program.model(p.model).spiking))


def loss_terms(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN606 and SNN605: the loss is one number per batch, and it fits what the data gives.

    * SNN606: every term of the loss is a number per batch: a loss function's value (each averages over the
      batch), a constant, or sums, products and math functions of those. A population, a state or a reduction
      over time (one value per sample and neuron) left in the loss would fail inside ``jax.grad``.
    * SNN605: when the data source gives integer class labels (its registry traits: ``poisson_patterns``,
      ``digits``), a regression loss (``mse``) against them (its target reads ``label`` or ``target``; a
      constant target is fine) is refused, and a classification loss needs a prediction with at least as many
      units as there are classes.

    Losses without a loss function are skipped (:func:`loss_and_data` reports them, SNN207).
    """
    for train in program.trains:
        net = program.network(train.network)
        if net is None or train.loss is None:
            continue
        nodes = list(_walk(train.loss))
        if not any(isinstance(e, ir.Func) and e.name in LOSS_FUNCTIONS for e in nodes):
            continue
        bad = _not_scalar(train.loss)
        if bad is not None:
            yield Diagnostic("SNN606", f"`{show_expr(bad)}` has a value per sample, not one number per batch",
                             bad.span, "every term of a loss must be a loss function (they average over the batch), "
                             "e.g. `0.1 * rate_reg(hidden, 5 Hz)` to regularise firing")
        if train.data is None or train.data.name not in DATA:
            continue
        source = DATA[train.data.name].traits
        if source is None or source.y != "labels":
            continue
        classes = source.classes if source.classes is not None else train.data.arg(source.classes_arg)
        for e in nodes:
            if not (isinstance(e, ir.Func) and e.name in LOSSES):
                continue
            task = LOSSES[e.name].traits.task
            if task == "regression" and len(e.args) > 1 and _reads_y(e.args[1]):
                yield Diagnostic("SNN605", f"{e.name}() compares with target values, but {train.data.name} gives "
                                 "integer class labels", e.span,
                                 "for classes use `cross_entropy(mean(out, time), label)`")
            elif task == "classification" and isinstance(classes, int) and e.args:
                units = _units(net, e.args[0])
                if units is not None and units[1] < classes:
                    yield Diagnostic("SNN605", f"`{units[0]}` has {units[1]} units, but {train.data.name} gives "
                                     f"{classes} classes: {e.name}() needs one unit per class", e.args[0].span,
                                     f"give `{units[0]}` {classes} units")


def _reads_y(e) -> bool:
    """Whether an expression reads the data's ``y`` (``label`` or ``target``)."""
    return any(isinstance(x, ir.Ref) and x.name in ("label", "target") for x in _walk(e))


def _not_scalar(e):
    """The first part of a loss expression that is not one number per batch, or ``None``."""
    if isinstance(e, ir.Const) or (isinstance(e, ir.Func) and e.name in LOSSES):
        return None
    if isinstance(e, ir.BinOp):
        return _not_scalar(e.left) or _not_scalar(e.right)
    if isinstance(e, ir.Neg):
        return _not_scalar(e.operand)
    if isinstance(e, ir.Func) and e.name not in REDUCTIONS:
        return next((x for x in map(_not_scalar, e.args) if x is not None), None)
    return e


def _units(net: ir.Network, pred) -> tuple[str, int] | None:
    """``(population, size)`` when the prediction reads populations of one size."""
    names = {x.name for x in _walk(pred) if isinstance(x, ir.Ref) and x.kind == "pop"}
    names |= {x.pop for x in _walk(pred) if isinstance(x, ir.Field)}
    sizes = {getattr(net.node(n), "size", None) for n in names}
    if len(sizes) != 1 or None in sizes:
        return None
    return sorted(names)[0], sizes.pop()
