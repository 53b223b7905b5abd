"""Neuron and synapse models → brainstate module classes in the emitted module.

One class per model and set of trainable parameters, shared by every population using it: population
values arrive as constructor arguments; which parameters are trained is settled here (a trainable one is a
``ParamState`` read through ``.value``, the others plain arrays), so ``LIF`` and ``LIF_trainable_tau`` are
two classes when both are used. The class docstring shows the model's equations as declared.

One step of a spiking neuron follows brainpy.state (see docs/language.md, "One time step"): spike of the
stored state → reset → ``on_spike`` updates → the ODE system (:meth:`ModelLowering.integrate`) → refractory hold → store → spike of
the new state. A synapse integrates its ODE system, then adds the weighted input ``w`` (``on_spike``), then
returns its ``output``.
"""

from __future__ import annotations

import ast

import attrs

from snndsl import units as u
from snndsl import ir
from snndsl.ir.text import show_expr
from snndsl.ir.infer import ModelEnv
from snndsl.ir.evaluate import evaluate
from snndsl.lower import emit as E
from snndsl.lower import passes
from snndsl.ir.tools import membrane, refs, substitute
from snndsl.lower.exprs import lower, target_call, unit_expr, value_expr
from snndsl.ir.linear import linear_system
from snndsl.lower.fusion import FusedSynapse, fused_rows
from snndsl.lower.noise import drift_odes, noise_coefficients, noise_increments
from snndsl.lower.odesystem import Member, OdeSystem, lowered_rows
from snndsl.registry import INTEGRATORS, SURROGATES


