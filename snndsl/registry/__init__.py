"""Name → entry tables for everything a model names but does not define.

Surrogates, initialisers, integrators, connectivity rules, synaptic outputs, encoders, data sources, losses,
reductions, regularisers, optimizers, learning-rate schedules and loop policies are looked up here, never
through ``if``/``elif`` chains. Each :class:`Entry` lists its parameters (:class:`Param`) so the resolver can
bind and unit-check call arguments generically, and names its ``target`` (a dotted path in brainstate or
braintools, or an snndsl lowering) for the lowering phase. The tables are plain data: checking a model
imports no JAX. ``tests/test_registry.py`` keeps them in step with the libraries they name.
"""

from __future__ import annotations

from typing import Any, Iterator

import attrs

REQUIRED = object()  # sentinel: a parameter without default


@attrs.frozen
class Param:
    """One parameter of a registry entry.

    ``kind`` is ``number`` (a dimensionless number), ``int``, ``bool``, ``quantity`` (a value whose dimension
    is ``unit``, a unit name such as ``"mV"``, or ``"any"``), ``unit`` (a unit such as ``mA``), ``string``,
    ``init`` (an initialiser call or a constant quantity), ``lr`` (a number or a schedule call), ``call:X``
    (an entry of registry X) or ``expr`` (an expression left to the lowering, e.g. a loss operand).
    """

    name: str
    kind: str = "number"
    default: Any = REQUIRED
    unit: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@attrs.frozen
class Entry:
    """A named thing the language can call: ``name(params...)`` lowers to ``target``."""

    name: str
    target: str
    params: tuple[Param, ...] = ()
    doc: str = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


class Registry:
    """A table of :class:`Entry` by name; ``what`` names the table in messages, ``code`` is its SNN2xx code."""

    def __init__(self, what: str, code: str, entries: tuple[Entry, ...] = ()):
        self.what, self.code = what, code
        self._entries: dict[str, Entry] = {}
        for e in entries:
            self.register(e)

    def register(self, entry: Entry) -> Entry:
        if entry.name in self._entries:
            raise ValueError(f"{self.what} {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def get(self, name: str) -> Entry | None:
        return self._entries.get(name)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())


def _e(name: str, target: str, *params: Param, doc: str = "") -> Entry:
    return Entry(name, target, tuple(params), doc)


P = Param

# ---------------------------------------------------------------- surrogate gradients (braintools.surrogate)
_SG = "braintools.surrogate."
SURROGATES = Registry("surrogate", "SNN205", (
    _e("sigmoid", _SG + "Sigmoid", P("alpha", default=4.0)),
    _e("relu_grad", _SG + "ReluGrad", P("alpha", default=0.3), P("width", default=1.0)),
    _e("gaussian_grad", _SG + "GaussianGrad", P("sigma", default=0.5), P("alpha", default=0.5)),
    _e("multi_gaussian_grad", _SG + "MultiGaussianGrad", P("h", default=0.15), P("s", default=6.0),
       P("sigma", default=0.5), P("scale", default=0.5)),
    _e("arctan", _SG + "Arctan", P("alpha", default=1.0)),
    _e("erf", _SG + "ERF", P("alpha", default=1.0)),
    _e("inv_square_grad", _SG + "InvSquareGrad", P("alpha", default=100.0)),
    _e("leaky_relu", _SG + "LeakyRelu", P("alpha", default=0.1), P("beta", default=1.0)),
    _e("log_tailed_relu", _SG + "LogTailedRelu", P("alpha", default=0.0)),
    _e("nonzero_sign_log", _SG + "NonzeroSignLog", P("alpha", default=1.0)),
    _e("piecewise_exp", _SG + "PiecewiseExp", P("alpha", default=1.0)),
    _e("piecewise_leaky_relu", _SG + "PiecewiseLeakyRelu", P("c", default=0.01), P("w", default=1.0)),
    _e("piecewise_quadratic", _SG + "PiecewiseQuadratic", P("alpha", default=1.0)),
    _e("q_pseudo_spike", _SG + "QPseudoSpike", P("alpha", default=2.0)),
    _e("s2nn", _SG + "S2NN", P("alpha", default=4.0), P("beta", default=1.0), P("epsilon", default=1e-8)),
    _e("slayer_grad", _SG + "SlayerGrad", P("alpha", default=1.0)),
    _e("soft_sign", _SG + "SoftSign", P("alpha", default=1.0)),
    _e("squarewave_fourier_series", _SG + "SquarewaveFourierSeries", P("n", "int", default=2),
       P("t_period", default=8.0)),
))

