"""A train block → ``make_trainer`` in the emitted module: the loss, and a jitted train step as the loop policy
says (BPTT, checkpointed, truncated BPTT over windows, or an online learner from per-step losses).

The emitted factory has the brainstate shape of the seed tutorial, with its two traps removed: the batch is an
argument of the step (never a constant baked into the compiled program), and states are created outside jit
and only reset inside it (states created inside a jitted function cannot be read afterwards)::

    optimizer, train_step, eval_step = make_trainer(net, batch_size)
    loss, accuracy, finite = train_step(x, y)      # x: [T, B, N] time-major, y: [B] labels or [B, ...] targets
"""

from __future__ import annotations

import ast

from snndsl import ir
from snndsl.lower import emit as E
from snndsl.lower import passes
from snndsl.lower.exprs import function_call, target_call, value_expr
from snndsl.lower.network import NetworkLowering
from snndsl.registry import LOOPS, LOSSES, ONLINE, OPTIMIZERS, REDUCTIONS


def _reduces_over_time(name: str) -> bool:
    """A reduction over time, or a loss that reduces its spiking argument over time itself."""
    return name in REDUCTIONS or (name in LOSSES and LOSSES[name].traits.takes == "spiking")


def _has_reduction(e: ir.Expr) -> bool:
    """Whether ``e`` contains a reduction over time anywhere (see :func:`_reduces_over_time`)."""
    if isinstance(e, ir.Func):
        return _reduces_over_time(e.name) or any(map(_has_reduction, e.args))
    return any(_has_reduction(getattr(e, f)) for f in ("left", "right", "operand") if hasattr(e, f))


