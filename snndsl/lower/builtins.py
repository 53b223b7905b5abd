"""The lowering hooks of registry entries: how each integration method, connectivity rule, synaptic output,
encoder, loss and loop policy becomes code in the emitted module.

Each function implements one hook (``Registry.implement``); the lowering calls ``entry.hook("lower")`` and
never branches on an entry's name. Entries that lower to a library class need no hook: their
:class:`~snndsl.registry.Target` is called with their arguments (:func:`snndsl.lower.exprs.target_call`).

The signature of a hook is fixed per registry (every entry of the registry is called the same way):

* integrators ``(system) -> statements``: in :mod:`snndsl.lower.odesystem`, with the ODE system they act on;
* connectivity ``(net, projection) -> expr``: the weight module, a ``bs.nn.Module`` mapping the source's
  output ``[..., n_pre]`` to the weighted input ``[..., n_post]``;
* outputs ``(spec, g, v) -> expr``: the input at the port from the synapse output ``g`` (``[B, n_post]``)
  and, for outputs that use the membrane, the membrane potential ``v`` of the step being integrated;
* encoders ``(spec, shape, dt, drawn) -> expr``: this step's value of a generated input, ``shape`` being
  ``(size,)`` or ``(batch, size)``; ``drawn`` maps the argument an encoder draws per channel (trait
  ``per_channel``), when it is an initialiser, to the expression holding the values drawn at construction;
* losses ``(loss, e, ctx) -> expr``: the scalar loss of the call ``e`` on one batch
  (:class:`~snndsl.lower.trainer.LossLowering` reads its operands in context ``ctx``);
* loop policies ``(loop, hoisted) -> kwargs``: the keyword arguments of the prelude's ``_loop``.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from snndsl import units as u
from snndsl import ir
from snndsl.lower import emit as E
from snndsl.lower.exprs import init_expr, value_expr, weight_init
from snndsl.registry import CONNECTIVITY, ENCODERS, LOOPS, LOSSES, OUTPUTS

if TYPE_CHECKING:  # pragma: no cover
    from snndsl.lower.trainer import LossLowering


# ---------------------------------------------------------------- connectivity: the weight module
def _seed(net: ir.Network, pr: ir.Projection) -> int:
    """The random seed of a projection's connectivity: its ``seed`` argument, else its index in ``net``."""
    seed = pr.conn.arg("seed")
    return net.projections.index(pr) if seed is None else seed


@CONNECTIVITY.implement("lower", "dense", "all_to_all", "fixed_prob")
def _linear(net: ir.Network, pr: ir.Projection, traced: bool = False) -> ast.expr:
    """``bs.nn.Linear(pre, post)``: y = x W + b; ``masked`` storage multiplies W by a fixed 0/1 mask;
    ``sparse`` storage keeps only the connected pairs (event-driven from a spiking source). ``traced``:
    ``braintrace.nn.Linear``, the same layer with x W + b as braintrace's ``matmul``, which online learning
    algorithms trace (dense and masked storage only: the checks reject the others under online learning)."""
    pre, post = net.node(pr.pre), net.node(pr.post)
    w, b = pr.conn.arg("w"), pr.conn.arg("b")
    if pr.facts.storage == "sparse":
        return E.call("_EventProb" if pr.facts.event_source else "_SparseProb", E.const(pre.size),
                      E.const(post.size), E.const(float(pr.conn.arg("p"))), weight_init(w),
                      E.const(_seed(net, pr)))
    kwargs = {"w_init": weight_init(w), "b_init": init_expr(b) if b is not None else E.const(None)}
    if pr.facts.storage == "masked":
        kwargs["w_mask"] = E.call("_fixed_prob_mask", E.const(pre.size), E.const(post.size),
                                  E.const(float(pr.conn.arg("p"))), E.const(_seed(net, pr)))
    linear = E.attr("braintrace", "nn", "Linear") if traced else E.attr("bs", "nn", "Linear")
    return E.call(linear, E.const(pre.size), E.const(post.size), **kwargs)


@CONNECTIVITY.implement("lower", "one_to_one")
def _one_to_one(net: ir.Network, pr: ir.Projection, traced: bool = False) -> ast.expr:
    """y_i = w_i x_i (the ``_OneToOne`` helper); ``traced`` does not apply: online learning refuses it (SNN604)."""
    return E.call("_OneToOne", E.const(net.node(pr.post).size), weight_init(pr.conn.arg("w")))


# ---------------------------------------------------------------- synaptic outputs: the input at a port
@OUTPUTS.implement("lower", "current")
def _current(spec: ir.Spec | None, g: ast.expr, v: ast.expr | None) -> ast.expr:
    """I = g: the synapse output (or the weighted input, without a synapse) is the current itself; ``spec``
    may be ``None`` (the default output) and ``v`` is unused."""
    return g


