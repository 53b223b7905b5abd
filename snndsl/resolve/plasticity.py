"""Plasticity definitions → :class:`snndsl.ir.Model` of kind ``plasticity`` (scoped states, spike handlers).

A plasticity model declares states per connection, per presynaptic or per postsynaptic neuron, their ODEs,
and the handlers ``on_pre`` (each presynaptic spike as it arrives) and ``on_post`` (each postsynaptic spike).
``w`` is the connection's weight: a plastic state when declared ``state w per connection`` (its initial value
is the connectivity's ``w``), else the projection's fixed weight, readable but not assignable.

Scopes: an expression evaluated per connection (a per-connection state's ODE or assignment, ``transmit``)
sees every state; one evaluated per presynaptic neuron sees the per-pre states (and parameters), per
postsynaptic neuron the per-post states. ``on_pre`` may assign per-connection and per-pre states, ``on_post``
per-connection and per-post states.
"""

from __future__ import annotations

from typing import Iterator

import attrs

from snndsl import units as u
from snndsl import ir
from snndsl.diagnostics import Diagnostics, did_you_mean
from snndsl.ir.evaluate import W_UNIT
from snndsl.resolve.exprs import Scope, fold, resolve_expr
from snndsl.resolve.models import _ModelBuilder, check_identifier
from snndsl.resolve.unit_names import dimensionless_unit
from snndsl.syntax import ast

#: What each scope of evaluation can see, and what each handler may assign.
SEES = {"connection": {"connection", "pre", "post"}, "pre": {"pre"}, "post": {"post"}}
ASSIGNS = {"on_pre": {"connection", "pre"}, "on_post": {"connection", "post"}}
_SAYS = {"connection": "per connection", "pre": "per presynaptic neuron", "post": "per postsynaptic neuron"}


def _walk_refs(expr: ir.Expr | None) -> Iterator[ir.Ref]:
    """Every :class:`ir.Ref` in ``expr`` (with its span), left to right, without recursion."""
    todo = [expr]
    while todo:
        e = todo.pop()
        if isinstance(e, ir.Ref):
            yield e
        elif isinstance(e, ir.Neg):
            todo.append(e.operand)
        elif isinstance(e, ir.BinOp):
            todo += [e.right, e.left]
        elif isinstance(e, ir.Func):
            todo += list(reversed(e.args))


