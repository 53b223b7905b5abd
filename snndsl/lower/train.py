"""A train block → ``make_trainer`` in the emitted module: the loss, and a jitted BPTT or checkpointed step.

The emitted factory has the brainstate shape of the seed tutorial, with its two traps removed: the batch is an
argument of the step (never a constant baked into the compiled program), and states are created outside jit
and only reset inside it (states created inside a jitted function cannot be read afterwards)::

    optimizer, train_step, eval_step = make_trainer(net, batch_size)
    loss, accuracy, finite = train_step(x, y)      # x: [T, B, N] time-major, y: [B] labels or [B, ...] targets
"""

from __future__ import annotations

import ast
import brainunit as u

from .. import ir
from ..registry import OPTIMIZERS, SCHEDULES
from . import emit as E
from .exprs import value_expr

#: Reductions over the time axis (axis 0 of a recorded sequence).
REDUCE = {"mean": "mean", "max": "max", "sum": "sum"}


class LossLowering:
    """The loss expression → statements computing ``loss`` and the ``prediction`` accuracy is judged on."""

    def __init__(self, net: ir.Network, program: ir.Program):
        self.net, self.program = net, program
        self.sequences: dict[str, ast.expr] = {}   # key in the recorded dict -> how to read it each step
        self.prediction: ast.expr | None = None
        self.stmts: list[E.Stmt] = []

    def seq(self, name: str, field: str | None = None) -> ast.expr:
        key = name if field is None else f"{name}.{field}"
        if key not in self.sequences:
            if field is not None:
                read = E.attr("net", E.py_name(name), E.py_name(field), "value")
            elif name in self.net.outputs:
                read = None  # the network's own output
            else:
                read = E.call(E.attr("net", E.py_name(name), "output"))
            self.sequences[key] = read
        return ast.Subscript(E.name("seq"), E.const(key), ast.Load())

    def ex(self, e: ir.Expr) -> ast.expr:
        if isinstance(e, ir.Const):
            return value_expr(e.value)
        if isinstance(e, ir.Ref):
            if e.kind == "pop":
                return self.seq(e.name)
            if e.name == "label":
                return E.name("y")
            if e.name == "target":
                return E.name("y")
            raise ValueError("`time` is only an axis of a reduction")
        if isinstance(e, ir.Field):
            return self.seq(e.pop, e.var)
        if isinstance(e, ir.Neg):
            return E.neg(self.ex(e.operand))
        if isinstance(e, ir.BinOp):
            return E.binop(e.op, self.ex(e.left), self.ex(e.right))
        if isinstance(e, ir.Func):
            return self.func(e)
        raise TypeError(type(e).__name__)

    def func(self, e: ir.Func) -> ast.expr:
        args = e.args
        if e.name in REDUCE:
            return E.call(E.attr("u", "math", REDUCE[e.name]), self.plain(self.ex(args[0])), axis=E.const(0))
        if e.name == "last":
            return ast.Subscript(self.plain(self.ex(args[0])), E.const(-1), ast.Load())
        if e.name in ("cross_entropy", "spike_count_cross_entropy"):
            pred = self.ex(args[0])
            if e.name == "spike_count_cross_entropy":
                pred = E.call(E.attr("u", "math", "sum"), self.plain(pred), axis=E.const(0))
            self.stmts.append(E.assign("prediction", pred))
            self.prediction = E.name("prediction")
            return E.call(E.attr(E.call(E.attr("bt", "metric", "softmax_cross_entropy_with_integer_labels"),
                                        self.prediction, self.ex(args[1])), "mean"))
        if e.name == "mse":
            diff = E.binop("-", self.plain(self.ex(args[0])), self.ex(args[1]))
            return E.call(E.attr("jnp", "mean"), E.binop("^", diff, E.const(2)))
        if e.name == "rate_reg":
            rate = E.binop("/", E.call(E.attr("jnp", "mean"), self.plain(self.ex(args[0])), axis=E.const(0)),
                           E.call(E.attr("u", "get_magnitude"), E.call(E.attr("net", "dt", "to_decimal"),
                                                                       E.attr("u", "second"))))
            target = args[1].value if isinstance(args[1], ir.Const) else 0.0
            hz = float(target.to_decimal(u.Hz)) if isinstance(target, u.Quantity) else float(target)
            return E.call(E.attr("jnp", "mean"), E.binop("^", E.binop("-", rate, E.const(hz)), E.const(2)))
        # math functions on plain values
        from .exprs import FUNCS
        return E.call(E.attr("u", "math", FUNCS[e.name]), *(self.ex(a) for a in args))

    @staticmethod
    def plain(x: ast.expr) -> ast.expr:
        return E.call(E.attr("u", "get_mantissa"), x)


