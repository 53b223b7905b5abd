"""Neuron and synapse definitions → :class:`snndsl.ir.Model` (declarations, scopes, defaults)."""

from __future__ import annotations

from typing import Any

import attrs

from snndsl import units as u
from snndsl.syntax import ast
from snndsl import ir
from snndsl.diagnostics import Diagnostics, did_you_mean
from snndsl.registry import INTEGRATORS
from snndsl.ir.tools import substitute
from snndsl.resolve.args import lookup_entry, spec_from
from snndsl.resolve.exprs import Scope, fold, resolve_expr
from snndsl.resolve.unit_names import COMMON_UNITS, dimensionless_unit, lookup, shadows_unit, unit_from_ast

#: Names the emitted code and the language reserve for themselves.
RESERVED = frozenset({"t", "dt", "time", "label", "target", "true", "false", "self", "_"})


def check_identifier(ident: ast.Ident, diags: Diagnostics, what: str = "name", reserved=RESERVED) -> bool:
    """Report identifiers that cannot be declared: dunder names (SNN221), reserved words (SNN221; ``w`` too in
    synapses, where it is the weighted input) and names that shadow a unit (SNN210). Python keywords are fine:
    the lowering mangles them."""
    name = ident.name
    if name.startswith("__") or name in reserved:
        listed = ", ".join(sorted(reserved - {"true", "false", "self"}))
        diags.error("SNN221", f"`{name}` is reserved and cannot name a {what}", ident.span,
                    f"names starting with two underscores are reserved, and so are {listed}")
        return False
    if shadows_unit(name):
        if name in COMMON_UNITS:
            diags.error("SNN210", f"`{name}` is a unit and cannot name a {what}", ident.span,
                        f"choose another name, e.g. `{name}_`")
        else:
            diags.warning("SNN210", f"`{name}` is also a unit ({lookup(name)}); here it names a {what}",
                          ident.span, f"inside this model `{name}` means the {what}; write `1 {name}` for the unit")
    return True


#: The boolean literals, names written where a switch is given.
BOOLS = ("true", "false")


def _unit(node: ast.Unit | None, diags: Diagnostics):
    """The unit of a unit in type position (``None`` when none is written or it is unknown)."""
    return None if node is None else unit_from_ast(node, diags)