# ---------------------------------------------------------------- initialisers (braintools.init)
_IN = "braintools.init."
INITIALISERS = Registry("initialiser", "SNN206", (
    _e("kaiming_normal", _IN + "KaimingNormal", P("unit", "unit", default=None), P("scale", default=None),
       doc="He normal, fan-in, ReLU gain"),
    _e("kaiming_uniform", _IN + "KaimingUniform", P("unit", "unit", default=None), P("scale", default=None)),
    _e("xavier_normal", _IN + "XavierNormal", P("unit", "unit", default=None), P("scale", default=1.0)),
    _e("xavier_uniform", _IN + "XavierUniform", P("unit", "unit", default=None), P("scale", default=1.0)),
    _e("lecun_normal", _IN + "LecunNormal", P("unit", "unit", default=None), P("scale", default=1.0)),
    _e("orthogonal", _IN + "Orthogonal", P("unit", "unit", default=None), P("scale", default=1.0)),
    _e("normal", _IN + "Normal", P("mean", "quantity", unit="any"), P("std", "quantity", unit="any")),
    _e("truncated_normal", _IN + "TruncatedNormal", P("mean", "quantity", unit="any"),
       P("std", "quantity", unit="any"), P("low", "quantity", None, "any"), P("high", "quantity", None, "any")),
    _e("uniform", _IN + "Uniform", P("low", "quantity", unit="any"), P("high", "quantity", unit="any")),
    _e("constant", _IN + "Constant", P("value", "quantity", unit="any")),
    _e("zeros", _IN + "ZeroInit", P("unit", "unit", default=None)),
))

# ---------------------------------------------------------------- integrators
INTEGRATORS = Registry("integration method", "SNN215", (
    _e("exp_euler", "brainstate.nn.exp_euler_step", doc="exponential Euler (the default)"),
    _e("exact", "snndsl.lower.exact", doc="exact propagator of a linear ODE"),
    _e("euler", "snndsl.lower.euler", doc="forward Euler"),
    _e("rk4", "snndsl.lower.rk4", doc="classical Runge-Kutta, 4th order"),
))

# ---------------------------------------------------------------- connectivity, outputs, encoders
CONNECTIVITY = Registry("connectivity", "SNN212", (
    _e("dense", "brainstate.nn.Linear", P("w", "init"), P("b", "init", default=None),
       doc="every pre to every post, one weight each"),
    _e("all_to_all", "brainstate.nn.Linear", P("w", "init"), P("b", "init", default=None)),
    _e("one_to_one", "snndsl.lower.one_to_one", P("w", "init")),
    _e("fixed_prob", "snndsl.lower.fixed_prob", P("p"), P("w", "init"), P("seed", "int", default=None),
       doc="each pre-post pair connected with probability p (seed: default the projection's index)"),
))
OUTPUTS = Registry("synaptic output", "SNN222", (
    _e("current", "snndsl.lower.current_output", doc="the synapse output is a current"),
    _e("conductance", "snndsl.lower.conductance_output", P("E", "quantity", unit="mV"),
       doc="g (E - V): the synapse output is a conductance with reversal potential E"),
))
INPUT_KINDS = Registry("input kind", "SNN217", (
    _e("spikes", "spikes", doc="0/1 spikes, one channel per neuron"),
    _e("current", "current", doc="an injected current (give its unit)"),
))
ENCODERS = Registry("encoder", "SNN217", (
    _e("poisson", "snndsl.lower.poisson", P("rate", "quantity", unit="Hz"),
       doc="independent Poisson spikes at a fixed rate"),
    _e("constant", "snndsl.lower.constant_input", P("value", "quantity", unit="any"),
       doc="the same value every step"),
    _e("rate", "snndsl.lower.rate_encoder", P("max_rate", "quantity", unit="Hz"),
       doc="data in [0, 1] as Poisson spikes at up to max_rate"),
    _e("latency", "snndsl.lower.latency_encoder", P("tau", "quantity", unit="ms", default=None),
       doc="data in [0, 1] as one spike each, stronger inputs earlier"),
))