class LossLowering:
    """The loss expression → statements computing ``loss`` and the ``prediction`` accuracy is judged on.

    Reductions over time are computed inside the time loop: each becomes a running value in the loop's carry
    (a sum for ``mean``/``sum``, a maximum, the last value), so no step's output is kept for the loss and a
    checkpointed loop stores only the carry at segment boundaries. Only a sequence used without a reduction
    (e.g. ``mse(out, target)`` over every step) is collected, as the loop's stacked output ``seq``.

    ``single_step``: the loss at one step (online learning), every population read as this step's value and
    every reduction over time taken over this step alone: mean, sum, max and last of one value are the value.
    """

    def __init__(self, net: ir.Network, program: ir.Program, single_step: bool = False):
        self.net, self.program, self.single_step = net, program, single_step
        self.sequences: dict[str, ast.expr] = {}   # collected: key -> how to read it each step
        self.reads: dict[str, str] = {}            # key -> local name of this step's value inside `step`
        self.read_exprs: dict[str, ast.expr | None] = {}
        self.running: list[tuple[str, ast.expr, ast.expr, str]] = []   # (kind, step value, initial, what)
        self.prediction: ast.expr | None = None
        self.stmts: list[E.Stmt] = []

    # ------------------------------------------------------------ reads of populations
    def _key(self, name: str, field: str | None) -> str:
        """``pop`` or ``pop.var``: the key of a read in ``reads`` and ``seq``."""
        return name if field is None else f"{name}.{field}"

    def _step_read(self, name: str, field: str | None) -> ast.expr | None:
        """This step's value, read after ``net.update`` (``None``: the network's own output)."""
        if field is not None:
            return E.attr("net", E.py_name(name), E.py_name(field), "value")
        if name in self.net.outputs:
            return None
        return E.call(E.attr("net", E.py_name(name), "output"))

    def _stored_read(self, name: str, field: str | None) -> ast.expr:
        """The same value read from the stored state (before the loop: shapes of the running values)."""
        if field is not None:
            return E.attr("net", E.py_name(name), E.py_name(field), "value")
        return E.call(E.attr("net", E.py_name(name), "output"))

    def read(self, name: str, field: str | None, ctx: str) -> ast.expr:
        """Population ``name``'s output (``field`` ``None``) or its state ``field``, in context ``ctx``.

        ``stored``: read from the module now. ``step``: the local variable of this step's value inside the
        step function (``out`` when it is the network's only output), registered in ``reads``. ``loss``:
        the collected sequence ``seq[key]``, ``[T, B, N]``, registered in ``sequences``.
        """
        key = self._key(name, field)
        if ctx == "stored":
            return self._stored_read(name, field)
        if key not in self.reads:
            single = field is None and list(self.net.outputs) == [name]
            self.reads[key] = "out" if single else f"v{len(self.reads)}"
            self.read_exprs[key] = self._step_read(name, field)
        if ctx == "step":
            return E.name(self.reads[key])
        self.sequences[key] = E.name(self.reads[key])
        return ast.Subscript(E.name("seq"), E.const(key), ast.Load())

    # ------------------------------------------------------------ expressions
    def ex(self, e: ir.Expr, ctx: str = "loss") -> ast.expr:
        """The train-block expression ``e`` as ``ast``, in context ``ctx``: "loss" (after the loop: sequences
        are stacked), "step" (inside the loop: this step's values) or "stored" (before the loop: the stored
        state's values). ``label`` and ``target`` are ``y``; a bare ``time`` raises ``ValueError`` (it is
        only an axis of a reduction; the checks reject it first)."""
        if isinstance(e, ir.Const):
            return value_expr(e.value)
        if isinstance(e, ir.Ref):
            if e.kind == "pop":
                return self.read(e.name, None, ctx)
            if e.name in ("label", "target"):
                return E.name("y")
            raise ValueError("`time` is only an axis of a reduction")
        if isinstance(e, ir.Field):
            return self.read(e.pop, e.var, ctx)
        if isinstance(e, ir.Neg):
            return E.neg(self.ex(e.operand, ctx))
        if isinstance(e, ir.BinOp):
            return E.binop(e.op, self.ex(e.left, ctx), self.ex(e.right, ctx))
        if isinstance(e, ir.Func):
            return self.func(e, ctx)
        raise TypeError(type(e).__name__)

    def over_time(self, kind: str, arg: ir.Expr, ctx: str) -> ast.expr:
        """``kind`` (mean, sum, max, last) of ``arg`` over time: a running value when ``arg`` holds no other
        reduction, else the reduction of the collected sequence.

        Running: ``acc[k]`` of the loop's carry, advanced each step as its :class:`~snndsl.registry.Reduction`
        says (s += x, s = max(s, x) or s = x) and, for ``mean``, divided by T = ``x.shape[0]`` afterwards;
        its value has the shape of one step's ``arg`` (``[B, N]``). Collected: the stacked ``[T, B, N]``
        sequence reduced over axis 0 by the reduction's target, or its last element for ``last``.
        """
        red = REDUCTIONS[kind].traits
        if self.single_step:              # any reduction of a single step is that step's value
            return self.plain(self.ex(arg, ctx))
        if ctx == "loss" and not _has_reduction(arg):
            k = len(self.running)
            self.running.append((red.running, self.plain(self.ex(arg, "step")), self.plain(self.ex(arg, "stored")),
                                 f"{kind} over time"))
            value = ast.Subscript(E.name("acc"), E.const(k), ast.Load())
            if red.divide_by_steps:
                return E.binop("/", value, ast.Subscript(E.attr("x", "shape"), E.const(0), ast.Load()))
            return value
        seq = self.plain(self.ex(arg, ctx))
        if red.target is None:
            return ast.Subscript(seq, E.const(-1), ast.Load())
        return E.call(E.attr(*red.target.parts), seq, axis=E.const(0))

    def func(self, e: ir.Func, ctx: str) -> ast.expr:
        """A reduction over time, a loss (its registry hook), or a math function on plain values."""
        if e.name in REDUCTIONS:
            return self.over_time(e.name, e.args[0], ctx)
        if e.name in LOSSES:
            return LOSSES[e.name].hook("lower")(self, e, ctx)
        return function_call(e.name, [self.ex(a, ctx) for a in e.args])

    @staticmethod
    def plain(x: ast.expr) -> ast.expr:
        """``u.get_mantissa(x)``: the value without its unit (losses are computed on plain numbers)."""
        return E.call(E.attr("u", "get_mantissa"), x)


