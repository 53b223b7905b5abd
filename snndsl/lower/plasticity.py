"""Plasticity models → brainstate module classes that stand in a projection's place.

One class per plasticity model, whatever the storage: the network gives it a layout object
(:mod:`snndsl.lower.prelude_plastic`: ``_DenseSyn``, ``_SparseSyn``, ``_DiagonalSyn``) that holds the
per-connection values the projection's way, and the connectivity's weight initialiser. The emitted class::

    __init__(layout, w_init, *, <params>, <state initial values>, unit)
    init_state(batch_size) / reset_state(batch_size)   # per-connection, per-pre, per-post states
    update(s)        # one step: ODEs; on_pre for the arriving spikes s [..., n_pre]; returns the weighted input
    on_post(s)       # on_post for the postsynaptic spikes of this step, s [..., n_post]

Each handler statement ``x op= value`` becomes ``x = where(fired, stop_gradient(new), x)``, ``fired`` the
neurons that spiked (per-pre / per-post states) or their connections (``layout.rows`` / ``layout.cols``).
The gradient: states are updated under ``stop_gradient`` and gated by spike events (no gradient through the
choice), so a train block sees a plastic weight as a trajectory of constants: gradients flow through what the
weights transmit (to the presynaptic spikes and, for a fixed ``w``, a ``ParamState``, to ``w``), never into
the plasticity rule.
"""

from __future__ import annotations

import ast

from snndsl import ir
from snndsl.ir.text import show_expr
from snndsl.lower import emit as E
from snndsl.ir.linear import linear_system
from snndsl.lower.exprs import function_call, lower, unit_expr
from snndsl.lower.models import param_default
from snndsl.lower.odesystem import Member, OdeSystem, lowered_rows
from snndsl.registry import FUNCTIONS, INTEGRATORS


def layout_expr(net: ir.Network, pr: ir.Projection, seed: int) -> ast.expr:
    """The layout of ``pr``'s per-connection values, from its inferred weight storage: ``_DenseSyn(n_pre,
    n_post[, mask])``, ``_SparseSyn(n_pre, n_post, p, seed)`` or ``_DiagonalSyn(n)``."""
    n_pre, n_post = net.node(pr.pre).size, net.node(pr.post).size
    storage = pr.facts.storage
    if storage == "diagonal":
        return E.call("_DiagonalSyn", E.const(n_post))
    if storage == "sparse":
        return E.call("_SparseSyn", E.const(n_pre), E.const(n_post), E.const(float(pr.conn.arg("p"))), E.const(seed))
    args = [E.const(n_pre), E.const(n_post)]
    if storage == "masked":
        args.append(E.call("_fixed_prob_mask", E.const(n_pre), E.const(n_post), E.const(float(pr.conn.arg("p"))),
                           E.const(seed)))
    return E.call("_DenseSyn", *args)