# ---------------------------------------------------------------- training
DATA = Registry("data source", "SNN216", (
    _e("poisson_patterns", "snndsl.data.poisson_patterns", P("steps", "int"), P("samples", "int"),
       P("rate", "quantity", unit="Hz"), P("classes", "int", default=2)),
    _e("npz", "snndsl.data.npz", P("path", "string"), P("test_path", "string", default=None)),
    _e("digits", "snndsl.data.digits", P("steps", "int"), P("encoding", "call:encoder", default=None),
       P("test_fraction", default=0.25)),
))
LOSSES = Registry("loss", "SNN207", (
    _e("cross_entropy", "braintools.metric.softmax_cross_entropy_with_integer_labels",
       P("prediction", "expr"), P("label", "expr", default="label")),
    _e("mse", "braintools.metric.squared_error", P("prediction", "expr"), P("target", "expr", default="target")),
    _e("spike_count_cross_entropy", "snndsl.lower.spike_count_ce", P("prediction", "expr"),
       P("label", "expr", default="label")),
    _e("rate_reg", "snndsl.lower.rate_reg", P("pop", "expr"), P("target", "quantity", unit="Hz", default=0.0)),
))
REDUCTIONS = Registry("reduction over time", "SNN207", (
    _e("mean", "mean", P("x", "expr"), P("axis", "expr", default="time")),
    _e("max", "max", P("x", "expr"), P("axis", "expr", default="time")),
    _e("sum", "sum", P("x", "expr"), P("axis", "expr", default="time")),
    _e("last", "last", P("x", "expr"), P("axis", "expr", default="time")),
))
SCHEDULES = Registry("learning-rate schedule", "SNN208", (
    _e("exponential_decay", "braintools.optim.ExponentialDecayLR", P("base_lr"), P("decay_steps", "int"),
       P("decay_rate", default=0.96)),
    _e("cosine", "braintools.optim.CosineAnnealingLR", P("base_lr"), P("T_max", "int"), P("eta_min", default=0.0)),
    _e("step", "braintools.optim.StepLR", P("base_lr"), P("step_size", "int"), P("gamma", default=0.1)),
))
_clip = (P("weight_decay", default=0.0), P("grad_clip_norm", default=None), P("grad_clip_value", default=None))
OPTIMIZERS = Registry("optimizer", "SNN208", (
    _e("adam", "braintools.optim.Adam", P("lr", "lr", default=1e-3), P("beta1", default=0.9),
       P("beta2", default=0.999), P("eps", default=1e-8), *_clip),
    _e("adamw", "braintools.optim.AdamW", P("lr", "lr", default=1e-3), P("eps", default=1e-8),
       P("weight_decay", default=0.01), P("grad_clip_norm", default=None), P("grad_clip_value", default=None)),
    _e("sgd", "braintools.optim.SGD", P("lr", "lr", default=1e-3), P("momentum", default=0.0),
       P("nesterov", "bool", default=False), *_clip),
    _e("rmsprop", "braintools.optim.RMSprop", P("lr", "lr", default=1e-2), P("alpha", default=0.99),
       P("momentum", default=0.0), *_clip),
))
LOOPS = Registry("loop policy", "SNN214", (
    _e("bptt", "brainstate.transform.for_loop", doc="backpropagation through time over for_loop"),
    _e("checkpointed", "brainstate.transform.checkpoint", P("base", "int", default=16),
       doc="checkpointed BPTT: segments of ~sqrt(T) steps (at least base) under checkpoint; memory ~ sqrt(T), one extra forward pass"),
))

# ---------------------------------------------------------------- math in equations
#: Functions usable in equations: ``name -> (arity range, rule)``; rule ``dimensionless`` (argument and
#: result dimensionless), ``same`` (all arguments share a unit, the result has it) or ``sqrt``.
FUNCTIONS: dict[str, tuple[tuple[int, int], str]] = {
    "exp": ((1, 1), "dimensionless"), "log": ((1, 1), "dimensionless"), "exprel": ((1, 1), "dimensionless"),
    "tanh": ((1, 1), "dimensionless"), "sin": ((1, 1), "dimensionless"), "cos": ((1, 1), "dimensionless"),
    "sigmoid": ((1, 1), "dimensionless"),
    "abs": ((1, 1), "same"), "min": ((2, 2), "same"), "max": ((2, 2), "same"), "clip": ((3, 3), "same"),
    "sqrt": ((1, 1), "sqrt"),
}

#: Train-block settings and the kind of value each takes.
SETTINGS: dict[str, str] = {
    "data": "call:data", "loss": "loss", "optimizer": "call:optimizer", "loop": "call:loop",
    "epochs": "int", "batch": "int", "seed": "int", "devices": "devices",
}

REGISTRIES: dict[str, Registry] = {
    "surrogate": SURROGATES, "initialiser": INITIALISERS, "integrator": INTEGRATORS,
    "connectivity": CONNECTIVITY, "output": OUTPUTS, "input_kind": INPUT_KINDS, "encoder": ENCODERS,
    "data": DATA, "loss": LOSSES, "reduction": REDUCTIONS, "schedule": SCHEDULES, "optimizer": OPTIMIZERS,
    "loop": LOOPS,
}
