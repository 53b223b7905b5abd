"""Entries of train blocks: data sources, losses, reductions over time, optimizers, learning-rate schedules
and loop policies, and the settings a train block takes."""

from __future__ import annotations

import attrs

from snndsl.registry.core import Entry, Param, Registry, Target

P = Param

# ---------------------------------------------------------------- data (hook `load`: runtime/data.py)
@attrs.frozen
class DataSource:
    """What a data source's ``y`` is, for the checks: ``labels`` (integer classes: ``classes`` of them, or as
    many as the argument ``classes_arg`` says) or ``unknown`` (a file: labels or targets)."""

    y: str = attrs.field(validator=attrs.validators.in_(("labels", "unknown")))
    classes: int | None = None
    classes_arg: str | None = None


DATA = Registry("data source", "SNN216", (
    Entry("poisson_patterns", (P("steps", "int"), P("samples", "int"), P("rate", "quantity", unit="Hz"),
                               P("classes", "int", default=2)),
          doc="random Poisson spike patterns, one fixed pattern per class", needs=("load",),
          traits=DataSource("labels", classes_arg="classes")),
    Entry("npz", (P("path", "string"), P("test_path", "string", default=None)),
          doc="arrays x [samples, time, channels] and y from a .npz file (and a test file)", needs=("load",),
          traits=DataSource("unknown")),
    Entry("digits", (P("steps", "int"), P("encoding", "call:encoder", default=None), P("test_fraction", default=0.25)),
          doc="scikit-learn's 8x8 handwritten digits, encoded as spikes", needs=("load",),
          traits=DataSource("labels", classes=10)),
))


# ---------------------------------------------------------------- losses (hook `lower`: lower/builtins.py)
@attrs.frozen
class Loss:
    """``task``: ``classification`` (integer labels, accuracy is reported), ``regression`` (targets) or
    ``regulariser`` (added to a loss). ``takes``: what its first argument must be: ``reduced`` (one value per
    sample: reduce over time first), ``spiking`` (a spiking population) or ``any``."""

    task: str = attrs.field(validator=attrs.validators.in_(("classification", "regression", "regulariser")))
    takes: str = attrs.field(validator=attrs.validators.in_(("reduced", "spiking", "any")))


def _loss(name: str, *params: Param, traits: Loss, doc: str) -> Entry:
    return Entry(name, tuple(params), doc, traits=traits, needs=("lower",))


LOSSES = Registry("loss", "SNN207", (
    _loss("cross_entropy", P("prediction", "expr"), P("label", "expr", default="label"),
          traits=Loss("classification", "reduced"), doc="softmax cross-entropy against integer labels"),
    _loss("mse", P("prediction", "expr"), P("target", "expr", default="target"), traits=Loss("regression", "any"),
          doc="mean squared error against targets"),
    _loss("spike_count_cross_entropy", P("prediction", "expr"), P("label", "expr", default="label"),
          traits=Loss("classification", "spiking"), doc="cross-entropy of the spike counts"),
    _loss("rate_reg", P("pop", "expr"), P("target", "quantity", unit="Hz", default=0.0),
          traits=Loss("regulariser", "spiking"), doc="mean squared deviation of firing rates from a target (Hz)"),
))


# ---------------------------------------------------------------- reductions over time
@attrs.frozen
class Reduction:
    """How a reduction over time is computed inside the time loop: ``running`` is the value carried from
    step to step (``sum``, ``max`` or ``last``), ``divide_by_steps`` turns a running sum into a mean; ``target``
    reduces a collected sequence over its time axis (``None``: take the last element)."""

    running: str = attrs.field(validator=attrs.validators.in_(("sum", "max", "last")))
    divide_by_steps: bool = False
    target: Target | None = None


def _red(name: str, traits: Reduction, doc: str) -> Entry:
    return Entry(name, (P("x", "expr"), P("axis", "expr", default="time")), doc, traits=traits)


REDUCTIONS = Registry("reduction over time", "SNN207", (
    _red("mean", Reduction("sum", True, Target("brainunit", "math.mean")), "the mean over time"),
    _red("max", Reduction("max", False, Target("brainunit", "math.max")), "the maximum over time"),
    _red("sum", Reduction("sum", False, Target("brainunit", "math.sum")), "the sum over time"),
    _red("last", Reduction("last"), "the value at the last step"),
))


# ---------------------------------------------------------------- optimizers and schedules (braintools.optim)
@attrs.frozen
class Optimizer:
    """``grouped``: parameters the library takes together as one tuple argument (``betas=(beta1, beta2)``)."""

    grouped: tuple[tuple[str, tuple[str, ...]], ...] = ()


SCHEDULES = Registry("learning-rate schedule", "SNN208", (
    Entry("exponential_decay", (P("base_lr"), P("decay_steps", "int"), P("decay_rate", default=0.96)),
          target=Target("braintools", "optim.ExponentialDecayLR")),
    Entry("cosine", (P("base_lr"), P("T_max", "int"), P("eta_min", default=0.0)),
          target=Target("braintools", "optim.CosineAnnealingLR")),
    Entry("step", (P("base_lr"), P("step_size", "int"), P("gamma", default=0.1)),
          target=Target("braintools", "optim.StepLR")),
))
_clip = (P("weight_decay", default=0.0), P("grad_clip_norm", default=None), P("grad_clip_value", default=None))
_BETAS = Optimizer(grouped=(("betas", ("beta1", "beta2")),))
OPTIMIZERS = Registry("optimizer", "SNN208", (
    Entry("adam", (P("lr", "lr", default=1e-3), P("beta1", default=0.9), P("beta2", default=0.999),
                   P("eps", default=1e-8), *_clip), target=Target("braintools", "optim.Adam"), traits=_BETAS),
    Entry("adamw", (P("lr", "lr", default=1e-3), P("eps", default=1e-8), P("weight_decay", default=0.01),
                    P("grad_clip_norm", default=None), P("grad_clip_value", default=None)),
          target=Target("braintools", "optim.AdamW"), traits=Optimizer()),
    Entry("sgd", (P("lr", "lr", default=1e-3), P("momentum", default=0.0), P("nesterov", "bool", default=False),
                  *_clip), target=Target("braintools", "optim.SGD"), traits=Optimizer()),
    Entry("rmsprop", (P("lr", "lr", default=1e-2), P("alpha", default=0.99), P("momentum", default=0.0), *_clip),
          target=Target("braintools", "optim.RMSprop"), traits=Optimizer()),
))

# ---------------------------------------------------------------- loop policies (hook `lower`)
LOOPS = Registry("loop policy", "SNN214", (
    Entry("bptt", doc="backpropagation through time over one scan of the network's step", needs=("lower",)),
    Entry("checkpointed", (P("base", "int", default=16),),
          doc="checkpointed BPTT: segments of ~sqrt(T) steps (at least base) under checkpoint; memory ~ sqrt(T), "
              "one extra forward pass", needs=("lower",)),
))

#: Train-block settings and the kind of value each takes.
SETTINGS: dict[str, str] = {
    "data": "call:data", "loss": "loss", "optimizer": "call:optimizer", "loop": "call:loop",
    "epochs": "int", "batch": "int", "seed": "int", "devices": "devices",
}
