"""Entries of train blocks: data sources, losses, reductions over time, optimizers, learning-rate schedules,
loop policies and online learning algorithms, and the settings a train block takes.

* :data:`DATA` (SNN216): hook ``load`` (:mod:`snndsl.runtime.data`): ``(spec, network, seed, base
  directory) -> Dataset``.
* :data:`LOSSES` (SNN207): :class:`Loss`; hook ``lower`` (:mod:`snndsl.lower.builtins`): the scalar loss.
* :data:`REDUCTIONS` (SNN207): :class:`Reduction`, computed inside the time loop by the lowering.
* :data:`OPTIMIZERS` and :data:`SCHEDULES` (SNN208): ``braintools.optim`` classes called with their
  arguments (an optimizer's ``lr`` may be a schedule call); :class:`Optimizer` for grouped arguments.
* :data:`LOOPS` (SNN214): :class:`LoopPolicy`; hook ``lower``: how the time loop is differentiated.
* :data:`ONLINE`: the online learning algorithms of ``loop = online(...)`` (braintrace).
"""

from __future__ import annotations

import attrs

from snndsl.registry.core import Entry, Param, Registry, Target

P = Param

# ---------------------------------------------------------------- data (hook `load`: runtime/data.py)
@attrs.frozen
class DataFile:
    """What ``snndsl train --data FILE`` recognises as this source's files: a file that starts with ``magic``
    or whose name ends in one of ``suffixes``, or (``folder``) a folder. The entry has a ``path`` parameter."""

    suffixes: tuple[str, ...] = ()
    magic: bytes = b""
    folder: bool = False


@attrs.frozen
class DataSource:
    """What a data source gives, for the checks and ``--data``: ``y`` is ``labels`` (integer classes:
    ``classes`` of them, or as many as the argument ``classes_arg`` says) or ``unknown`` (a file: labels or
    targets); ``file`` says which files it reads (``None``: it makes its data itself)."""

    y: str = attrs.field(validator=attrs.validators.in_(("labels", "unknown")))
    classes: int | None = None
    classes_arg: str | None = None
    file: DataFile | None = None


def _events(name: str, doc: str, traits: DataSource) -> Entry:
    """A source of recorded events, binned to the network's dt (runtime/datasets/)."""
    return Entry(name, (P("path", "string"), P("test_path", "string", default=None), P("steps", "int"),
                        P("pool", "int", default=1), P("counts", "bool", default=False),
                        P("test_fraction", default=0.0)), doc=doc, traits=traits, needs=("load",))