def show_spec(spec: ir.Spec) -> str:
    """A registry call as the model file would write it, defaults left out when ``None``:
    ``online(eprop(kappa = 0.5), window = 10)``."""
    args = [f"{k} = {show_spec(v) if isinstance(v, ir.Spec) else format(v, 'g') if isinstance(v, float) else v}"
            for k, v in spec.args if v is not None]
    if args and isinstance(spec.args[0][1], ir.Spec):
        args[0] = args[0].split(" = ", 1)[1]        # the leading call is written positionally
    return f"{spec.name}({', '.join(args)})" if args else spec.name


def optimizer_expr(spec: ir.Spec) -> ast.expr:
    """The optimizer's library object, with a schedule as its learning rate where one is given."""
    return target_call(OPTIMIZERS[spec.name], spec)


def _step_body(net: ir.Network, loss: LossLowering, update: ast.expr) -> list[E.Stmt]:
    """One step: ``out = update`` (the network's step), then the locals the loss reads this step."""
    outs = [E.py_name(o) for o in net.outputs]
    body: list[E.Stmt] = [E.assign("out", update)]
    for key, local in loss.reads.items():
        if local == "out":
            continue
        read = loss.read_exprs[key]
        if read is None:
            idx = net.outputs.index(key)
            read = E.name("out") if len(outs) == 1 else ast.Subscript(E.name("out"), E.const(idx), ast.Load())
        body.append(E.assign(local, read))
    return body


def _loss_def(program: ir.Program, net: ir.Network, train: ir.Train) -> E.Block:
    """``loss_fn(net, x, y)``: the loss over the steps of ``x`` from the network's current state."""
    loss = LossLowering(net, program)
    loss_value = loss.ex(train.loss)
    where = E.where(train.span)
    nl = NetworkLowering(program, net)
    merge = {"_merge": E.const(True)} if passes.merges(nl) else {}     # the merged synapses pass
    step_body = _step_body(net, loss, E.call(E.attr("net", "update"), ast.Starred(E.name("inputs"), ast.Load()),
                                             **merge))
    new_acc = []
    for k, (kind, value, _, _) in enumerate(loss.running):
        old = ast.Subscript(E.name("acc"), E.const(k), ast.Load())
        new_acc.append({"sum": E.binop("+", old, value), "max": E.call("_running_max", old, value),
                        "last": value}[kind])
    collected = ast.Dict([E.const(k) for k in loss.sequences], list(loss.sequences.values()))
    step_body.append(E.ret(ast.Tuple([ast.Tuple(new_acc, ast.Load()), collected], ast.Load())))
    initial = []
    for kind, _, stored, _ in loss.running:
        zeros = E.call(E.attr("jnp", "zeros_like"), stored)
        initial.append(E.call(E.attr("jnp", "full_like"), stored, E.neg(E.attr("jnp", "inf")))
                       if kind == "max" else zeros)
    loop, policy = train.loop, LOOPS[train.loop.name].traits
    kwargs = LOOPS[loop.name].hook("lower")(loop, bool(nl.hoisted()))
    run = E.call("_loop", E.name("step"), E.name("acc"), E.name("x"), **passes.loop_hint(nl, kwargs))
    says = (f"for evaluation: {loop.name} trains per step" if policy.online else
            f"one window of {loop.name}" if policy.window else f"loop = {loop.name}")
    what = ", ".join(f"acc[{k}]: running {kind} ({w})" for k, (kind, _, _, w) in enumerate(loss.running))
    pred = loss.prediction if loss.prediction is not None else E.const(None)
    return E.def_("loss_fn", E.arguments(["net", "x", "y"]), [
        E.docstring(f"The loss of {net.name} on one batch (x time-major), and the prediction accuracy is "
                    "judged on (None for regression)."),
        E.def_("step", E.arguments(["acc", "inputs"]), step_body),
        E.assign("acc", ast.Tuple(initial, ast.Load()), what),
        Line_assign_tuple(["acc", "seq"], run, f"{says}, {where}"),
        *loss.stmts,
        E.ret(ast.Tuple([loss_value, pred], ast.Load()), f"loss, {where}"),
    ])


