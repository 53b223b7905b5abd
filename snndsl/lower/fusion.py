"""Fusion across a projection: a linear current synapse integrated jointly with its target neuron.

When a population's integration method fuses (``Integrator.fuses``: ``exact``), its neuron model is linear
in its states and ports, and a projection into it has a synapse that is linear in its own states, delivers
a current (no ``conductance`` output) and does not read ``t``, then the synapse's ODEs join the neuron's
system: dV/dt = ... + R I with I = (the other inputs) + output(g), dg/dt = -g / tau, integrated together
by the propagator, so the synaptic current moves within the step (Brian2's ``method='exact'`` on one
NeuronGroup, NEST's exact integration). A conductance output g (E - V) makes the system bilinear (g V):
it is never fused.

Where it lives: the synapse keeps its module (``<proj>__syn``: its parameters and states, recordable as
``proj.g``), but its ``update`` is not called. The network passes the module and this step's weighted input
to the neuron's ``update`` (``_s0=self.x_to_h__syn, _w0=...``); the neuron's class, specialised for the
fused synapses (a model variant, ``LIF_with_Expon``), reads the synapse's parameters and states, applies its
``on_spike`` arrival (``g += w``, at the step boundary as without fusion), integrates the joint system and
stores the synapse states back. See docs/architecture.md, "ODE systems".
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import attrs

from snndsl import ir
from snndsl.ir.noise import has_noise
from snndsl.ir.linear import ONE, affine, linear_system
from snndsl.ir.tools import refs, substitute
from snndsl.lower import emit as E
from snndsl.lower.exprs import lower, unit_expr
from snndsl.lower.odesystem import LinearRow, Member, lowered_rows
from snndsl.registry import INTEGRATORS, OUTPUTS


def fusable(program: ir.Program, net: ir.Network, pr: ir.Projection, method: str) -> bool:
    """Whether projection ``pr``'s synapse is integrated inside its target (whose integration method is
    ``method``): the method fuses, the target is a neuron whose ODEs are linear in its states and ports,
    and the synapse has ODEs linear in its states, an output affine in them, a current output (no
    membrane dependence, no scaling) and no reference to ``t``; neither has white noise (``xi``); the projection is not plastic."""
    post = net.node(pr.post)
    if pr.synapse is None or not isinstance(post, ir.Population) or not INTEGRATORS[method].traits.fuses \
            or pr.plasticity is not None:
        return False
    neuron, syn = program.model(post.model), program.model(pr.synapse.model)
    output = OUTPUTS[pr.output.name] if pr.output is not None else OUTPUTS["current"]
    if neuron.kind != "neuron" or output.traits.uses_membrane or output.traits.scales_by is not None:
        return False
    if not syn.odes or linear_system(neuron) is None or linear_system(syn, ports=False) is None:
        return False
    if any(has_noise(o.rhs) for m in (neuron, syn) for o in m.odes):   # Euler-Maruyama: each module its own
        return False
    lets = {let.name: let.value for let in syn.lets}
    exprs = [o.rhs for o in syn.odes] + [x.value for x in syn.on_spike] + [syn.output]
    if any(k == "time" for e in exprs for k, _ in refs(substitute(e, lets))):
        return False
    return _output(syn) is not None


def _output(syn: ir.Model):
    """The synapse's output as an :class:`~snndsl.ir.linear.Affine` form of its states (``None``: not
    affine)."""
    lets = {let.name: let.value for let in syn.lets}
    return affine(substitute(syn.output, lets), {("state", s.name) for s in syn.states})


@attrs.frozen
class FusedSynapse:
    """The ``index``-th synapse fused into a neuron: projection ``label`` into ``port``, its model's
    lowering ``syn`` (:class:`~snndsl.lower.models.ModelLowering`). Inside the neuron's ``update`` its
    module is ``_s<index>`` and its weighted input ``_w<index>``."""

    index: int
    port: str
    syn: Any
    label: str

    @property
    def module(self) -> str:
        """The argument holding the synapse's module."""
        return f"_s{self.index}"

    @property
    def weight(self) -> str:
        """The argument holding this step's weighted input."""
        return f"_w{self.index}"

    def local(self, name: str) -> str:
        """The local variable of the synapse's state ``name`` inside the neuron's ``update``
        (``g_0__fused``)."""
        return E.derived(f"{E.py_name(name)}_{self.index}", "fused")

    def ref(self, r: ir.Ref) -> ast.expr:
        """A synapse symbol inside the neuron's ``update``: its parameters read from its module (``.value``
        when trained), its states as locals, ``w`` the weighted input, ``dt`` the environment's."""
        if r.kind == "param":
            node = E.attr(self.module, E.py_name(r.name))
            return E.attr(node, "value") if r.name in self.syn.trainable else node
        if r.kind == "state":
            return E.name(self.local(r.name))
        if r.kind == "weight":
            return E.name(self.weight)
        if r.kind == "dt":
            return E.call(E.attr("bs", "environ", "get_dt"))
        raise ValueError(f"{r.name} cannot be read in a fused synapse")

    def lowerer(self) -> Callable[[ir.Expr, str | None], ast.expr]:
        """Lowers a synapse expression (its ``let`` definitions inlined) inside the neuron's ``update``."""
        return lambda expr, var=None: lower(self.syn.sub(expr), self.ref)

    def unit(self, name: str) -> ast.expr:
        """The emitted unit of state ``name``: declared, or the module's ``unit`` (its input's)."""
        unit = self.syn.m.state(name).unit
        return E.attr(self.module, "unit") if unit is None else unit_expr(unit)

    def load(self) -> list[E.Stmt]:
        """Its states read from the module, then its ``on_spike`` arrival applied (``g += w``: the
        weighted input of this step, ungated, at the start of the step)."""
        m = self.syn.m
        lines: list[E.Stmt] = []
        for i, s in enumerate(m.states):
            comment = f"synapse of {self.label} ({m.name}, {E.where(m.span)}), integrated here" if i == 0 else ""
            lines.append(E.assign(self.local(s.name), E.attr(self.module, E.py_name(s.name), "value"), comment))
        ex = self.lowerer()
        for upd in m.on_spike:
            x = E.name(self.local(upd.var))
            value = ex(upd.value)
            new = {"+=": E.binop("+", x, value), "-=": E.binop("-", x, value), "=": value}[upd.op]
            lines.append(E.assign(self.local(upd.var), new, f"on_spike, {E.where(upd.span)}"))
        return lines

    def store(self) -> list[E.Stmt]:
        """Its states written back to the module."""
        return [E.set_attr(self.module, [E.py_name(s.name), "value"], E.name(self.local(s.name)))
                for s in self.syn.m.states]

    def members(self) -> tuple[Member, ...]:
        """Its ODEs as members of the neuron's system."""
        ex = self.lowerer()
        return tuple(Member(self.local(o.var), o.rhs, o.span, ex, self.unit(o.var)) for o in self.syn.m.odes)

    def rows(self) -> tuple[LinearRow, ...]:
        """Its ODEs' lowered linear rows (coefficients over its states' locals)."""
        system = linear_system(self.syn.m, ports=False)
        return lowered_rows(system.rows, self.members(), {s: self.local(s) for s in system.states}, {})


def fused_rows(rows: tuple[LinearRow, ...], fused: tuple[FusedSynapse, ...]) -> tuple[LinearRow, ...]:
    """The neuron's rows with each fused synapse's output substituted into its port: a term c p of
    port p becomes c (p_rest + sum_s o_s g_s + o_0), p_rest the other inputs (still held over the step),
    o the synapse output's affine coefficients; then the synapses' own rows."""
    out = []
    for row in rows:
        coeffs, rest = dict(row.coeffs), row.rest
        for f in fused:
            c = row.ports.get(E.py_name(f.port))
            if c is None:
                continue
            form, ex = _output(f.syn.m), f.lowerer()
            for (_, s), o in form.coeffs.items():
                term = c if o is ONE else E.binop("*", c, ex(o))
                key = f.local(s)
                coeffs[key] = term if key not in coeffs else E.binop("+", coeffs[key], term)
            if form.rest is not None:
                term = E.binop("*", c, ex(form.rest))
                rest = term if rest is None else E.binop("+", rest, term)
        out.append(LinearRow(coeffs, row.ports, rest))
    for f in fused:
        out.extend(f.rows())
    return tuple(out)