class PlasticityLowering:
    """Builds the class ``cls`` of plasticity model ``m`` (see the module docstring)."""

    def __init__(self, model: ir.Model, cls: str | None = None, trainable: tuple[str, ...] = ()):
        """Prepare ``model``'s lowering (``trainable`` is unused: plasticity parameters are constants)."""
        self.m = model
        self.cls = cls or E.py_name(model.name)
        self.scope = {s.name: s.per for s in model.states}
        self.scope.setdefault("w", "connection")
        self.plastic_w = model.state("w") is not None
        self.has_post = any(h.event == "on_post" for h in model.handlers)

    # ---------------------------------------------------------------- symbols
    def ref(self, where: str):
        """How a symbol reads in an expression evaluated in scope ``where``: a per-pre or per-post state in a
        per-connection expression through the layout's ``pre``/``post``; ``dt`` the environment's."""
        def read(r: ir.Ref) -> ast.expr:
            if r.kind == "dt":
                return E.call(E.attr("bs", "environ", "get_dt"))
            if r.kind == "time":
                raise ValueError("t is not available in a plasticity model")
            name = E.name(E.py_name(r.name))
            if r.kind in ("state", "weight") and where == "connection" and self.scope.get(r.name) in ("pre", "post"):
                return E.call(E.attr("self", "layout", self.scope[r.name]), name)
            return name
        return read

    def doc(self) -> str:
        """The docstring: the model's ODEs and handlers as declared."""
        m = self.m
        rows = [f"state {s.name} per {s.per}" for s in m.states]
        rows += [f"d{o.var}/dt = {show_expr(o.rhs)}" for o in m.odes]
        for h in m.handlers:
            rows.append(f"{h.event}:")
            rows += [f"    transmit {show_expr(s.value)}" if isinstance(s, ir.TransmitDef)
                     else f"    {s.var} {s.op} {show_expr(s.value)}" for s in h.stmts]
        text = f"Plasticity {m.name}, from {E.where(m.span)}."
        return text + "\n\n" + "\n".join("    " + r for r in rows) if rows else text

    # ---------------------------------------------------------------- class
    def build(self) -> E.Block:
        """The class: docstring, ``__init__``, ``init_state``, ``reset_state``, ``update``, ``on_post``."""
        body = [E.docstring(self.doc()), E.Blank(), self.init(), E.Blank(), self.states("init_state"), E.Blank(),
                self.states("reset_state"), E.Blank(), self.update()]
        if self.has_post:
            body += [E.Blank(), self.on_post()]
        return E.class_(self.cls, [E.attr("bs", "nn", "Module")], body, E.where(self.m.span))

    def init(self) -> E.Block:
        """``__init__(self, layout, w_init, *, <params>, <states>, unit)``: parameters kept as given (scalars;
        one declared ``: w`` given as a plain 0 is put in ``unit``, the weight's); a state's keyword (``None``:
        its declared initial value) kept as ``X_init``. With a fixed ``w``, the weights are a ``ParamState``
        made here (trainable like any projection's)."""
        m = self.m
        kwonly, defaults = [], []
        lines: list[E.Stmt] = [E.expr_stmt(E.call(E.attr(E.call("super"), "__init__"))),
                               E.set_attr("self", ["layout"], E.name("layout")),
                               E.set_attr("self", ["_conn_w"], E.name("w_init")),
                               E.set_attr("self", ["unit"], E.name("unit"))]
        for p in m.params:
            n = E.py_name(p.name)
            kwonly.append(n)
            default, computed = param_default(p)
            defaults.append(default)
            lines.extend(computed)
            value = E.call("_in_unit", E.name(n), E.name("unit")) if p.unit is None else E.name(n)
            lines.append(E.set_attr("self", [n], value, E.where(p.span)))
        for s in m.states:
            n = E.py_name(s.name)
            kwonly.append(n)
            defaults.append(E.const(None))
            lines.append(E.set_attr("self", [E.derived(n, "init")], E.name(n)))
        kwonly.append("unit")
        defaults.append(E.attr("u", "UNITLESS"))
        if not self.plastic_w:
            lines.append(E.set_attr("self", ["weight"], E.call(E.attr("bs", "ParamState"), E.call(
                E.attr("self", "layout", "init"), E.name("w_init"))), "the fixed weights (trainable)"))
        args = E.arguments(["self", "layout", "w_init"], kwonly=kwonly, kw_defaults=defaults)
        return E.def_("__init__", args, lines)

    def initial(self, s: ir.StateDef) -> ast.expr:
        """A state's initial value: the override, else ``w``'s from the connectivity, the declared value, or
        zero in its unit."""
        n = E.py_name(s.name)
        if s.name == "w":
            default = E.attr("self", "_conn_w")
        elif s.init is not None:
            default = lower(s.init, lambda r: E.attr("self", E.py_name(r.name)))
        else:
            default = E.call(E.attr("bt", "init", "ZeroInit"), unit=unit_expr(s.unit))
        override = E.attr("self", E.derived(n, "init"))
        return ast.IfExp(ast.Compare(override, [ast.IsNot()], [E.const(None)]), override, default)

    def states(self, method: str) -> E.Block:
        """``init_state`` (new ``HiddenState`` objects) or ``reset_state`` (their values set back): per-connection
        states through ``layout.init``, per-pre and per-post ones ``[(batch,) n]``."""
        lines: list[E.Stmt] = []
        for s in self.m.states:
            n = E.py_name(s.name)
            if s.per == "connection":
                value = E.call(E.attr("self", "layout", "init"), self.initial(s), E.name("batch_size"))
            else:
                size = E.attr("self", "layout", "n_pre" if s.per == "pre" else "n_post")
                value = E.call("_state", self.initial(s), size, E.name("batch_size"))
            if method == "init_state":
                lines.append(E.set_attr("self", [n], E.call(E.attr("bs", "HiddenState"), value), E.where(s.span)))
            else:
                lines.append(E.set_attr("self", [n, "value"], value))
        if not lines:
            lines.append(E.Line(ast.Pass()))
        return E.def_(method, E.arguments(["self", "batch_size"], [E.const(None)], kwarg="kwargs"), lines)

    def load(self) -> list[E.Stmt]:
        """Locals for every parameter, state and (fixed) weight."""
        lines = [E.assign(E.py_name(p.name), E.attr("self", E.py_name(p.name))) for p in self.m.params]
        lines += [E.assign(E.py_name(s.name), E.attr("self", E.py_name(s.name), "value")) for s in self.m.states]
        if not self.plastic_w:
            lines.append(E.assign("w", E.attr("self", "weight", "value")))
        return lines

    def store(self) -> list[E.Stmt]:
        """Every state written back."""
        return [E.set_attr("self", [E.py_name(s.name), "value"], E.name(E.py_name(s.name))) for s in self.m.states]

    def handler(self, event: str) -> list[E.Stmt]:
        """The statements of handler ``event`` (``_spk`` and ``_conn`` are the spiking neurons and their
        connections); in ``on_pre``, ``_out`` is what ``transmit`` delivers (``transmit w`` first when the
        handler has none)."""
        lines: list[E.Stmt] = []
        h = next((x for x in self.m.handlers if x.event == event), None)
        stmts = list(h.stmts) if h is not None else []
        if event == "on_pre" and not any(isinstance(s, ir.TransmitDef) for s in stmts):
            stmts.insert(0, ir.TransmitDef(ir.Ref("weight", "w")))
        for st in stmts:
            if isinstance(st, ir.TransmitDef):
                value = lower(st.value, self.ref("connection"))
                lines.append(E.assign("_out", E.call(E.attr("self", "layout", "deliver"), E.name("_s"), value),
                                      E.where(st.span)))
                continue
            x, where = E.py_name(st.var), self.scope[st.var]
            value = self.clipped(st) or lower(st.value, self.ref(where))
            new = {"+=": E.binop("+", E.name(x), value), "-=": E.binop("-", E.name(x), value), "=": value}[st.op]
            gate = E.name("_conn" if where == "connection" else "_spk")
            new = E.call(E.attr("u", "math", "where"), gate, E.call(E.attr("jax", "lax", "stop_gradient"), new),
                         E.name(x))
            lines.append(E.assign(x, new, f"{event}, {E.where(st.span)}"))
        return lines

    def clipped(self, st: ir.UpdateDef) -> ast.expr | None:
        """``clip(x, lo, hi)`` assigned to a state, a bound written as a plain ``0`` put in the state's unit
        (the weight's, ``self.unit``, for ``w``); ``None`` when the value is not such a call."""
        v = st.value
        entry = FUNCTIONS.get(v.name) if isinstance(v, ir.Func) else None
        if entry is None or not entry.traits.bounds or len(v.args) < 2:
            return None
        state = self.m.state(st.var)
        read = self.ref(self.scope[st.var])
        args = [lower(v.args[0], read)]
        for b in v.args[1:]:
            if isinstance(b, ir.Const) and not hasattr(b.value, "unit") and float(b.value) == 0.0:
                unit = E.attr("self", "unit") if state.unit is None else unit_expr(state.unit)
                args.append(E.call("_in_unit", E.const(0.0), unit))
            else:
                args.append(lower(b, read))
        return function_call(v.name, args)

    def update(self) -> E.Block:
        """``update(self, _s)``: load; integrate every ODE (its state's scope); ``_spk`` = the presynaptic
        neurons whose spike arrives (``_s != 0``), ``_conn`` their connections; ``on_pre``; store; return
        ``_out``, the weighted input ``[..., n_post]``."""
        lines = self.load() + self.integrate()
        lines.append(E.assign("_spk", E.call("_fired", E.name("_s"))))
        lines.append(E.assign("_conn", E.call(E.attr("self", "layout", "rows"), E.name("_spk"))))
        lines += self.handler("on_pre")
        lines += self.store()
        lines.append(E.ret(E.name("_out")))
        return E.def_("update", E.arguments(["self", "_s"]), lines)

    def integrate(self) -> list[E.Stmt]:
        """The trace ODEs as one system (:mod:`snndsl.lower.odesystem`), each right-hand side read in its
        state's scope, integrated by the model's method; the new values under ``stop_gradient`` (the
        plasticity rule is not differentiated)."""
        m = self.m
        if not m.odes:
            return []

        def reader(scope):
            return lambda e, _var: lower(e, self.ref(scope))
        members = tuple(Member(E.py_name(o.var), o.rhs, o.span, reader(self.scope[o.var]),
                               E.call(E.attr("u", "get_unit"), E.name(E.py_name(o.var)))) for o in m.odes)
        linear = None
        if INTEGRATORS[m.method].traits.linear_only and (sys_ := linear_system(m, ports=False)) is not None:
            linear = lowered_rows(sys_.rows, members, {v: E.py_name(v) for v in sys_.states}, {})
        lines = sorted({o.span.line for o in m.odes if o.span is not None})
        where = E.where(m.odes[0].span) + (f"-{lines[-1]}" if len(lines) > 1 else "")
        out = INTEGRATORS[m.method].hook("lower")(OdeSystem(members, m.method, where, linear=linear))
        return out + [E.assign(x.var, E.call(E.attr("jax", "lax", "stop_gradient"), E.name(x.var)))
                      for x in members]

    def on_post(self) -> E.Block:
        """``on_post(self, _s)``: ``on_post`` for the postsynaptic neurons that spiked this step (``_s != 0``)."""
        lines = self.load()
        lines.append(E.assign("_spk", E.call("_fired", E.name("_s"))))
        lines.append(E.assign("_conn", E.call(E.attr("self", "layout", "cols"), E.name("_spk"))))
        lines += self.handler("on_post")
        lines += self.store()
        return E.def_("on_post", E.arguments(["self", "_s"]), lines)