class _ModelBuilder:
    """Resolves one model body. Declarations are visible to every equation; parameter defaults and state
    initial values see the parameters declared before them."""

    def __init__(self, node: ast.NeuronDef | ast.SynapseDef, kind: str, diags: Diagnostics):
        """``symbols`` maps each declared name to its :class:`~snndsl.ir.Ref` kind, ``first`` to its first
        declaration (for SNN202), ``param_values`` each parameter to its folded value (or ``1 unit``)."""
        self.node, self.kind, self.diags = node, kind, diags
        self.symbols: dict[str, str] = {}
        self.first: dict[str, ast.Ident] = {}
        self.param_values: dict[str, Any] = {}
        self.broken = False

    def declare(self, ident: ast.Ident, kind: str) -> bool:
        """Declare ``ident`` as a ``kind``; ``False`` when the name is taken in this model (SNN202). A
        reserved name is reported and declared anyway (the model is marked broken)."""
        reserved = RESERVED | {"w"} if self.kind == "synapse" else RESERVED
        what = {"param": "parameter", "let": "definition", "input": "input port"}.get(kind, kind)
        if not check_identifier(ident, self.diags, what, reserved):
            self.broken = True     # reported; declared anyway so its uses raise nothing more
        if ident.name in self.first:
            prev = self.first[ident.name].span
            self.diags.error("SNN202", f"`{ident.name}` is already defined in {self.node.name.name}", ident.span,
                             f"first defined at line {prev.line}")
            return False
        self.first[ident.name] = ident
        self.symbols[ident.name] = kind
        return True

    def const_env(self, ref: ir.Ref):
        """The environment folding defaults: a parameter declared above, else :class:`UnitError` SNN219."""
        if ref.kind == "param" and ref.name in self.param_values:
            return self.param_values[ref.name]
        from snndsl.ir.evaluate import UnitError
        raise UnitError("SNN219", f"`{ref.name}` is not a constant here", ref.span,
                        "defaults may use numbers, units and parameters declared above")

    def build(self) -> ir.Model:
        """The model: declarations in the order of :func:`resolve_model`, then :meth:`equations`."""
        d, body = self.diags, self.node.body
        params, states, ports, lets = [], [], [], []
        # declarations first, in order; values see earlier parameters only
        for st in body:
            if isinstance(st, ast.ParamDecl) and self.declare(st.name, "param"):
                params.append(self.param(st))
        for st in body:
            if isinstance(st, ast.StateDecl) and self.declare(st.name, "state"):
                states.append(self.state(st))
            elif isinstance(st, ast.InputDecl) and self.declare(st.name, "input"):
                unit = _unit(st.unit, d)
                if unit is not None:
                    ports.append(ir.PortDef(st.name.name, unit, span=st.span))
        absent = {}
        if "xi" not in self.symbols:
            absent["xi"] = NOISE_ELSEWHERE
        scope = Scope(self.symbols, with_time=True, where=f"in {self.kind} {self.node.name.name}",
                      absent=absent)
        if self.kind == "synapse":      # `w`, this step's weighted input (0 when nothing arrives)
            scope = scope.child(w="weight")
        for st in body:
            if isinstance(st, ast.LetDecl) and self.declare(st.name, "let"):
                value = resolve_expr(st.value, scope, d)
                scope = scope.child(**{st.name.name: "let"})
                if value is not None:
                    lets.append(ir.LetDef(st.name.name, value, span=st.span))
        full = scope.child(**{k: v for k, v in self.symbols.items()})
        return self.equations(full, params, states, ports, lets)

    def param(self, st: ast.ParamDecl) -> ir.ParamDef:
        """``param``: the default is resolved and folded (it may use parameters above); without a unit the
        default's unit is taken; with neither, SNN220 (and the parameter is dimensionless)."""
        if isinstance(st.unit, ast.UnitName) and st.unit.ident.name == "bool":
            return self.switch(st)
        unit = _unit(st.unit, self.diags)
        default = None
        if st.default is not None:
            scope = Scope({k: v for k, v in self.symbols.items() if k in self.param_values}, where="in a default")
            default = resolve_expr(st.default, scope, self.diags)
            value = fold(default, self.diags, self.const_env) if default is not None else None
            if value is not None:
                if unit is None:
                    unit = u.get_unit(value)
                self.param_values[st.name.name] = value
        elif unit is not None:
            self.param_values[st.name.name] = u.Quantity(1.0, unit=unit)
        if st.unit is None and st.default is None:
            self.diags.error("SNN220", f"parameter `{st.name.name}` needs a unit or a default value", st.name.span,
                             f"e.g. `param {st.name.name}: ms = 10 ms`, or `param {st.name.name} = 1.0` for a "
                             "plain number")
        if st.name.name not in self.param_values and unit is not None:
            self.param_values[st.name.name] = u.Quantity(1.0, unit=unit)
        return ir.ParamDef(st.name.name, unit if unit is not None else dimensionless_unit(), default, span=st.span)

    def switch(self, st: ast.ParamDecl) -> ir.ParamDef:
        """``param x: bool = true|false``: a switch (:attr:`ir.ParamDef.kind` ``"bool"``). Its default, if
        written, is one of the names ``true``/``false`` (SNN231 otherwise)."""
        default = None
        if st.default is not None:
            if isinstance(st.default, ast.Name) and st.default.ident.name in BOOLS:
                default = ir.Const(st.default.ident.name == "true", span=st.default.span)
            else:
                self.diags.error("SNN231", f"`{st.name.name}` is a bool: its default must be true or false",
                                 st.default.span, f"e.g. `param {st.name.name}: bool = false`")
        self.param_values[st.name.name] = default.value if default is not None else True
        return ir.ParamDef(st.name.name, dimensionless_unit(), default, kind="bool", span=st.span)

    def state(self, st: ast.StateDecl) -> ir.StateDef:
        """``state``: the initial value may use any parameter. A neuron state needs a unit, written or from
        its initial value (SNN220); a synapse state without one keeps ``unit=None`` (its input's unit)."""
        unit = _unit(st.unit, self.diags)
        init = None
        if st.init is not None:
            scope = Scope({k: "param" for k in self.param_values}, where="in an initial value")
            init = resolve_expr(st.init, scope, self.diags)
            value = fold(init, self.diags, self.const_env) if init is not None else None
            if unit is None and value is not None and self.kind == "neuron":
                unit = u.get_unit(value)
        if unit is None and self.kind == "neuron":
            self.diags.error("SNN220", f"state `{st.name.name}` needs a unit", st.name.span,
                             f"e.g. `state {st.name.name}: mV = 0 mV`")
        return ir.StateDef(st.name.name, unit, init, span=st.span)

    def single(self, cls, what: str):
        """The one statement of type ``cls`` in the body (``None`` if absent); each further one is SNN202."""
        found = [st for st in self.node.body if isinstance(st, cls)]
        for extra in found[1:]:
            self.diags.error("SNN202", f"{self.node.name.name} has more than one {what}", extra.span,
                             f"the first is at line {found[0].span.line}")
        return found[0] if found else None

    def ode_defs(self, scope: Scope, state_names: list[str], declare_hint=None,
                 accept=lambda var, rhs: True) -> list[ir.OdeDef]:
        """The model's ``dX/dt = ...`` statements, each right-hand side resolved in ``scope``: SNN201 for an
        ODE of something that is not a state (hint: a close state name, else ``declare_hint(var)``), SNN202 for
        a second ODE of the same state; an ODE is kept when ``accept(var, rhs)`` (which reports why not)."""
        d, name = self.diags, self.node.name.name
        odes, seen = [], {}
        for st in self.node.body:
            if not isinstance(st, ast.Ode):
                continue
            var = st.var.name
            if self.symbols.get(var) != "state":
                d.error("SNN201", f"d{var}/dt for `{var}`, which is not a state of {name}", st.var.span,
                        did_you_mean(var, state_names) or (declare_hint(var) if declare_hint else None))
            elif var in seen:
                d.error("SNN202", f"d{var}/dt is defined twice", st.var.span, f"the first is at line {seen[var]}")
            else:
                seen[var] = st.span.line
                rhs = resolve_expr(st.rhs, scope, d)
                if rhs is not None and accept(var, rhs):
                    odes.append(ir.OdeDef(var, rhs, span=st.span))
        return odes

    def equations(self, scope: Scope, params, states, ports, lets) -> ir.Model:
        """The statements after the declarations, resolved in ``scope`` (every declaration, ``t``, ``dt``).

        One ODE per state (SNN201 for a non-state, SNN202 twice); at most one reset, spike, refractory,
        surrogate, method and output statement. ``reset`` and ``on_spike`` must target states (SNN201). A
        synapse's ``w`` (this step's weighted input, 0 when nothing arrives) is visible everywhere except in the
        ``output`` of a synapse with state (SNN219, :meth:`no_weight`). SNN220 for a
        synapse without output, a neuron without state, and spike-related statements without ``spike
        when``.
        """
        d, body, name = self.diags, self.node.body, self.node.name.name
        state_names = [s.name for s in states]
        odes = self.ode_defs(noise_scope(scope), state_names,
                             lambda var: f"declare it first: `state {var}: mV = 0 mV`")
        reset = None
        if (rs := self.single(ast.ResetStmt, "reset")) is not None:
            value = resolve_expr(rs.value, scope, d)
            if self.state_target(rs.var, state_names) and value is not None:
                reset = ir.ResetDef(rs.mode, rs.var.name, value, span=rs.span)
        spike = None
        if (sp := self.single(ast.SpikeStmt, "spike statement")) is not None:
            left, right = resolve_expr(sp.left, scope, d), resolve_expr(sp.right, scope, d)
            scale = resolve_expr(sp.scale, scope, d) if sp.scale is not None else None
            if scale is None and sp.scale is None and right is not None and reset is not None:
                scale = ir.BinOp("-", right, reset.value, span=sp.right.span)
            if left is not None and right is not None:
                spike = ir.SpikeDef(left, sp.op, right, scale, True if sp.crossing else None, span=sp.span)
                if sp.crossing:
                    self.crossing_alone(sp)
        updates = []
        for st in body:
            if isinstance(st, ast.OnSpike):
                value = resolve_expr(st.value, scope, d)
                if self.state_target(st.var, state_names) and value is not None:
                    updates.append(ir.UpdateDef(st.var.name, st.op, value, span=st.span))
        refractory = None
        if (rf := self.single(ast.RefractoryStmt, "refractory statement")) is not None:
            refractory = resolve_expr(rf.period, scope, d)
        surrogate = None
        if (sg := self.single(ast.SurrogateStmt, "surrogate statement")) is not None:
            surrogate = spec_from(sg.call, "surrogate", d)
        method = "exp_euler"
        if (ms := self.single(ast.MethodStmt, "method statement")) is not None:
            if lookup_entry(INTEGRATORS, ms.name, d) is not None:
                method = ms.name.name
        output = None
        if (out := self.single(ast.OutputStmt, "output statement")) is not None:
            output = resolve_expr(out.value, scope, d)
            if output is not None and states:
                self.no_weight(output, lets)
        elif self.kind == "synapse":
            d.error("SNN220", f"synapse {name} has no output", self.node.name.span,
                    "add the value it delivers, e.g. `output g`")
        if self.kind == "neuron":
            if not states:
                d.error("SNN220", f"neuron {name} has no state", self.node.name.span,
                        "declare its membrane, e.g. `state V: mV = 0 mV`")
            if spike is None and (sp is None):
                for st in body:
                    if isinstance(st, (ast.ResetStmt, ast.OnSpike, ast.RefractoryStmt, ast.SurrogateStmt)):
                        d.error("SNN220", f"{name} has no `spike when` condition, so nothing triggers this",
                                st.span, "add e.g. `spike when V >= V_th`, or remove the statement")
        return ir.Model(self.kind, name, tuple(params), tuple(states), tuple(ports), tuple(lets), tuple(odes),
                        spike, reset, tuple(updates), refractory, surrogate, method, output, span=self.node.span)

    def no_weight(self, output: ir.Expr, lets: list[ir.LetDef]) -> None:
        """SNN219 where the output of a synapse with state reads ``w`` (directly or through a ``let``): the
        output of the stored state (``output()``, read between steps) has no weighted input; a synapse with
        state delivers w through its states (``on_spike g += w``)."""
        found = _weight_ref(substitute(output, {let.name: let.value for let in lets}))
        if found is not None:
            self.diags.error("SNN219", "`w`, this step's weighted input, cannot be read in the output of a "
                             "synapse with state", found.span or output.span,
                             "add it to a state, `on_spike g += w`, and output the state")

    def crossing_alone(self, sp: ast.SpikeStmt) -> None:
        """SNN263 for each ``reset``, ``on_spike`` or ``refractory`` in a model whose spike is a threshold
        crossing: its spike exists only at the end of a step (the crossing of the stored and the new state),
        so nothing at the start of the next step could act on it."""
        for st in self.node.body:
            if isinstance(st, (ast.ResetStmt, ast.OnSpike, ast.RefractoryStmt)):
                self.diags.error("SNN263", "a `crossing` spike cannot drive a reset, on_spike update or "
                                 "refractory period", st.span,
                                 "a threshold crossing (HH) needs no reset: the dynamics bring V back; remove "
                                 "`, crossing` to reset on every step above threshold")

    def state_target(self, ident: ast.Ident, state_names: list[str]) -> bool:
        """Whether ``ident`` names a state (what ``reset`` and ``on_spike`` may change); SNN201 if not."""
        if ident.name in state_names:
            return True
        self.diags.error("SNN201", f"`{ident.name}` is not a state of {self.node.name.name}", ident.span,
                         did_you_mean(ident.name, state_names))
        return False