def _step_loss_def(program: ir.Program, net: ir.Network, train: ir.Train) -> E.Block:
    """``step_loss_fn(learner, net, x, y)``: the loss at one step, every reduction over time taken over that
    step alone (the per-step loss of online learning); the step runs through the online learner."""
    loss = LossLowering(net, program, single_step=True)
    loss_value = loss.ex(train.loss, "step")
    pred = loss.prediction if loss.prediction is not None else E.const(None)
    return E.def_("step_loss_fn", E.arguments(["learner", "net", "x", "y"]), [
        E.docstring(f"The loss of {net.name} at one step (x: this step's input), each reduction over time "
                    "taken over this step alone, and the prediction accuracy is judged on (None for "
                    "regression). The step runs through the online learner, which advances its eligibility "
                    "traces."),
        *_step_body(net, loss, E.call("learner", E.name("x"))),
        *loss.stmts,
        E.ret(ast.Tuple([loss_value, pred], ast.Load()), f"loss at one step, {E.where(train.span)}"),
    ])


def _grad_update() -> list[E.Stmt]:
    """The body of one update by backpropagation: the gradient of ``loss_fn`` on ``x``, then the optimizer."""
    acc = E.call("_accuracy", E.name("prediction"), E.name("y"))
    grad = E.call(E.call(E.attr("bs", "transform", "grad"), E.name("objective"), E.name("params"),
                         return_value=E.const(True), has_aux=E.const(True)))
    return [
        E.def_("objective", E.arguments(), [E.ret(E.call("loss_fn", E.name("net"), E.name("x"), E.name("y")))]),
        Line_assign_tuple(["grads", "loss", "prediction"], grad),
        E.assign("finite", E.call("_finite", E.name("grads"))),
        E.expr_stmt(E.call(E.attr("optimizer", "update"), E.name("grads"))),
        E.ret(ast.Tuple([E.name("loss"), acc, E.name("finite")], ast.Load())),
    ]


def _online_update() -> list[E.Stmt]:
    """The body of one online update: the learner's gradient estimate accumulated over the steps of ``x``
    (the mean of the per-step losses' gradients, from eligibility traces), then the optimizer."""
    objective = E.def_("objective", E.arguments(["x_t"]), [
        Line_assign_tuple(["loss", "prediction"], E.call("step_loss_fn", E.name("learner"), E.name("net"),
                                                         E.name("x_t"), E.name("y"))),
        E.ret(ast.Tuple([E.name("loss"), E.call("_accuracy", E.name("prediction"), E.name("y"))], ast.Load())),
    ])
    grad = E.call("_online", E.name("objective"), E.name("params"), E.name("x"))
    return [
        objective,
        Line_assign_tuple(["grads", "loss", "accuracy"], grad),
        E.assign("finite", E.call("_finite", E.name("grads"))),
        E.expr_stmt(E.call(E.attr("optimizer", "update"), E.name("grads"))),
        E.ret(ast.Tuple([E.name("loss"), E.name("accuracy"), E.name("finite")], ast.Load())),
    ]


def _learner(net: ir.Network, train: ir.Train) -> list[E.Stmt]:
    """The online learner around ``net`` (braintrace's algorithm class), its trace graph compiled on a batch
    of zeros shaped like one step of each data input."""
    algorithm = train.loop.arg("algorithm")
    make = target_call(ONLINE[algorithm.name], algorithm)
    make.args.insert(0, E.name("net"))
    examples = [E.call(E.attr("jnp", "zeros"), ast.Tuple([E.name("batch_size"), E.const(x.size)], ast.Load()))
                for x in net.inputs if x.source is None]
    return [E.assign("learner", make, f"{show_spec(algorithm)}, {E.where(algorithm.span)}"),
            E.expr_stmt(E.call(E.attr("learner", "compile_graph"), *examples))]