@OUTPUTS.implement("lower", "conductance")
def _conductance(spec: ir.Spec, g: ast.expr, v: ast.expr) -> ast.expr:
    """I = g (E - V), with the membrane potential V of the step being integrated.

    ``v`` is the argument of the port's function ``def pop_port(V): ...`` that the network passes to the
    neuron's ``update``; the model evaluates it inside dV/dt, so exponential Euler sees -g in its Jacobian.
    """
    return E.binop("*", g, E.binop("-", value_expr(spec.arg("E")), v))


# ---------------------------------------------------------------- encoders: an input's value this step
@ENCODERS.implement("lower", "poisson")
def _poisson(spec: ir.Spec, shape: ast.expr, dt: ast.expr, drawn: dict | None = None) -> ast.expr:
    """Independent Bernoulli draws with probability p = rate x dt each step: ``rand(*shape) < p``, a boolean
    array of ``shape`` (a Poisson process at ``rate`` while p << 1). ``rate`` is a constant, or with an
    initialiser one rate per channel (``[size]``, drawn when the network was built, ``drawn["rate"]``)."""
    rate = (drawn or {}).get("rate")
    p = E.binop("*", rate if rate is not None else value_expr(spec.arg("rate")), dt)
    return ast.Compare(E.call(E.attr("bs", "random", "rand"), ast.Starred(shape, ast.Load())), [ast.Lt()], [p])


@ENCODERS.implement("lower", "constant")
def _constant(spec: ir.Spec, shape: ast.expr, dt: ast.expr, drawn: dict | None = None) -> ast.expr:
    """The same value every step: ``value * ones(shape)`` (in the value's unit)."""
    return E.binop("*", value_expr(spec.arg("value")), E.call(E.attr("jnp", "ones"), shape))


# timed encoders (trait ``uses_time``) read ``_t``, the time at the start of the step, t = i dt
def _time(value) -> ast.expr:
    """A time argument: a Quantity as written, a plain number (a registry default such as 0) in ms."""
    return value_expr(value if isinstance(value, u.Quantity) else u.Quantity(float(value), u.ms))


def _in_window(start: ast.expr, stop: ast.expr | None) -> ast.expr:
    """``logical_and(start <= _t, _t < stop)`` (without ``stop``: ``start <= _t``), a boolean of the step's time."""
    after = ast.Compare(start, [ast.LtE()], [E.name("_t")])
    if stop is None:
        return after
    return E.call(E.attr("jnp", "logical_and"), after, ast.Compare(E.name("_t"), [ast.Lt()], [stop]))


def _timed(value: ast.expr, inside: ast.expr, shape: ast.expr) -> ast.expr:
    """``where(inside, value, 0) * ones(shape)``: the value inside the window, 0 (in its unit) outside."""
    chosen = E.call(E.attr("u", "math", "where"), inside, value, E.binop("*", E.const(0.0), value))
    return E.binop("*", chosen, E.call(E.attr("jnp", "ones"), shape))


@ENCODERS.implement("lower", "step")
def _step(spec: ir.Spec, shape: ast.expr, dt: ast.expr, drawn: dict | None = None) -> ast.expr:
    """A current step: I(t) = amplitude for start <= t < stop (no ``stop``: until the end), else 0, every
    channel alike."""
    stop = spec.arg("stop")
    window = _in_window(_time(spec.arg("start")), _time(stop) if stop is not None else None)
    return _timed(value_expr(spec.arg("amplitude")), window, shape)


@ENCODERS.implement("lower", "ramp")
def _ramp(spec: ir.Spec, shape: ast.expr, dt: ast.expr, drawn: dict | None = None) -> ast.expr:
    """A ramp (brainpy.state's ``RampInput``): I(t) = c_start + (c_end - c_start) (t - t_start) / duration
    for t_start <= t < t_start + duration, else 0."""
    start, duration = _time(spec.arg("t_start")), _time(spec.arg("duration"))
    c0, c1 = value_expr(spec.arg("c_start")), value_expr(spec.arg("c_end"))
    frac = E.binop("/", E.binop("-", E.name("_t"), start), duration)
    value = E.binop("+", c0, E.binop("*", E.binop("-", c1, c0), frac))
    return _timed(value, _in_window(start, E.binop("+", _time(spec.arg("t_start")), duration)), shape)


@ENCODERS.implement("lower", "sine")
def _sine(spec: ir.Spec, shape: ast.expr, dt: ast.expr, drawn: dict | None = None) -> ast.expr:
    """A sinusoid: I(t) = offset + amplitude sin(2 pi f t + phase) (phase in radians, offset default 0),
    for all t >= 0."""
    amp = value_expr(spec.arg("amplitude"))
    angle = E.binop("+", E.binop("*", E.binop("*", E.const(2 * 3.141592653589793), value_expr(spec.arg("frequency"))),
                                  E.name("_t")), E.const(float(spec.arg("phase"))))
    value = E.binop("*", amp, E.call(E.attr("u", "math", "sin"), angle))
    if spec.arg("offset") is not None:
        value = E.binop("+", value_expr(spec.arg("offset")), value)
    return E.binop("*", value, E.call(E.attr("jnp", "ones"), shape))