def _weight_ref(expr: ir.Expr | None) -> ir.Ref | None:
    """The first reference to ``w`` (kind ``weight``) in ``expr``, or ``None``."""
    if isinstance(expr, ir.Ref):
        return expr if expr.kind == "weight" else None
    if isinstance(expr, ir.Neg):
        return _weight_ref(expr.operand)
    parts = (expr.left, expr.right) if isinstance(expr, ir.BinOp) else getattr(expr, "args", ())
    return next((r for r in map(_weight_ref, parts) if r is not None), None)


#: What `xi` outside an ODE's right-hand side reports (SNN261).
NOISE_ELSEWHERE = ("SNN261", "`xi`, white noise, exists only in the right-hand side of an ODE",
                   "write the noise term into dX/dt (`dX/dt = ... + sigma * xi / sqrt(tau)`), not into a "
                   "`let`, a condition or an update")


def noise_scope(scope: Scope) -> Scope:
    """``scope`` with ``xi`` (white noise, a :class:`~snndsl.ir.Ref` of kind ``noise``) visible, unless the
    model declares a name ``xi`` of its own: the scope of an ODE's right-hand side."""
    if scope.symbols.get("xi") is not None:
        return scope
    child = scope.child(xi="noise")
    child.absent = {k: v for k, v in scope.absent.items() if k != "xi"}
    return child