def build(program: ir.Program, train: ir.Train) -> list[E.Stmt]:
    """``loss_fn`` (and ``step_loss_fn`` for online learning) and ``make_trainer`` for ``train``.

    The loop policy's :class:`~snndsl.registry.LoopPolicy` says how ``train_step`` updates: one gradient of
    the whole sequence's loss (``bptt``, ``checkpointed``), one per window of steps with the state carried
    over (``_windows``: truncated BPTT), or the online learner's estimate from per-step losses.
    """
    net = program.network(train.network)
    policy = LOOPS[train.loop.name].traits
    where = E.where(train.span)
    defs: list[E.Stmt] = [_loss_def(program, net, train)]
    if policy.online:
        defs += [E.Blank(), E.Blank(), _step_loss_def(program, net, train)]
    reset = E.expr_stmt(E.call(E.attr("bs", "nn", "reset_all_states"), E.name("learner" if policy.online else "net"),
                               batch_size=ast.Subscript(E.attr("x", "shape"), E.const(1), ast.Load())))
    update = _online_update() if policy.online else _grad_update()
    if policy.window is None and not policy.online:
        steps = [E.def_("train_step", E.arguments(["x", "y"]), [reset, *update])]
    else:
        window = train.loop.arg(policy.window)
        run = E.call("update", E.name("x"), E.name("y")) if window is None else \
            E.call("_windows", E.name("update"), E.name("x"), E.name("y"), E.const(window))
        steps = [E.def_("update", E.arguments(["x", "y"]), update),
                 E.def_("train_step", E.arguments(["x", "y"]), [
                     reset, E.ret(run, f"loop = {show_spec(train.loop)}, {E.where(train.loop.span)}")])]
    acc = E.call("_accuracy", E.name("prediction"), E.name("y"))
    eval_step = E.def_("eval_step", E.arguments(["x", "y"]), [
        E.expr_stmt(E.call(E.attr("bs", "nn", "reset_all_states"), E.name("net"),
                           batch_size=ast.Subscript(E.attr("x", "shape"), E.const(1), ast.Load()))),
        Line_assign_tuple(["loss", "prediction"], E.call("loss_fn", E.name("net"), E.name("x"), E.name("y"))),
        E.ret(ast.Tuple([E.name("loss"), acc], ast.Load())),
    ])
    jit = E.attr("bs", "transform", "jit")
    factory = E.def_("make_trainer", E.arguments(["net", "batch_size", "optimizer"], [E.const(None)]), [
        E.docstring(f"Train {net.name} as its train block says ({where}): returns (optimizer, train_step, "
                    "eval_step), both steps jitted, taking x [T, B, N] and labels/targets y."),
        E.if_(ast.Compare(E.name("optimizer"), [ast.Is()], [E.const(None)]),
              [E.assign("optimizer", optimizer_expr(train.optimizer), where)]),
        E.expr_stmt(E.call("_init_states", E.name("net"), E.name("batch_size"))),
        E.assign("params", E.call("_typed", E.call(E.attr("net", "states"), E.attr("bs", "ParamState")))),
        E.expr_stmt(E.call(E.attr("optimizer", "register_trainable_weights"), E.name("params"))),
        *(_learner(net, train) if policy.online else []),
        *steps, eval_step,
        E.ret(ast.Tuple([E.name("optimizer"), E.call(jit, E.name("train_step")), E.call(jit, E.name("eval_step"))],
                        ast.Load())),
    ])
    return [*defs, E.Blank(), E.Blank(), factory]


def Line_assign_tuple(names: list[str], value: ast.expr, comment: str = "") -> E.Line:
    """``a, b, ... = value`` (tuple unpacking) with a source comment."""
    return E.Line(ast.Assign([ast.Tuple([E.store(n) for n in names], ast.Store())], value), comment)