# ---------------------------------------------------------------- losses
def _softmax_ce(loss: "LossLowering", pred: ast.expr, label: ast.expr) -> ast.expr:
    """mean_b -log softmax(pred_b)[label_b]; ``pred`` ``[B, classes]`` is kept as ``prediction`` (accuracy is
    judged on it), ``label`` ``[B]`` integers."""
    loss.stmts.append(E.assign("prediction", pred))
    loss.prediction = E.name("prediction")
    ce = E.call(E.attr("bt", "metric", "softmax_cross_entropy_with_integer_labels"), loss.prediction, label)
    return E.call(E.attr(ce, "mean"))


@LOSSES.implement("lower", "cross_entropy")
def _cross_entropy(loss: "LossLowering", e: ir.Func, ctx: str) -> ast.expr:
    """mean over the batch of -log softmax(prediction)[label]: softmax_k(z) = e^{z_k} / sum_j e^{z_j} of the
    prediction ``[B, classes]`` (already reduced over time), ``label`` ``[B]`` class indices."""
    return _softmax_ce(loss, loss.ex(e.args[0], ctx), loss.ex(e.args[1], ctx))


@LOSSES.implement("lower", "spike_count_cross_entropy")
def _spike_count_cross_entropy(loss: "LossLowering", e: ir.Func, ctx: str) -> ast.expr:
    """Cross-entropy with the spike counts (spikes summed over time) as the logits: z_bk = sum_t s_tbk, then
    as :func:`_cross_entropy` (the sum is a running value of the time loop)."""
    return _softmax_ce(loss, loss.over_time("sum", e.args[0], ctx), loss.ex(e.args[1], ctx))


@LOSSES.implement("lower", "mse")
def _mse(loss: "LossLowering", e: ir.Func, ctx: str) -> ast.expr:
    """mean((prediction - target)^2) over every element, on plain numbers (units dropped), so ``prediction``
    ``[B, N]`` (or ``[T, B, N]`` for a sequence) and ``target`` must broadcast."""
    diff = E.binop("-", loss.plain(loss.ex(e.args[0], ctx)), loss.ex(e.args[1], ctx))
    return E.call(E.attr("jnp", "mean"), E.binop("^", diff, E.const(2)))


@LOSSES.implement("lower", "rate_reg")
def _rate_reg(loss: "LossLowering", e: ir.Func, ctx: str) -> ast.expr:
    """mean((r - target)^2), r the firing rate in Hz (mean spikes per step / dt in seconds).

    r_bn = (1/T sum_t s_tbn) / dt per neuron and sample, the target a constant in Hz (0 by default); the
    mean is over samples and neurons.
    """
    rate = E.binop("/", loss.over_time("mean", e.args[0], ctx),
                   E.call(E.attr("u", "get_magnitude"), E.call(E.attr("net", "dt", "to_decimal"),
                                                               E.attr("u", "second"))))
    target = e.args[1].value if isinstance(e.args[1], ir.Const) else 0.0
    hz = float(target.to_decimal(u.Hz)) if isinstance(target, u.Quantity) else float(target)
    return E.call(E.attr("jnp", "mean"), E.binop("^", E.binop("-", rate, E.const(hz)), E.const(2)))


# ---------------------------------------------------------------- loop policies: arguments of `_loop`
@LOOPS.implement("lower", "bptt")
def _bptt(loop: ir.Spec, hoisted: bool) -> dict[str, ast.expr]:
    """One scan over every step; backpropagation keeps every step's residuals (memory ~ T). No arguments:
    ``_loop`` runs ``segment=None``, ``project=None``."""
    return {}


@LOOPS.implement("lower", "truncated", "online")
def _windowed(loop: ir.Spec, hoisted: bool) -> dict[str, ast.expr]:
    """One scan over the steps it is given: a window of steps for truncated BPTT, and the whole sequence in
    evaluation (the train step of ``online`` does not use ``loss_fn``)."""
    return {}


@LOOPS.implement("lower", "checkpointed")
def _checkpointed(loop: ir.Spec, hoisted: bool) -> dict[str, ast.expr]:
    """Segments of ~sqrt(T) steps (at least ``base``) under checkpoint: memory ~ T/s + s steps, one extra
    forward pass; a segment's input weights are applied in one product when they depend on the data alone."""
    kwargs = {"segment": E.const(loop.arg("base"))}
    if hoisted:
        kwargs["project"] = E.attr("net", "project")
    return kwargs