_HDF5 = DataFile(suffixes=(".h5", ".hdf5"), magic=b"\x89HDF\r\n\x1a\n")
DATA = Registry("data source", "SNN216", (
    Entry("poisson_patterns", (P("steps", "int"), P("samples", "int"), P("rate", "quantity", unit="Hz"),
                               P("classes", "int", default=2)),
          doc="random Poisson spike patterns, one fixed pattern per class", needs=("load",),
          traits=DataSource("labels", classes_arg="classes")),
    Entry("npz", (P("path", "string"), P("test_path", "string", default=None)),
          doc="arrays x [samples, time, channels] and y from a .npz file (and a test file)", needs=("load",),
          traits=DataSource("unknown", file=DataFile(suffixes=(".npz",), magic=b"PK\x03\x04"))),
    Entry("digits", (P("steps", "int"), P("encoding", "call:encoder", default=None), P("test_fraction", default=0.25)),
          doc="scikit-learn's 8x8 handwritten digits, encoded as spikes", needs=("load",),
          traits=DataSource("labels", classes=10)),
    _events("shd", "Spiking Heidelberg Digits: spikes/times, spikes/units and labels in an HDF5 file",
            DataSource("labels", file=_HDF5)),
    _events("ssc", "Spiking Speech Commands: the same HDF5 layout as shd", DataSource("labels", file=_HDF5)),
    _events("nmnist", "N-MNIST: a folder of digit folders of binary event files (34 x 34 pixels, 2 polarities)",
            DataSource("labels", file=DataFile(folder=True))),
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
    """A loss entry; its operands are ``expr`` parameters the lowering reads (string defaults such as
    ``"label"`` become the special names)."""
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
    """A reduction over time: ``name(x, time)``, ``x`` any train-block expression, the axis ``time``."""
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
@attrs.frozen
class LoopPolicy:
    """How a loop policy trains. ``window``: the parameter that gives the steps between two updates (the
    sequence is cut into windows of that many steps, the network's state carried from one to the next, and
    the optimizer updates after each; its value ``None``, or no such parameter: one update per sequence).
    ``online``: the gradient is estimated forward in time by an online learning algorithm (the parameter
    ``algorithm``, an entry of :data:`ONLINE`) from per-step losses, instead of backpropagated through time;
    projection weights are then emitted as braintrace's traced operations."""

    window: str | None = None
    online: bool = False


@attrs.frozen
class OnlineAlgorithm:
    """``keywords``: the library's keyword for each parameter whose name differs (``kappa`` is braintrace's
    ``kappa_filter_decay``). ``unit_interval``: parameters that must lie in [0, 1) (decay factors of a
    trace). ``state``: what the algorithm keeps per sample besides the network's state (its memory does
    not grow with the number of steps)."""

    keywords: tuple[tuple[str, str], ...] = ()
    unit_interval: tuple[str, ...] = ()
    state: str = ""


#: Online learning algorithms (braintrace), the ``algorithm`` of ``online(...)``.
ONLINE = Registry("online learning algorithm", "SNN214", (
    Entry("eprop", (P("kappa", default=0.0),), target=Target("braintrace", "EProp"),
          traits=OnlineAlgorithm((("kappa", "kappa_filter_decay"),), ("kappa",), "one trace per weight"),
          doc="e-prop (Bellec et al. 2020): a trace per weight, the diagonal of each population's state "
              "Jacobian, times the loss's derivative at the same step; kappa low-pass filters the traces"),
    Entry("ostl", target=Target("braintrace", "OSTLRecurrent"),
          traits=OnlineAlgorithm(state="one trace per weight"),
          doc="OSTL (Bohnstingl et al. 2023), with-H regime: e-prop's trace with the coupling through "
              "traced recurrent weights kept in the state Jacobian"),
    Entry("pp_prop", (P("decay", default=0.9),), target=Target("braintrace", "pp_prop"),
          traits=OnlineAlgorithm((("decay", "decay_or_rank"),), ("decay",), "one trace per input and per output"),
          doc="ES-D-RTRL (pp_prop): the trace of a weight factored into a presynaptic trace (decay in [0, 1)) "
              "and a postsynaptic one; memory O(inputs + outputs), not O(weights)"),
))

LOOPS = Registry("loop policy", "SNN214", (
    Entry("bptt", doc="backpropagation through time over one scan of the network's step", needs=("lower",),
          traits=LoopPolicy()),
    Entry("checkpointed", (P("base", "int", default=16),),
          doc="checkpointed BPTT: segments of ~sqrt(T) steps (at least base) under checkpoint; memory ~ sqrt(T), "
              "one extra forward pass", needs=("lower",), traits=LoopPolicy()),
    Entry("truncated", (P("window", "int"),),
          doc="truncated BPTT: the loss and an update every `window` steps, gradients stopped between windows, "
              "the state carried on; memory ~ window", needs=("lower",), traits=LoopPolicy(window="window")),
    Entry("online", (P("algorithm", "call:online"), P("window", "int", default=None)),
          doc="online learning (braintrace): per-step losses, gradients from eligibility traces carried forward "
              "in time, an update every `window` steps (default: once per sequence); memory independent of T",
          needs=("lower",), traits=LoopPolicy(window="window", online=True)),
))

#: Train-block settings and the kind of value each takes.
SETTINGS: dict[str, str] = {
    "data": "call:data", "loss": "loss", "optimizer": "call:optimizer", "loop": "call:loop",
    "epochs": "int", "batch": "int", "seed": "int", "devices": "devices",
}