def resolve_model(node: ast.NeuronDef | ast.SynapseDef, diags: Diagnostics) -> ir.Model | None:
    """A neuron or synapse definition → :class:`ir.Model`, or ``None`` when its own name cannot be declared
    (SNN221/SNN210, see :func:`check_identifier`).

    Parameters are declared first, then states and input ports, then ``let`` definitions in order (each sees
    the ones before it). A parameter default may use the parameters declared above it, a state initial value
    any parameter; both are folded to constants, which give the unit when none is written. Every equation
    sees every declaration, plus ``t`` and ``dt``; a synapse's weighted input ``w`` too, except in the output of a
    synapse with state.
    A spike condition without ``scale`` gets ``right - reset value`` as its surrogate scale (when there is a
    reset). Problems go to ``diags`` (SNN201/202/209/210/219/220/221 and registry codes); a model with errors
    is still returned, marked ``broken=True`` so checks skip its equations.
    """
    kind = "neuron" if isinstance(node, ast.NeuronDef) else "synapse"
    if not check_identifier(node.name, diags, kind):
        return None
    before = diags.has_errors, len(diags.items)
    model = _ModelBuilder(node, kind, diags).build()
    if any(d.severity == "error" for d in diags.items[before[1]:]):
        model = attrs.evolve(model, broken=True)
    return model