class ModelLowering:
    """Builds the class ``cls`` for one model whose parameters ``trainable`` are trained. ``lets`` are
    inlined, so exponential Euler sees their dependence on the integrated variable (a conductance
    ``g (E - V)`` in a ``let`` is part of dV/dt's Jacobian).

    Attributes: ``m`` the model, ``cls`` the class name, ``trainable`` the trained parameters, ``v`` its
    membrane (:func:`snndsl.ir.tools.membrane`: the state ports and the spike condition act on),
    ``refractory`` whether a refractory hold is emitted, ``needs_t`` whether ``update`` takes the time
    ``t``, ``env`` the unit stand-ins of its symbols. The emitted class, for a population of ``size``
    neurons (batch ``B`` or none)::

        __init__(size, *, <params>, <states>, surrogate, unit)  # values per population
        init_state(batch_size) / reset_state(batch_size)          # states [B, size] or [size]
        output()                                                  # the stored state's output
        update([w,] <ports>..., [t])                              # one step; returns the output
    """

    def __init__(self, model: ir.Model, cls: str | None = None, trainable: tuple[str, ...] = (),
                 fused: tuple[FusedSynapse, ...] = (), carry_spike: bool = True):
        """Prepare ``model``'s lowering; ``cls`` defaults to the model's name made a safe identifier;
        ``fused``: the synapses integrated inside this neuron (:mod:`snndsl.lower.fusion`);
        ``carry_spike=False`` keeps the recomputed reset spike (online learning needs the membrane's own
        dependence on its past, see :func:`~snndsl.lower.passes.carries_spike`)."""
        self.m = model
        self.cls = cls or E.py_name(model.name)
        self.trainable = trainable
        self.fused = fused
        lets = {let.name: let.value for let in model.lets}
        self.sub = lambda e: substitute(e, lets)
        self.v = membrane(model)
        self.refractory = model.refractory is not None and model.kind == "neuron" and self.v is not None
        self.crossing = model.spike is not None and bool(model.spike.crossing)
        self.needs_t = any(("time", "t") in refs(self.sub(e)) for e in self._all_exprs())
        self.env = ModelEnv(model)
        self.carried = carry_spike and passes.carries_spike(self)

    def _all_exprs(self):
        """Every expression ``update`` evaluates (``None`` where the model has none): derivatives,
        ``on_spike`` values, the spike condition and scale, the reset value, output and refractory period."""
        m = self.m
        yield from (o.rhs for o in m.odes)
        yield from (x.value for x in m.on_spike)
        if m.spike:
            yield from (m.spike.left, m.spike.right, m.spike.scale)
        if m.reset:
            yield m.reset.value
        yield m.output
        yield m.refractory

    # ---------------------------------------------------------------- symbols
    def local(self, ref: ir.Ref, var: str | None = None) -> ast.expr:
        """A symbol inside ``update``: parameters and states are locals, ports are called with the membrane.

        A port reads ``_port(I, V)``: the summed current, or for conductance inputs the port's function at
        ``var`` (the local variable being integrated, an emitted name) or the membrane. ``t`` is the step's
        time, ``dt`` the environment's, ``w`` the synapse's weighted input argument.
        """
        if ref.kind == "input":
            return E.call("_port", E.name(E.py_name(ref.name)), E.name(var or E.py_name(self.v)))
        if ref.kind == "time":
            return E.name("_t")
        if ref.kind == "dt":
            return E.call(E.attr("bs", "environ", "get_dt"))
        if ref.kind == "weight":
            return E.name("_w")
        return E.name(E.py_name(ref.name))

    def stored(self, ref: ir.Ref) -> ast.expr:
        """A symbol read from the module (``output()``/``spike()`` of the stored state)."""
        if ref.kind == "param":
            return self.param(ref.name)
        if ref.kind == "state":
            return E.attr("self", E.py_name(ref.name), "value")
        if ref.kind == "dt":
            return E.call(E.attr("bs", "environ", "get_dt"))
        raise ValueError(f"{ref.name} cannot be read outside update")

    def param(self, name: str) -> ast.expr:
        """A parameter's value: ``self.tau.value`` when it is trained (a ``ParamState``), else ``self.tau``."""
        if name in self.trainable:
            return E.attr("self", E.py_name(name), "value")
        return E.attr("self", E.py_name(name))

    def ex(self, expr: ir.Expr, var: str | None = None) -> ast.expr:
        """``expr`` inside ``update``, ``let`` definitions inlined, symbols as :meth:`local` lowers them
        (``var``: the local variable, an emitted name, a port's conductance input is evaluated at, default
        the membrane)."""
        return lower(self.sub(expr), lambda r: self.local(r, var))

    def spike_arg(self, reader) -> ast.expr:
        """The argument of the surrogate spike function: x = (left - right) / scale for ``spike when left >=
        right`` (``>`` alike), (right - left) / scale for ``<=``/``<``; the spike is H(x) (1 for x >= 0) with
        the surrogate's gradient. Without a written ``scale`` the resolver uses (threshold - reset
        value); without a reset either, it is one unit of ``left`` (``1 mV``), so x is a plain number.
        ``reader`` lowers each symbol (:meth:`local` inside ``update``, :meth:`stored` in ``output``)."""
        sp = self.m.spike
        left, right = lower(self.sub(sp.left), reader), lower(self.sub(sp.right), reader)
        diff = E.binop("-", left, right) if sp.op in (">=", ">") else E.binop("-", right, left)
        if sp.scale is not None:
            scale = lower(self.sub(sp.scale), reader)
        else:
            scale = unit_expr(u.get_unit(evaluate(sp.left, self.env)))
        return E.binop("/", diff, scale)

    # ---------------------------------------------------------------- class
    def build(self) -> E.Block:
        """The class: docstring (:meth:`doc`), ``__init__``, ``init_state``, ``reset_state``, ``output``
        (omitted for a stateless synapse, which has nothing stored to read) and ``update``."""
        m = self.m
        body: list[E.Stmt] = [E.docstring(self.doc()), E.Blank(),
                              self.init(), E.Blank(), self.init_state(), E.Blank(), self.reset_state(), E.Blank()]
        if m.kind == "neuron" or m.states:   # a stateless synapse (Delta) has nothing to read between steps
            body += [self.output(), E.Blank()]
        body.append(self.update())
        return E.class_(self.cls, [E.attr("bs", "nn", "Module")], body, E.where(m.span))

    def doc(self) -> str:
        """The docstring: the model's equations as declared, and what is trained.

        The first line names the model and its source (``Neuron LIF, from models/std.snn:12.``); then one
        indented row per ``let``, ODE, spike, reset, ``on_spike``, refractory and output statement, printed
        back as ``.snn`` text (:func:`~snndsl.ir.text.show_expr`), and the integration method.
        """
        m = self.m
        rows = [f"let {let.name} = {show_expr(let.value)}" for let in m.lets]
        rows += [f"d{o.var}/dt = {show_expr(o.rhs)}" for o in m.odes]
        if m.spike is not None:
            sp = m.spike
            scale = f", scale = {show_expr(sp.scale)}" if sp.scale is not None else ""
            scale += ", crossing" if sp.crossing else ""
            rows.append(f"spike when {show_expr(sp.left)} {sp.op} {show_expr(sp.right)}{scale}")
        if m.reset is not None:
            rows.append(f"reset {m.reset.mode} {m.reset.var} = {show_expr(m.reset.value)}")
        rows += [f"on_spike {x.var} {x.op} {show_expr(x.value)}" for x in m.on_spike]
        if m.refractory is not None:
            rows.append(f"refractory {show_expr(m.refractory)}")
        if m.kind == "synapse" and m.output is not None:
            rows.append(f"output {show_expr(m.output)}")
        if m.odes:
            rows.append(f"method {m.method}")
        text = f"{m.kind.capitalize()} {m.name}, from {E.where(m.span)}."
        if rows:
            text += "\n\n" + "\n".join("    " + r for r in rows)
        if self.trainable:
            text += f"\n\nTrainable: {', '.join(self.trainable)} (a ParamState, one value per neuron)."
        for f in self.fused:
            text += (f"\n\nIntegrates the states of synapse {f.module} ({f.syn.m.name}, into port {f.port}) with its "
                     "own, as one linear system (snndsl/lower/fusion.py).")
        return text

    def init(self) -> E.Block:
        """``__init__(self, size, *, <each parameter>, <each state>, surrogate, unit)``.

        A parameter's keyword default is its declared constant; one whose default refers to other parameters
        defaults to ``None`` and is computed from them in the body. Each parameter is stored as
        ``bt.init.param(value, (size,))`` (a scalar stays a scalar, an initialiser draws ``[size]``); a
        trained one as a ``ParamState`` of ``[size]``, one value per neuron. A state's keyword (default
        ``None``: the declared initial value) is kept as ``self.X_init`` for :meth:`init_state`. Spiking
        models take ``surrogate`` (the spike function, default the model's); synapses take ``unit``, the
        unit of their input, which states declared without a unit take.
        """
        m = self.m
        kwonly, defaults, lines = [], [], []
        for p in m.params:
            kwonly.append(E.py_name(p.name))
            default, computed = param_default(p)
            defaults.append(default)
            lines.extend(computed)
        for s in m.states:
            kwonly.append(E.py_name(s.name))
            defaults.append(E.const(None))
        if m.spike is not None:
            kwonly.append("surrogate")
            defaults.append(self.surrogate_expr(m.surrogate))
        if m.kind == "synapse":
            kwonly.append("unit")
            defaults.append(E.attr("u", "UNITLESS"))
        lines.insert(0, Line_super())
        lines.append(E.set_attr("self", ["size"], E.name("size")))
        for p in m.params:
            n = E.py_name(p.name)
            if p.kind == "bool":    # a switch: a Python bool, for select() (u.math.where)
                lines.append(E.set_attr("self", [n], E.call("bool", E.name(n)), E.where(p.span)))
                continue
            value = E.call(E.attr("bt", "init", "param"), E.name(n), ast.Tuple([E.name("size")], ast.Load()))
            if p.name in self.trainable:    # one value per neuron, even from a scalar
                value = E.call(E.attr("bs", "ParamState"),
                               E.binop("*", value, E.call(E.attr("jnp", "ones"), E.name("size"))))
            lines.append(E.set_attr("self", [n], value, E.where(p.span)))
        for s in m.states:
            n = E.py_name(s.name)
            lines.append(E.set_attr("self", [E.derived(n, "init")], E.name(n), E.where(s.span)))
        if m.spike is not None:
            lines.append(E.set_attr("self", ["_spk_fun"], E.name("surrogate")))
        if m.kind == "synapse":
            lines.append(E.set_attr("self", ["unit"], E.name("unit")))
        args = E.arguments(["self", "size"], kwonly=kwonly, kw_defaults=defaults)
        return E.def_("__init__", args, lines)

    def surrogate_expr(self, spec: ir.Spec | None) -> ast.expr:
        """The surrogate's library object (relu_grad(alpha = 0.3, width = 1.0) when the model names none)."""
        spec = spec or ir.Spec("surrogate", "relu_grad", (("alpha", 0.3), ("width", 1.0)))
        return target_call(SURROGATES[spec.name], spec)

    def initial(self, s: ir.StateDef) -> ast.expr:
        """The initial value (or initialiser) of a state, from an override or the declaration."""
        n = E.py_name(s.name)
        if s.init is not None:
            default = lower(s.init, self.stored)
        elif s.unit is None:
            default = E.call(E.attr("bt", "init", "ZeroInit"), unit=E.attr("self", "unit"))
        else:
            default = E.call(E.attr("bt", "init", "ZeroInit"), unit=unit_expr(s.unit))
        override = E.attr("self", E.derived(n, "init"))
        return ast.IfExp(ast.Compare(override, [ast.IsNot()], [E.const(None)]), override, default)

    def _state_lines(self, kind: str) -> list[E.Stmt]:
        """The body of ``init_state`` (``kind == "init"``: new State objects) or ``reset_state`` (new values
        for the existing ones)."""
        lines: list[E.Stmt] = []
        for s in self.m.states:
            n = E.py_name(s.name)
            value = E.call("_state", self.initial(s), E.attr("self", "size"), E.name("batch_size"))
            if kind == "init":
                lines.append(E.set_attr("self", [n], E.call(E.attr("bs", "HiddenState"), value), E.where(s.span)))
            else:
                lines.append(E.set_attr("self", [n, "value"], value, E.where(s.span)))
        if self.carried:
            spike = E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.stored))
            note = "carried spike: H(x) of the stored state, the reset's spike at the next step"
            if kind == "init":
                lines.append(E.set_attr("self", ["_spike"], E.call(E.attr("bs", "ShortTermState"), spike), note))
            else:
                lines.append(E.set_attr("self", ["_spike", "value"], spike, note))
        if self.crossing:      # the last step's spike: a crossing cannot be recomputed from the stored state
            zeros = E.call("_state", E.const(0.0), E.attr("self", "size"), E.name("batch_size"))
            if kind == "init":
                lines.append(E.set_attr("self", ["_crossed"], E.call(E.attr("bs", "ShortTermState"), zeros)))
            else:
                lines.append(E.set_attr("self", ["_crossed", "value"], zeros))
        if self.refractory:
            zeros = E.call("_counter", E.attr("self", "size"), E.name("batch_size"))
            if kind == "init":
                lines.append(E.set_attr("self", ["_refractory"], E.call(E.attr("bs", "ShortTermState"), zeros)))
            else:
                lines.append(E.set_attr("self", ["_refractory", "value"], zeros))
        return lines

    def init_state(self) -> E.Block:
        """``init_state(self, batch_size=None, **kwargs)``: each state a ``bs.HiddenState`` of shape
        ``[batch_size, size]`` (``[size]`` unbatched) from :meth:`initial`; with a carried spike
        (:func:`~snndsl.lower.passes.carries_spike`), ``_spike`` (a ``ShortTermState``: H(x) of those
        states); with a refractory period, ``_refractory``, the steps each neuron is still held (an int32
        ``ShortTermState``, 0: free)."""
        args = E.arguments(["self", "batch_size"], [E.const(None)], kwarg="kwargs")
        return E.def_("init_state", args, self._state_lines("init"))

    def reset_state(self) -> E.Block:
        """``reset_state(self, batch_size=None, **kwargs)``: the states of :meth:`init_state` set back to
        their initial values (the State objects are kept, so jitted code that holds them stays valid)."""
        args = E.arguments(["self", "batch_size"], [E.const(None)], kwarg="kwargs")
        return E.def_("reset_state", args, self._state_lines("reset"))

    def output(self) -> E.Block:
        """``output()``: what the population emits, from the stored state (recurrent reads, recording); the
        carried spike when there is one (the same value, and its gradient reaches the surrogate already
        applied at the end of the last step)."""
        m = self.m
        if self.crossing:
            value = E.attr("self", "_crossed", "value")
        elif self.carried:
            value = E.attr("self", "_spike", "value")
        elif m.spike is not None:
            value = E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.stored))
        elif m.kind == "synapse":
            value = lower(self.sub(m.output), self.stored)
        else:
            value = E.attr("self", E.py_name(self.v), "value")
        return E.def_("output", E.arguments(["self"]), [E.ret(value)])

    def update(self) -> E.Block:
        """``update(self, [w=0.0,] <port>=0 unit..., [t=0 ms])``: one time step, returning the new output.

        For a neuron: read parameters and states into locals; spike = H(x) of the stored state
        (:meth:`spike_arg`), or the carried spike ``self._spike`` (:func:`~snndsl.lower.passes.carries_spike`:
        the same value, the spike returned at the end of the last step; this step's new spike is stored
        there); reset (soft: V -= (threshold - value) * spike; hard: V -= (stop_gradient(V)
        - value) * spike, i.e. V = value where it spiked with no gradient through the jump); ``on_spike``
        updates (:meth:`updates`); remember the post-reset V when refractory; integrate the ODE system
        (:meth:`integrate`, with any fused synapses); hold V during the refractory period (:meth:`hold`);
        store the states; return the spike of the new state (a non-spiking neuron returns its membrane). For a synapse: integrate
        the ODEs, then add the weighted input ``w`` (its ``on_spike`` updates), store, return ``output``.
        Every port's value is a current ``[B, size]`` or, for conductance inputs, a function of V.
        """
        m = self.m
        used = set().union(*(refs(self.sub(e)) for e in self._all_exprs()))
        lines: list[E.Stmt] = []
        for p in m.params:
            if ("param", p.name) in used:
                lines.append(E.assign(E.py_name(p.name), self.param(p.name)))
        for s in m.states:
            lines.append(E.assign(E.py_name(s.name), E.attr("self", E.py_name(s.name), "value")))
        if self.carried:
            lines.append(E.assign("_spike", E.attr("self", "_spike", "value"),
                                  f"carried spike: H(x) of the stored state, {E.where(m.spike.span)}"))
        elif m.spike is not None:
            lines.append(E.assign("_spike", E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.local)),
                                  E.where(m.spike.span)))
        if m.reset is not None:
            r, v = m.reset, E.py_name(m.reset.var)
            amount = (E.binop("-", self.ex(m.spike.right), self.ex(r.value)) if r.mode == "soft" and m.spike
                      else E.binop("-", E.call(E.attr("jax", "lax", "stop_gradient"), E.name(v)), self.ex(r.value)))
            lines.append(E.assign(v, E.binop("-", E.name(v), E.binop("*", amount, E.name("_spike"))),
                                  f"reset {r.mode}, {E.where(r.span)}"))
        if m.kind == "neuron":
            lines.extend(self.updates())
        if self.refractory:
            lines.append(E.assign("_held", E.name(E.py_name(self.v)), "refractory: the post-reset value"))
        lines.extend(noise_coefficients(self))
        lines.extend(self.integrate())
        lines.extend(noise_increments(self))
        if m.kind == "synapse":
            lines.extend(self.updates())
        if self.refractory:
            lines.extend(self.hold())
        for s in m.states:
            lines.append(E.set_attr("self", [E.py_name(s.name), "value"], E.name(E.py_name(s.name))))
        if self.crossing:
            lines.extend(self.crossed())
        elif self.carried:
            lines.append(E.assign("_spike", E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.local))))
            lines.append(E.set_attr("self", ["_spike", "value"], E.name("_spike")))
            lines.append(E.ret(E.name("_spike")))
        elif m.spike is not None:
            lines.append(E.ret(E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.local))))
        elif m.kind == "synapse":
            lines.append(E.ret(self.ex(m.output), E.where(m.output.span)))
        else:
            lines.append(E.ret(E.name(E.py_name(self.v))))
        args = ["self"]
        defaults = []
        if m.kind == "synapse":
            args.append("_w")
            defaults.append(E.const(0.0))
        for port in m.ports:
            args.append(E.py_name(port.name))
            defaults.append(E.binop("*", E.const(0.0), unit_expr(port.unit)))
        for f in self.fused:
            args += [f.module, f.weight]
            defaults += [E.const(None), E.const(0.0)]
        if self.needs_t:
            args.append("_t")
            defaults.append(E.binop("*", E.const(0.0), E.attr("u", "ms")))
        return E.def_("update", E.arguments(args, defaults), lines)

    def crossed(self) -> list[E.Stmt]:
        """The spike of a ``crossing`` condition, s = H(x_new) (1 - H(x_old)) with the surrogate's gradient
        through both factors (brainpy's HH: ``spike(V) * (1 - spike(last_V))``), x_old being ``_spike``'s
        argument from the stored state; kept in ``_crossed`` for :meth:`output`, and returned."""
        new = E.call(E.attr("self", "_spk_fun"), self.spike_arg(self.local))
        value = E.binop("*", new, E.binop("-", E.const(1.0), E.name("_spike")))
        return [E.set_attr("self", ["_crossed", "value"], value, "spike on crossing the threshold"),
                E.ret(E.attr("self", "_crossed", "value"))]

    def updates(self) -> list[E.Stmt]:
        """The ``on_spike`` statements. In a neuron they are gated by this step's spike s (0/1, with its
        surrogate gradient): ``x += v`` is x + v s, ``x -= v`` is x - v s, and ``x = v`` a selection
        ``where(s > 0, v, x)`` (no gradient through the choice, as brainpy). In a synapse ``w`` is the
        weighted input already, so they apply every step ungated."""
        out = []
        for upd in self.m.on_spike:
            x = E.py_name(upd.var)
            value = self.ex(upd.value)
            if self.m.kind == "synapse":  # w is the weighted input: no spike gating
                new = {"+=": E.binop("+", E.name(x), value), "-=": E.binop("-", E.name(x), value), "=": value}[upd.op]
            elif upd.op == "=":   # a selection, as brainpy's `where(spike > 0, c, V)`: no gradient through it
                fired = ast.Compare(E.name("_spike"), [ast.Gt()], [E.const(0.0)])
                new = E.call(E.attr("u", "math", "where"), fired, value, E.name(x))
            else:
                new = E.binop("+" if upd.op == "+=" else "-", E.name(x), E.binop("*", value, E.name("_spike")))
            out.append(E.assign(x, new, f"on_spike, {E.where(upd.span)}"))
        return out

    def integrate(self) -> list[E.Stmt]:
        """The statements integrating the model's ODE system over one step: the model's integrator hook
        (:mod:`snndsl.lower.odesystem`) applied to :meth:`system`. Anything added to the step after the
        deterministic integration goes after these statements."""
        if not drift_odes(self.m):
            return []
        loads = [line for f in self.fused for line in f.load()]
        stores = [line for f in self.fused for line in f.store()]
        return loads + INTEGRATORS[self.m.method].hook("lower")(self.system()) + stores

    def state_unit(self, name: str) -> ast.expr:
        """The emitted unit of state ``name``: its declared unit, else ``self.unit`` (a synapse state takes
        the unit of its input)."""
        unit = self.m.state(name).unit
        return E.attr("self", "unit") if unit is None else unit_expr(unit)

    def system(self) -> OdeSystem:
        """The model's ODEs as an :class:`~snndsl.lower.odesystem.OdeSystem`: one member per ODE (ports
        evaluated at the membrane, inside dV/dt at the integrated V), with the lowered linear rows
        (:func:`snndsl.ir.linear.linear_system`) when the method is ``linear_only``."""
        m = attrs.evolve(self.m, odes=tuple(drift_odes(self.m)))  # noise terms: lower/noise.py, after this
        own = tuple(Member(E.py_name(o.var), o.rhs, o.span, self.ex, self.state_unit(o.var), o.var == self.v)
                    for o in m.odes)
        members = own + tuple(x for f in self.fused for x in f.members())
        lines = sorted({o.span.line for o in m.odes if o.span is not None})
        where = E.where(m.odes[0].span)
        if len(lines) > 1:
            where += f"-{lines[-1]}"
        linear = None
        if INTEGRATORS[m.method].traits.linear_only:
            sys_ = linear_system(m) or linear_system(m, ports=False)
            linear = fused_rows(lowered_rows(sys_.rows, own, {s: E.py_name(s) for s in sys_.states},
                                             {p: E.py_name(p) for p in sys_.ports}), self.fused)
        v_unit = self.state_unit(self.v) if self.v is not None and m.state(self.v) else None
        return OdeSystem(members, m.method, where, E.py_name(self.v) if self.v else None, v_unit, linear)

    def hold(self) -> list[E.Stmt]:
        """The refractory hold, counted in whole steps (an integer, so it cannot drift as a float time
        would): V = where(r > 0, V_held, V), V_held being the post-reset value and r the steps still held;
        then r = N - 1 where the spike condition holds on the new V, else max(r - 1, 0). N = ceil(T / dt)
        (the prelude's ``_ref_steps``, a ratio within 1e-3 of a whole number taken as it), so a neuron
        spiking at step s is held at steps s+1 ... s+N-1 and integrates again from step s+N: brainpy's
        ``t - last_spike_time < T``, and the period is N steps from the spike's."""
        m, v = self.m, E.py_name(self.v)
        counter = E.attr("self", "_refractory", "value")
        held = ast.Compare(counter, [ast.Gt()], [E.const(0)])
        ops = {">=": ast.GtE, ">": ast.Gt, "<=": ast.LtE, "<": ast.Lt}
        fired = ast.Compare(self.ex(m.spike.left), [ops[m.spike.op]()], [self.ex(m.spike.right)])
        steps = E.binop("-", E.call("_ref_steps", self.ex(m.refractory)), E.const(1))
        left = E.call(E.attr("jnp", "maximum"), E.binop("-", counter, E.const(1)), E.const(0))
        return [E.assign(v, E.call(E.attr("u", "math", "where"), held, E.name("_held"), E.name(v)),
                         f"refractory, {E.where(m.refractory.span)}"),
                E.set_attr("self", ["_refractory", "value"], E.call(E.attr("jnp", "where"), fired, steps, left))]


def param_default(p: ir.ParamDef) -> tuple[ast.expr, list[E.Stmt]]:
    """The keyword default of parameter ``p`` in an emitted ``__init__`` and the statements that compute it in
    the body: its declared constant, or ``None`` and ``if p is None: p = <default>`` when the default refers to
    other parameters (``None`` and nothing when there is no default)."""
    n = E.py_name(p.name)
    if p.default is not None and not refs(p.default):
        return value_expr(evaluate(p.default, lambda r: None)), []
    if p.default is None:
        return E.const(None), []
    return E.const(None), [E.if_(ast.Compare(E.name(n), [ast.Is()], [E.const(None)]),
                                 [E.assign(n, lower(p.default, lambda r: E.name(E.py_name(r.name))),
                                           E.where(p.span))])]


def Line_super() -> E.Line:
    """The statement ``super().__init__()``."""
    return E.expr_stmt(E.call(E.attr(E.call("super"), "__init__")))