def optimizer_expr(spec: ir.Spec) -> ast.expr:
    entry = OPTIMIZERS.get(spec.name)
    kwargs: dict[str, ast.expr] = {}
    betas = []
    for k, v in spec.args:
        if v is None:
            continue
        if k in ("beta1", "beta2"):
            betas.append(value_expr(v))
            continue
        if isinstance(v, ir.Spec):
            target = SCHEDULES.get(v.name).target.split(".")
            kwargs[k] = E.call(E.attr("bt", *target[1:]), **{a: value_expr(b) for a, b in v.args})
        else:
            kwargs[k] = value_expr(v)
    if betas:
        kwargs["betas"] = ast.Tuple(betas, ast.Load())
    return E.call(E.attr("bt", *entry.target.split(".")[1:]), **kwargs)


def build(program: ir.Program, train: ir.Train) -> list[E.Stmt]:
    net = program.network(train.network)
    loss = LossLowering(net, program)
    loss_value = loss.ex(train.loss)
    where = E.where(train.span)
    # the recorded sequence of each step
    outs = [E.py_name(o) for o in net.outputs]
    step_body: list[E.Stmt] = [E.assign("out", E.call(E.attr("net", "update"), E.name("x_t")))]
    items = []
    for key, read in loss.sequences.items():
        if read is None:
            idx = net.outputs.index(key)
            read = E.name("out") if len(outs) == 1 else ast.Subscript(E.name("out"), E.const(idx), ast.Load())
        items.append((key, read))
    step_body.append(E.ret(ast.Dict([E.const(k) for k, _ in items], [v for _, v in items])))
    loop = train.loop
    if loop.name == "checkpointed":
        run = E.call(E.attr("bs", "transform", "checkpointed_for_loop"), E.name("step"),
                     E.call(E.attr("jnp", "asarray"), E.name("x")),
                     base=E.const(loop.arg("base")))
    else:
        run = E.call(E.attr("bs", "transform", "for_loop"), E.name("step"), E.name("x"))
    pred = loss.prediction if loss.prediction is not None else E.const(None)
    loss_def = E.def_("loss_fn", E.arguments(["net", "x", "y"]), [
        E.docstring(f"The loss of {net.name} on one batch (x time-major), and the prediction accuracy is "
                    "judged on (None for regression)."),
        E.def_("step", E.arguments(["x_t"]), step_body),
        E.assign("seq", run, f"loop = {loop.name}, {where}"),
        *loss.stmts,
        E.ret(ast.Tuple([loss_value, pred], ast.Load()), f"loss, {where}"),
    ])
    acc = E.call("_accuracy", E.name("prediction"), E.name("y"))
    grad = E.call(E.call(E.attr("bs", "transform", "grad"), E.name("objective"), E.name("params"),
                         return_value=E.const(True), has_aux=E.const(True)))
    train_step = E.def_("train_step", E.arguments(["x", "y"]), [
        E.expr_stmt(E.call(E.attr("bs", "nn", "reset_all_states"), E.name("net"),
                           batch_size=ast.Subscript(E.attr("x", "shape"), E.const(1), ast.Load()))),
        E.def_("objective", E.arguments(), [E.ret(E.call("loss_fn", E.name("net"), E.name("x"), E.name("y")))]),
        Line_assign_tuple(["grads", "loss", "prediction"], grad),
        E.assign("finite", E.call("_finite", E.name("grads"))),
        E.expr_stmt(E.call(E.attr("optimizer", "update"), E.name("grads"))),
        E.ret(ast.Tuple([E.name("loss"), acc, E.name("finite")], ast.Load())),
    ])
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
        E.expr_stmt(E.call(E.attr("bs", "nn", "init_all_states"), E.name("net"), batch_size=E.name("batch_size"))),
        E.assign("params", E.call(E.attr("net", "states"), E.attr("bs", "ParamState"))),
        E.expr_stmt(E.call(E.attr("optimizer", "register_trainable_weights"), E.name("params"))),
        train_step, eval_step,
        E.ret(ast.Tuple([E.name("optimizer"), E.call(jit, E.name("train_step")), E.call(jit, E.name("eval_step"))],
                        ast.Load())),
    ])
    return [loss_def, E.Blank(), E.Blank(), factory]


def Line_assign_tuple(names: list[str], value: ast.expr) -> E.Line:
    return E.Line(ast.Assign([ast.Tuple([E.store(n) for n in names], ast.Store())], value))
