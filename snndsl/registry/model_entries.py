"""Entries used inside models and networks: surrogates, initialisers, integration methods, connectivity,
synaptic outputs, input kinds, encoders and the math functions of equations.

Each registry, with the code an unknown name is reported under, its traits and its hooks:

* :data:`SURROGATES` (SNN205): ``braintools.surrogate`` classes, called with their arguments; no traits.
* :data:`INITIALISERS` (SNN206): ``braintools.init`` classes; :class:`Distribution` for random ones.
* :data:`INTEGRATORS` (SNN215): :class:`Integrator`; hook ``lower`` (one step of a model's ODE system).
* :data:`CONNECTIVITY` (SNN212): :class:`Connectivity`; hook ``lower`` (the weight module).
* :data:`OUTPUTS` (SNN222): :class:`Output`; hook ``lower`` (the input at the port).
* :data:`INPUT_KINDS` (SNN217): :class:`InputKind`; no hooks.
* :data:`ENCODERS` (SNN217): :class:`Encoder`; hook ``lower`` (network inputs) or ``encode`` (data sets,
  :mod:`snndsl.runtime.data`).
* :data:`FUNCTIONS` (SNN218): :class:`MathFunction`, which also carries how to fold it on constants.

The ``lower`` hooks live in :mod:`snndsl.lower.builtins`, whose docstring gives each registry's hook
signature.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import attrs

from snndsl.units import functions
from snndsl.units.quantity import Quantity
from snndsl.registry.core import Entry, Param, Registry, Target

P = Param


def _lib(module: str, path: str, name: str, *params: Param, doc: str = "") -> Entry:
    """An entry that lowers to a library class called with its parameters."""
    return Entry(name, tuple(params), doc, target=Target(module, path))


def _hooked(name: str, *params: Param, needs: tuple[str, ...] = ("lower",), doc: str = "", traits: Any = None,
            target: Target | None = None) -> Entry:
    """An entry whose behaviour a later phase implements (the hooks in ``needs``)."""
    return Entry(name, tuple(params), doc, target=target, traits=traits, needs=needs)


# ---------------------------------------------------------------- surrogate gradients (braintools.surrogate)
def _sg(name: str, cls: str, *params: Param) -> Entry:
    """A surrogate entry: ``name(params)`` lowers to ``braintools.surrogate.<cls>(params)``."""
    return _lib("braintools", f"surrogate.{cls}", name, *params)


SURROGATES = Registry("surrogate", "SNN205", (
    _sg("sigmoid", "Sigmoid", P("alpha", default=4.0)),
    _sg("relu_grad", "ReluGrad", P("alpha", default=0.3), P("width", default=1.0)),
    _sg("gaussian_grad", "GaussianGrad", P("sigma", default=0.5), P("alpha", default=0.5)),
    _sg("multi_gaussian_grad", "MultiGaussianGrad", P("h", default=0.15), P("s", default=6.0),
        P("sigma", default=0.5), P("scale", default=0.5)),
    _sg("arctan", "Arctan", P("alpha", default=1.0)),
    _sg("erf", "ERF", P("alpha", default=1.0)),
    _sg("inv_square_grad", "InvSquareGrad", P("alpha", default=100.0)),
    _sg("leaky_relu", "LeakyRelu", P("alpha", default=0.1), P("beta", default=1.0)),
    _sg("log_tailed_relu", "LogTailedRelu", P("alpha", default=0.0)),
    _sg("nonzero_sign_log", "NonzeroSignLog", P("alpha", default=1.0)),
    _sg("piecewise_exp", "PiecewiseExp", P("alpha", default=1.0)),
    _sg("piecewise_leaky_relu", "PiecewiseLeakyRelu", P("c", default=0.01), P("w", default=1.0)),
    _sg("piecewise_quadratic", "PiecewiseQuadratic", P("alpha", default=1.0)),
    _sg("q_pseudo_spike", "QPseudoSpike", P("alpha", default=2.0)),
    _sg("s2nn", "S2NN", P("alpha", default=4.0), P("beta", default=1.0), P("epsilon", default=1e-8)),
    _sg("slayer_grad", "SlayerGrad", P("alpha", default=1.0)),
    _sg("soft_sign", "SoftSign", P("alpha", default=1.0)),
    _sg("squarewave_fourier_series", "SquarewaveFourierSeries", P("n", "int", default=2),
        P("t_period", default=8.0)),
))


# ---------------------------------------------------------------- initialisers (braintools.init)
@attrs.frozen
class Distribution:
    """A random initialiser's arguments, for the checks: ``spread`` (a location and a scale that must be
    positive, e.g. mean and std) or ``range`` (low < high); ``bounds`` are further arguments in the same unit."""

    kind: str = attrs.field(validator=attrs.validators.in_(("spread", "range")))
    first: str
    second: str
    bounds: tuple[str, ...] = ()


def _init(name: str, cls: str, *params: Param, doc: str = "", traits: Distribution | None = None) -> Entry:
    """An initialiser entry lowering to ``braintools.init.<cls>``; ``traits`` for the checks."""
    return Entry(name, tuple(params), doc, target=Target("braintools", f"init.{cls}"), traits=traits)


_SCALE_UNIT = (P("unit", "unit", default=None), P("scale", default=1.0))
INITIALISERS = Registry("initialiser", "SNN206", (
    _init("kaiming_normal", "KaimingNormal", P("unit", "unit", default=None), P("scale", default=None),
          doc="He normal, fan-in, ReLU gain"),
    _init("kaiming_uniform", "KaimingUniform", P("unit", "unit", default=None), P("scale", default=None)),
    _init("xavier_normal", "XavierNormal", *_SCALE_UNIT),
    _init("xavier_uniform", "XavierUniform", *_SCALE_UNIT),
    _init("lecun_normal", "LecunNormal", *_SCALE_UNIT),
    _init("orthogonal", "Orthogonal", *_SCALE_UNIT),
    _init("normal", "Normal", P("mean", "quantity", unit="any"), P("std", "quantity", unit="any"),
          traits=Distribution("spread", "mean", "std")),
    _init("truncated_normal", "TruncatedNormal", P("mean", "quantity", unit="any"),
          P("std", "quantity", unit="any"), P("low", "quantity", None, "any"), P("high", "quantity", None, "any"),
          traits=Distribution("spread", "mean", "std", ("low", "high"))),
    _init("uniform", "Uniform", P("low", "quantity", unit="any"), P("high", "quantity", unit="any"),
          traits=Distribution("range", "low", "high")),
    _init("constant", "Constant", P("value", "quantity", unit="any")),
    _init("zeros", "ZeroInit", P("unit", "unit", default=None)),
))

# ---------------------------------------------------------------- integrators (hook `lower`: one step of a system)
@attrs.frozen
class Integrator:
    """Facts about an integration method of a model's ODE system dx/dt = f(x) (x every state with an ODE).

    ``linear_only``: the method is defined only for systems linear in their states, dx/dt = A x + b with A
    and b free of the states (checked, SNN309); ``exact`` is, and integrates them with the propagator
    e^{A dt}. ``sequential``: the ODEs are integrated one after another in declaration order, each seeing
    the states already updated this step (brainpy.state's order); otherwise every right-hand side is
    evaluated from the same old state (the system is integrated simultaneously). ``fuses``: a linear
    current synapse projecting into a population with this method is integrated jointly with it, as one
    linear system (see docs/architecture.md, "ODE systems").
    """

    linear_only: bool = False
    sequential: bool = False
    fuses: bool = False


INTEGRATORS = Registry("integration method", "SNN215", (
    _hooked("exp_euler", doc="exponential Euler per variable, all ODEs from the same old state (the default)",
            target=Target("brainstate", "nn.exp_euler_step"), traits=Integrator()),
    _hooked("exp_euler_sequential", doc="exponential Euler per variable in declaration order, each ODE seeing "
            "the states updated before it (brainpy.state)", target=Target("brainstate", "nn.exp_euler_step"),
            traits=Integrator(sequential=True)),
    _hooked("exact", doc="exact propagator e^{A dt} of a linear system (inputs held over the step)",
            target=Target("jax", "scipy.linalg.expm"), traits=Integrator(linear_only=True, fuses=True)),
    _hooked("euler", doc="forward Euler", traits=Integrator()),
    _hooked("rk4", doc="classical Runge-Kutta, 4th order, on the whole state vector", traits=Integrator()),
))


# ---------------------------------------------------------------- connectivity, outputs, encoders
@attrs.frozen
class Connectivity:
    """Facts about a connectivity rule: ``storage(n_pre, n_post, p)`` says how its weights are stored
    (``dense``, ``masked`` dense, ``sparse`` pairs, or ``diagonal``), which decides the helpers it needs;
    ``same_size``: pre and post must have the same size (checked, SNN402); ``drawn``: the rule draws which
    pairs connect, so its weight cannot be an explicit matrix (SNN278)."""

    storage: Callable[[int, int, float | None], str]
    same_size: bool = False
    drawn: bool = False


#: fixed_prob projections with more possible pairs than this are stored sparsely (smaller ones as a masked
#: dense matrix, which is faster at that size).
SPARSE_ABOVE = 250_000


def _fixed_prob_storage(n_pre: int, n_post: int, p: float | None) -> str:
    """``sparse`` above :data:`SPARSE_ABOVE` possible pairs, else ``masked`` (whatever ``p``)."""
    return "sparse" if n_pre * n_post > SPARSE_ABOVE else "masked"


_DENSE = Connectivity(lambda n_pre, n_post, p: "dense")
CONNECTIVITY = Registry("connectivity", "SNN212", (
    _hooked("dense", P("w", "init"), P("b", "init", default=None), traits=_DENSE,
            target=Target("brainstate", "nn.Linear"), doc="every pre to every post, one weight each"),
    _hooked("all_to_all", P("w", "init"), P("b", "init", default=None), traits=_DENSE,
            target=Target("brainstate", "nn.Linear"), doc="the same as dense"),
    _hooked("one_to_one", P("w", "init"), traits=Connectivity(lambda n_pre, n_post, p: "diagonal", same_size=True),
            doc="pre i to post i, one weight each"),
    _hooked("fixed_prob", P("p"), P("w", "init"), P("seed", "int", default=None),
            traits=Connectivity(_fixed_prob_storage, drawn=True),
            doc="each pre-post pair connected with probability p (seed: default the projection's index)"),
))


@attrs.frozen
class Output:
    """How a synapse output enters a port. ``scales_by``: the parameter whose unit multiplies the output's
    unit at the port (the reversal potential of a conductance), or ``None`` when it is delivered as it is;
    ``uses_membrane``: the input depends on the membrane potential (evaluated inside dV/dt, so it enters
    the integration's Jacobian); ``linear``: the input is linear in the synapse output g (g, g (E - V)),
    so synapses of one model delivering through this output to one port may be summed before it (the
    ``merged_synapses`` lowering pass)."""

    scales_by: str | None = None
    uses_membrane: bool = False
    linear: bool = True


OUTPUTS = Registry("synaptic output", "SNN222", (
    _hooked("current", traits=Output(), doc="the synapse output is a current"),
    _hooked("conductance", P("E", "quantity", unit="mV"), traits=Output(scales_by="E", uses_membrane=True),
            doc="g (E - V): the synapse output is a conductance with reversal potential E"),
))


@attrs.frozen
class InputKind:
    """``spiking``: the input's values are 0/1 spikes (projections from it can be event-driven; they carry
    no unit). ``encoders``: the encoders that may generate such an input inside the network."""

    spiking: bool
    encoders: tuple[str, ...]


INPUT_KINDS = Registry("input kind", "SNN217", (
    Entry("spikes", doc="0/1 spikes, one channel per neuron", traits=InputKind(spiking=True, encoders=("poisson",))),
    Entry("current", doc="an injected current (give its unit)",
          traits=InputKind(spiking=False, encoders=("constant", "step", "ramp", "sine"))),
))


@attrs.frozen
class Encoder:
    """Where an encoder is used: ``network`` (an input's source, hook ``lower``) or ``data`` (a data set's
    encoding, hook ``encode``). Resolution rejects an encoder in the wrong place (SNN217). ``fits``: the
    arguments that must have the generated input's unit (SNN305); ``uses_time``: its value depends on the
    simulated time, so its hook reads the step's time ``_t`` (t = i dt at the start of step i);
    ``per_channel``: ``(argument, unit)`` of the argument that may be an initialiser (``uniform(10 Hz, 20
    Hz)``), drawn once per channel when the network is built (its dimension checked, SNN305)."""

    where: str = attrs.field(validator=attrs.validators.in_(("network", "data")))
    fits: tuple[str, ...] = ()
    uses_time: bool = False
    per_channel: tuple[str, str] | None = None


ENCODERS = Registry("encoder", "SNN217", (
    _hooked("poisson", P("rate", "init"), traits=Encoder("network", per_channel=("rate", "Hz")),
            doc="independent Poisson spikes at a fixed rate, or one rate per channel (drawn from an "
                "initialiser, or an array)"),
    _hooked("constant", P("value", "quantity", unit="any"), traits=Encoder("network", fits=("value",)),
            doc="the same value every step"),
    _hooked("step", P("amplitude", "quantity", unit="any"), P("start", "quantity", 0.0, "ms"),
            P("stop", "quantity", None, "ms"), traits=Encoder("network", fits=("amplitude",), uses_time=True),
            doc="amplitude for start <= t < stop (stop: default never), else 0"),
    _hooked("ramp", P("c_start", "quantity", unit="any"), P("c_end", "quantity", unit="any"),
            P("duration", "quantity", unit="ms"), P("t_start", "quantity", 0.0, "ms"),
            traits=Encoder("network", fits=("c_start", "c_end"), uses_time=True),
            doc="linear from c_start at t_start to c_end at t_start + duration, else 0 (brainpy's RampInput)"),
    _hooked("sine", P("amplitude", "quantity", unit="any"), P("frequency", "quantity", unit="Hz"),
            P("phase", default=0.0), P("offset", "quantity", None, "any"),
            traits=Encoder("network", fits=("amplitude", "offset"), uses_time=True),
            doc="offset + amplitude sin(2 pi frequency t + phase), phase in radians"),
    _hooked("rate", P("max_rate", "quantity", unit="Hz"), traits=Encoder("data"), needs=("encode",),
            doc="data in [0, 1] as Poisson spikes at up to max_rate"),
    _hooked("latency", P("tau", "quantity", unit="ms", default=None), traits=Encoder("data"), needs=("encode",),
            doc="data in [0, 1] as one spike each, stronger inputs earlier"),
))


# ---------------------------------------------------------------- math in equations
@attrs.frozen
class MathFunction:
    """A function usable in equations.

    ``arity``: (fewest, most) arguments. ``rule``: ``dimensionless`` (arguments and result are plain numbers),
    ``same`` (the arguments share a unit, the result has it), ``sqrt`` (the result's unit is the square root
    of the argument's), ``select`` (the first argument is a bool switch, the other two share a unit, the
    result has it) or ``any`` (an argument of any unit, a dimensionless result: ``heaviside``). ``fold``
    computes it on constants while checking (NaN, never an exception, where undefined; for ``any`` on the
    argument's number, which has the sign of the quantity); ``target`` is what the emitted module calls,
    with the constants ``extra`` appended to the arguments (``heaviside(x)`` → ``u.math.heaviside(x, 1.0)``,
    the value at 0). ``bounds``: the arguments after the first are bounds of it (``clip``), so a plain 0
    among them fits any unit (plasticity handlers, SNN245).
    """

    arity: tuple[int, int]
    rule: str = attrs.field(validator=attrs.validators.in_(("dimensionless", "same", "sqrt", "select", "any")))
    fold: Callable[..., Any]
    target: Target
    bounds: bool = False
    extra: tuple[float, ...] = ()


def _safe(f: Callable[..., float]) -> Callable[..., float]:
    """``f`` returning NaN where Python's math raises (overflow, domain, division by zero), as JAX does."""
    def g(*xs: float) -> float:
        """``f(*xs)``, or NaN where it raises."""
        try:
            return f(*xs)
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.nan
    return g


def _u(name: str) -> Callable[..., Any]:
    """The unit-aware fold ``name`` of :mod:`snndsl.units.functions` (brainunit.math's rules, no JAX)."""
    return getattr(functions, name)


def _sqrt(x: Any) -> Any:
    """Fold ``sqrt``: of a Quantity in its unit's square root, of a number as sqrt(|x|) (only the unit matters
    while checking; a negative constant gives no error here)."""
    return functions.sqrt(x) if isinstance(x, Quantity) else math.sqrt(abs(float(x)))


def _fn(name: str, arity: tuple[int, int], rule: str, fold: Callable[..., Any], target: Target, doc: str,
        bounds: bool = False, extra: tuple[float, ...] = ()) -> Entry:
    """A math function entry (see :class:`MathFunction` for ``arity``, ``rule``, ``fold``, ``target``,
    ``bounds``, ``extra``)."""
    return Entry(name, doc=doc, traits=MathFunction(arity, rule, fold, target, bounds, extra), target=target)


def _um(name: str) -> Target:
    """The target ``brainunit.math.<name>`` (unit-aware, so a dimensioned argument keeps its unit)."""
    return Target("brainunit", f"math.{name}")


FUNCTIONS = Registry("function", "SNN218", (
    _fn("exp", (1, 1), "dimensionless", _safe(math.exp), _um("exp"), "e^x"),
    _fn("log", (1, 1), "dimensionless", _safe(lambda x: math.log(x) if x > 0 else math.nan), _um("log"),
        "natural logarithm"),
    _fn("exprel", (1, 1), "dimensionless", _safe(lambda x: 1.0 if x == 0 else math.expm1(x) / x), _um("exprel"),
        "(e^x - 1) / x, 1 at 0 (rate functions of Hodgkin-Huxley models)"),
    _fn("tanh", (1, 1), "dimensionless", math.tanh, _um("tanh"), "hyperbolic tangent"),
    _fn("sin", (1, 1), "dimensionless", math.sin, _um("sin"), "sine"),
    _fn("cos", (1, 1), "dimensionless", math.cos, _um("cos"), "cosine"),
    _fn("sigmoid", (1, 1), "dimensionless", _safe(lambda x: 1.0 / (1.0 + math.exp(-x))),
        Target("jax", "nn.sigmoid"), "1 / (1 + e^-x)"),
    _fn("abs", (1, 1), "same", abs, _um("abs"), "|x|"),
    _fn("min", (2, 2), "same", _u("minimum"), _um("minimum"), "the smaller of two values"),
    _fn("max", (2, 2), "same", _u("maximum"), _um("maximum"), "the larger of two values"),
    _fn("clip", (3, 3), "same", _u("clip"), _um("clip"), "clip(x, low, high)", bounds=True),
    _fn("sqrt", (1, 1), "sqrt", _sqrt, _um("sqrt"), "square root (of a quantity: the unit's square root)"),
    _fn("select", (3, 3), "select", lambda c, a, b: a if c else b, _um("where"),
        "select(switch, a, b): a where the bool parameter switch is true, else b"),
    _fn("heaviside", (1, 1), "any", lambda x: 1.0 if x >= 0 else (math.nan if x != x else 0.0),
        _um("heaviside"), "H(x) = 1 for x >= 0, else 0 (x of any unit; a step, not linear, zero gradient)",
        extra=(1.0,)),
))
