"""A model's ODEs as one system, and the integration methods' lowering hooks (:data:`INTEGRATORS`).

Every method but ``exp_euler_sequential`` integrates the system dx/dt = f(x) simultaneously: each
right-hand side is evaluated from the same old state x(t), whatever the declaration order.

* ``exp_euler``: per-variable exponential Euler, x_i <- x_i + (e^{a_i dt} - 1)/a_i f_i(x), a_i = df_i/dx_i,
  the other states at their old values (Brian2's ``exponential_euler``);
* ``exp_euler_sequential``: the same, one ODE after another in declaration order, each seeing the states
  updated before it (brainpy.state's order; the standard library's models use it);
* ``euler``: x <- x + dt f(x);
* ``rk4``: the classical Runge-Kutta step on the whole state vector;
* ``exact``: for a linear system dx/dt = A x + b (:mod:`snndsl.ir.linear`; inputs, parameters and ``t``
  held over the step), x <- e^{A dt} x + ∫_0^dt e^{A s} ds b, computed from the exponential of the augmented
  matrix [[A dt, 1], [0, 0]] (the prelude's ``_exact``).

The hook signature is ``(system: OdeSystem) -> list of statements``: the statements that take the system's
locals from x(t) to x(t + dt) inside ``update``. Noise or other additions after the deterministic step go
after these statements.
"""

from __future__ import annotations

import ast
from typing import Callable

import attrs

from snndsl import ir
from snndsl.ir.linear import Affine
from snndsl.lower import emit as E
from snndsl.registry import INTEGRATORS

#: lowers an IR expression inside ``update``; the second argument names the variable a port's conductance
#: input is evaluated at (``None``: the membrane)
Lowerer = Callable[[ir.Expr, "str | None"], ast.expr]


@attrs.frozen
class Member:
    """One ODE of a system: the local variable ``var`` of ``update`` it integrates, its derivative ``rhs``
    (IR, lowered with ``lower``), its ``span`` for comments, the emitted ``unit`` of the state (``u.mV``;
    ``self.unit`` for a synapse state that takes its input's unit) and ``membrane``: whether ports are
    evaluated at this variable inside its own derivative (conductance inputs g (E - V) move with V)."""

    var: str
    rhs: ir.Expr
    span: object
    lower: Lowerer
    unit: ast.expr
    membrane: bool = False


@attrs.frozen
class LinearRow:
    """The derivative of one member as lowered coefficients: dx_i/dt = sum_j ``coeffs[x_j]`` x_j + sum_p
    ``ports[p]`` p + ``rest``; keys are local variable names, values ``ast`` expressions (``rest`` ``None``:
    0). A port ``p`` is the local holding the port's input (``_port(I, V)``: a current, or a function of the
    membrane, linearised by ``_port_affine``)."""

    coeffs: dict
    ports: dict
    rest: ast.expr | None


@attrs.frozen
class OdeSystem:
    """The ODEs integrated together in one ``update``: ``members`` in declaration order, the ``method``'s
    name (for comments), the local name of the membrane ``v`` and its unit ``v_unit`` (ports are linearised
    around it), and ``linear``: the rows of dx/dt = A x + R p + b when the method needs them (``exact``).
    ``where`` locates the ODEs in the source (``file:line``)."""

    members: tuple[Member, ...]
    method: str
    where: str
    v: str | None = None
    v_unit: ast.expr | None = None
    linear: tuple[LinearRow, ...] | None = None

    @property
    def vars(self) -> list[str]:
        """The local variable of each member."""
        return [m.var for m in self.members]

    def derivative(self, m: Member) -> E.Block:
        """``def X__dt(X): return f_X(...)``: the member's derivative as a function of its own variable, the
        other states read from the enclosing ``update`` (their values when it is called)."""
        rhs = m.lower(m.rhs, m.var if m.membrane else None)
        return E.def_(E.derived(m.var, "dt"), E.arguments([m.var]), [E.ret(rhs)], E.where(m.span))

    def vector(self) -> E.Block:
        """``def _derivs(X1, X2, ...): return (f_1, f_2, ...)``: the whole right-hand side as a function of
        the state vector (ports at the membrane argument)."""
        rhs = [m.lower(m.rhs, None) for m in self.members]
        return E.def_("_derivs", E.arguments(self.vars), [E.ret(ast.Tuple(rhs, ast.Load()))],
                      f"the ODE system, {self.where}")


def lowered_rows(rows: tuple[Affine, ...], members: tuple[Member, ...], states: dict[str, str],
                 ports: dict[str, str]) -> tuple[LinearRow, ...]:
    """:class:`LinearRow` of each :class:`~snndsl.ir.linear.Affine` row, lowered with its member's lowerer:
    ``states`` maps a state name to its member's local variable, ``ports`` a port name to its local."""
    out = []
    for row, m in zip(rows, members):
        coeffs, port_coeffs = {}, {}
        for (kind, name), c in row.coeffs.items():
            target = coeffs if kind == "state" else port_coeffs
            target[states[name] if kind == "state" else ports[name]] = m.lower(c, None)
        rest = m.lower(row.rest, None) if row.rest is not None else None
        out.append(LinearRow(coeffs, port_coeffs, rest))
    return tuple(out)


def _targets(names: list[str]) -> ast.expr:
    """The assignment target ``a, b`` (``(a,)`` for one name)."""
    return ast.Tuple([E.store(n) for n in names], ast.Store())


def _assign_all(system: OdeSystem, values: list[ast.expr]) -> E.Line:
    """``X1, X2 = v1, v2`` (``X = v`` for one member): every value computed before any is assigned."""
    comment = f"{system.method}, {system.where}"
    if len(values) == 1:
        return E.assign(system.vars[0], values[0], comment)
    return E.Line(ast.Assign([_targets(system.vars)], ast.Tuple(values, ast.Load())), comment)