class _PlasticityBuilder(_ModelBuilder):
    """Resolves one plasticity body (declarations as in neurons and synapses, then ODEs and handlers)."""

    def __init__(self, node: ast.PlasticityDef, diags: Diagnostics):
        super().__init__(node, "plasticity", diags)
        self.scopes: dict[str, str] = {}

    def param(self, st: ast.ParamDecl) -> ir.ParamDef:
        """``param name: w [= 0]`` is in the unit of the weight (``unit=None``); others as in any model."""
        if isinstance(st.unit, ast.UnitName) and st.unit.ident.name == "w":
            default = None
            if st.default is not None:
                scope = Scope({k: v for k, v in self.symbols.items() if k in self.param_values}, where="in a default")
                default = resolve_expr(st.default, scope, self.diags)
            self.param_values[st.name.name] = u.Quantity(1.0, unit=W_UNIT)
            return ir.ParamDef(st.name.name, None, default, span=st.span)
        return super().param(st)

    def plastic_state(self, st: ast.PlasticState) -> ir.StateDef:
        """A scoped state. ``w`` must be per connection and takes the weight's unit (``unit=None``); any other
        state without a unit takes its initial value's, or is dimensionless."""
        unit = None if st.unit is None else self.unit_of(st.unit)
        init = None
        if st.init is not None:
            scope = Scope({k: "param" for k in self.param_values}, where="in an initial value")
            init = resolve_expr(st.init, scope, self.diags)
            value = fold(init, self.diags, self.const_env) if init is not None else None
            if unit is None and value is not None and st.name.name != "w":
                unit = u.get_unit(value)
        if st.name.name == "w" and st.scope != "connection":
            self.diags.error("SNN243", f"`w` is the connection's weight, so it is `per connection`, not per {st.scope}",
                             st.span, "declare `state w per connection`, or name the trace differently")
            self.broken = True
        if unit is None and st.name.name != "w":
            unit = dimensionless_unit()
        return ir.StateDef(st.name.name, unit, init, span=st.span, per=st.scope)

    def unit_of(self, node: ast.Unit):
        from snndsl.resolve.unit_names import unit_from_ast
        return unit_from_ast(node, self.diags)

    def build(self) -> ir.Model:
        """The model: parameters, scoped states, ODEs (each in its state's scope), handlers, method."""
        d, body, name = self.diags, self.node.body, self.node.name.name
        params, states = [], []
        for st in body:
            if isinstance(st, ast.ParamDecl) and self.declare(st.name, "param"):
                params.append(self.param(st))
        for st in body:
            if isinstance(st, ast.PlasticState):
                if self.declare(st.name, "state"):
                    states.append(self.plastic_state(st))
                    self.scopes[st.name.name] = "connection" if st.name.name == "w" else st.scope
        self.symbols.setdefault("w", "weight")     # undeclared: the projection's fixed weight, per connection
        self.scopes.setdefault("w", "connection")
        scope = Scope(self.symbols, with_time=True, where=f"in plasticity {name}")
        odes = self.ode_defs(scope, [s.name for s in states],
                             accept=lambda var, rhs: self.visible(rhs, self.scopes[var], f"d{var}/dt"))
        handlers, events = [], {}
        for st in body:
            if isinstance(st, ast.Handler):
                if st.event in events:
                    d.error("SNN202", f"{name} has more than one `{st.event}`", st.span,
                            f"the first is at line {events[st.event]}")
                    continue
                events[st.event] = st.span.line
                handlers.append(self.handler(st, scope))
        method = "exp_euler"
        if (ms := self.single(ast.MethodStmt, "method statement")) is not None:
            from snndsl.registry import INTEGRATORS
            from snndsl.resolve.args import lookup_entry
            if lookup_entry(INTEGRATORS, ms.name, d) is not None:
                method = ms.name.name
        return ir.Model("plasticity", name, tuple(params), tuple(states), (), (), tuple(odes), method=method,
                        handlers=tuple(handlers), span=self.node.span)

    def visible(self, expr: ir.Expr, where: str, what: str) -> bool:
        """Whether every state ``expr`` reads can be seen from scope ``where``; SNN241 for each that cannot."""
        ok = True
        for ref in _walk_refs(expr):
            if ref.kind in ("state", "weight") and self.scopes.get(ref.name) not in SEES[where]:
                self.diags.error("SNN241", f"{what} is evaluated {_SAYS[where]}, so it cannot read `{ref.name}`, "
                                 f"which is {_SAYS[self.scopes[ref.name]]}", ref.span,
                                 "a value per presynaptic neuron cannot depend on one neuron after it (and the "
                                 "reverse): assign a per-connection state instead")
                ok = False
        return ok

    def handler(self, st: ast.Handler, scope: Scope) -> ir.HandlerDef:
        """One handler: each assignment targets a state this handler may change (SNN240) and reads what its
        target's scope sees (SNN241); ``transmit`` only in ``on_pre``, once (SNN242)."""
        d, stmts, transmits = self.diags, [], 0
        for s in st.body:
            if isinstance(s, ast.TransmitStmt):
                transmits += 1
                if st.event != "on_pre" or transmits > 1:
                    d.error("SNN242", "`transmit` belongs in `on_pre`, once" if st.event == "on_pre" and
                            transmits > 1 else "`transmit` belongs in `on_pre`: a postsynaptic spike transmits "
                            "nothing", s.span, "each arriving spike delivers one value per connection")
                    self.broken = True
                    continue
                value = resolve_expr(s.value, scope, d)
                if value is not None and self.visible(value, "connection", "`transmit`"):
                    stmts.append(ir.TransmitDef(value, span=s.span))
                continue
            target = s.var.name
            value = resolve_expr(s.value, scope, d)
            kind, where = self.symbols.get(target), self.scopes.get(target)
            if kind != "state" or where not in ASSIGNS[st.event]:
                if kind == "weight":
                    msg, hint = (f"`w` is the projection's fixed weight here, which {st.event} cannot change",
                                 "declare it plastic: `state w per connection`")
                elif kind == "state":
                    msg = f"{st.event} cannot change `{target}`, which is {_SAYS[where]}"
                    hint = ("a presynaptic spike reaches many postsynaptic neurons (and the reverse): change it "
                            "in the other handler")
                else:
                    msg, hint = f"`{target}` is not a state of {self.node.name.name}", did_you_mean(
                        target, [k for k, v in self.symbols.items() if v == "state"])
                d.error("SNN240", msg, s.var.span, hint)
                self.broken = True
                continue
            if value is not None and self.visible(value, where, f"`{target} {s.op} ...`"):
                stmts.append(ir.UpdateDef(target, s.op, value, span=s.span))
        return ir.HandlerDef(st.event, tuple(stmts), span=st.span)


def resolve_plasticity(node: ast.PlasticityDef, diags: Diagnostics) -> ir.Model | None:
    """A plasticity definition → :class:`ir.Model` (``kind == "plasticity"``), or ``None`` when its own name
    cannot be declared; a model with errors is returned ``broken=True`` (checks skip its equations).

    Codes: SNN240 (a handler assigns what it cannot change), SNN241 (an expression reads a state its scope
    cannot see), SNN242 (``transmit`` outside ``on_pre`` or twice), SNN243 (``w`` not per connection), and
    the codes of declarations and names shared with the other models (SNN201/202/209/210/219/220/221)."""
    if not check_identifier(node.name, diags, "plasticity model"):
        return None
    before = len(diags.items)
    builder = _PlasticityBuilder(node, diags)
    model = builder.build()
    if builder.broken or any(x.severity == "error" for x in diags.items[before:]):
        model = attrs.evolve(model, broken=True)
    return model