def _dt() -> ast.expr:
    """``bs.environ.get_dt()``."""
    return E.call(E.attr("bs", "environ", "get_dt"))


@INTEGRATORS.implement("lower", "exp_euler", "exp_euler_sequential")
def _exp_euler(system: OdeSystem) -> list[E.Stmt]:
    """Exponential Euler in each variable: X_i = ``bs.nn.exp_euler_step(dX_i, X_i)``, x_i + (e^{a dt} - 1)/a
    f_i with a = df_i/dx_i found by autodiff (a ``let`` or a conductance input depending on x_i is part of
    it), each derivative a function of its own variable (:meth:`OdeSystem.derivative`).

    Simultaneous (``exp_euler``): all derivatives defined, then every state assigned at once, so each reads
    the others at x(t). Sequential (the method's trait ``sequential``, ``exp_euler_sequential``,
    brainpy.state's order): each ODE in declaration order defined and stepped in turn, so a later
    derivative reads the states already updated this step."""
    def step(m: Member) -> ast.expr:
        return E.call(E.attr("bs", "nn", "exp_euler_step"), E.name(E.derived(m.var, "dt")), E.name(m.var))
    if INTEGRATORS[system.method].traits.sequential:
        out: list[E.Stmt] = []
        for m in system.members:
            out += [system.derivative(m), E.assign(m.var, step(m), f"{system.method}, {E.where(m.span)}")]
        return out
    return [*(system.derivative(m) for m in system.members), _assign_all(system, [step(m) for m in system.members])]


@INTEGRATORS.implement("lower", "euler")
def _euler(system: OdeSystem) -> list[E.Stmt]:
    """Forward Euler, x(t + dt) = x + dt f(x(t)), every derivative from the old state (first order; stable
    for dt well below the fastest time constant)."""
    defs = [system.derivative(m) for m in system.members]
    steps = [E.binop("+", E.name(m.var), E.binop("*", _dt(), E.call(E.derived(m.var, "dt"), E.name(m.var))))
             for m in system.members]
    return [*defs, _assign_all(system, steps)]


@INTEGRATORS.implement("lower", "rk4")
def _rk4(system: OdeSystem) -> list[E.Stmt]:
    """The classical Runge-Kutta step on the state vector (the prelude's ``_rk4``): k1 = f(x), k2 = f(x +
    dt/2 k1), k3 = f(x + dt/2 k2), k4 = f(x + dt k3); x(t + dt) = x + dt/6 (k1 + 2 k2 + 2 k3 + k4)."""
    step = E.call("_rk4", E.name("_derivs"), ast.Tuple([E.name(v) for v in system.vars], ast.Load()))
    return [system.vector(), E.Line(ast.Assign([_targets(system.vars)], step),
                                    f"{system.method}, {system.where}")]


def _sum(terms: list[ast.expr]) -> ast.expr | None:
    """t1 + t2 + ... (``None`` for no terms)."""
    out = None
    for t in terms:
        out = t if out is None else E.binop("+", out, t)
    return out


@INTEGRATORS.implement("lower", "exact")
def _exact(system: OdeSystem) -> list[E.Stmt]:
    """The propagator of the linear system dx/dt = A x + R p + b (p the ports' inputs, held over the
    step; a conductance input, affine in the membrane V, as p(V0) + p'(V - V0) with p' in A):
    x <- e^{A dt} x + ∫_0^dt e^{A s} ds b (the prelude's ``_exact``). Every entry is made a dimensionless
    number with each state a mantissa in its unit: (A dt)_ij = A_ij dt U_j / U_i, (b dt)_i = b_i dt / U_i."""
    out: list[E.Stmt] = [E.assign("_dt", _dt())]
    ports = sorted({p for row in system.linear for p in row.ports})
    for p in ports:
        value = E.call("_port_affine", E.name(p), E.name(system.v), system.v_unit)
        out.append(E.Line(ast.Assign([_targets([E.derived(p, "in"), E.derived(p, "slope")])], value),
                          "the port's input and its slope in the membrane (0 for a current)"))
    units = {m.var: m.unit for m in system.members}
    a_rows, b_terms = [], []
    for m, row in zip(system.members, system.linear):
        entries = []
        for j in system.vars:
            terms = [row.coeffs[j]] if j in row.coeffs else []
            if j == system.v:
                terms += [E.binop("*", c, E.name(E.derived(p, "slope"))) for p, c in row.ports.items()]
            coef = _sum(terms)
            if coef is None:
                entries.append(E.const(0.0))
                continue
            entry = E.binop("*", E.name("_dt"), coef)
            if j != m.var and ast.dump(units[j]) != ast.dump(m.unit):
                entry = E.binop("/", E.binop("*", entry, units[j]), m.unit)
            entries.append(entry)
        a_rows.append(ast.Tuple(entries, ast.Load()))
        terms = [row.rest] if row.rest is not None else []
        for p, c in row.ports.items():
            held = E.binop("-", E.name(E.derived(p, "in")), E.binop("*", E.name(E.derived(p, "slope")),
                                                                       E.name(system.v)))
            terms.append(E.binop("*", c, held))
        b = _sum(terms)
        b_terms.append(E.const(0.0) if b is None else E.binop("/", E.binop("*", E.name("_dt"), b), m.unit))
    tup = lambda xs: ast.Tuple(list(xs), ast.Load())
    step = E.call("_exact", tup(a_rows), tup(b_terms), tup(E.name(v) for v in system.vars),
                  tup(units[v] for v in system.vars))
    out.append(E.Line(ast.Assign([_targets(system.vars)], step),
                      f"{system.method}: x <- e^(A dt) x + (integral of e^(A s) ds) b, {system.where}"))
    return out
