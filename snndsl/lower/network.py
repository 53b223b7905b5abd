"""A network → its brainstate module class: populations, projections, and the per-step update.

Per step (design.md section 2): encoders produce this step's inputs; populations update in topological order
of the zero-delay projection graph, each after the projections into it are evaluated (pre output → delay →
weights → synapse → current or conductance into the port). A projection from a population not yet updated
this step (a self-projection) reads its stored output, i.e. last step's spikes. Delay buffers are written
after every population has updated.
"""

from __future__ import annotations

import ast
import functools
import heapq
from typing import Any

from snndsl import ir
from snndsl.lower import emit as E
from snndsl.lower.exprs import init_expr, unit_expr, value_expr, weight_init
from snndsl.lower.fusion import FusedSynapse
from snndsl.lower import passes
from snndsl.lower.models import ModelLowering
from snndsl.lower.plasticity import PlasticityLowering, layout_expr
from snndsl.lower.variants import (Variant, fused_into, model_classes, pop_variant, trained, variant_model,
                                   variants)
from snndsl.registry import CONNECTIVITY, ENCODERS, LOOPS, OUTPUTS


def topological(net: ir.Network) -> list[ir.Population]:
    """Populations ordered so each comes after the zero-delay projections into it (declaration order among
    equals: at each step the first ready population). Checks guarantee the zero-delay graph (self-projections
    aside) is acyclic. Linear in populations and projections (Kahn's algorithm over a heap of positions)."""
    pops = list(net.populations)
    index = {p.name: i for i, p in enumerate(pops)}
    waiting = [0] * len(pops)
    after: dict[int, set[int]] = {}
    for pr in net.projections:
        if pr.delay_steps == 0 and pr.pre != pr.post and pr.pre in index and pr.post in index:
            pre, post = index[pr.pre], index[pr.post]
            if post not in after.setdefault(pre, set()):
                after[pre].add(post)
                waiting[post] += 1
    ready = [i for i in range(len(pops)) if waiting[i] == 0]
    heapq.heapify(ready)
    done: list[ir.Population] = []
    while ready:
        i = heapq.heappop(ready)
        done.append(pops[i])
        for j in after.get(i, ()):
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready, j)
    return done



def traced_weights(program: ir.Program, net: ir.Network) -> bool:
    """Whether ``net``'s projection weights are emitted as traced operations (braintrace's ``matmul``): when
    the train block the module is built for trains it with an online loop policy (``LoopPolicy.online``)."""
    return any(t.network == net.name and LOOPS[t.loop.name].traits.online for t in program.trains[:1])


class NetworkLowering:
    """Builds the class of network ``net`` of ``program`` (:meth:`build`).

    ``classes`` names each model variant's class (:func:`model_classes`, shared by every network of the
    module); ``lowered`` holds the :class:`~snndsl.lower.models.ModelLowering` of each variant ``net`` uses,
    ``attr`` the attribute name of each projection (its label, or ``pre_to_post``; ``_`` appended on a
    clash). The emitted class has one attribute per population (a model instance of its size), per
    projection (its weight module), per synapse (``<proj>_syn``) and per delay (``<proj>_delay``); its
    ``update`` takes one array per data input, ``[B, size]`` (``[size]`` unbatched) of plain numbers (a
    current input is given its declared unit inside).
    """

    def __init__(self, program: ir.Program, net: ir.Network, classes: dict[Variant, str] | None = None):
        """Lower ``net``; ``classes`` from :func:`model_classes` (computed here when not given)."""
        self.program, self.net = program, net
        self.models = {p.model: program.model(p.model) for p in net.populations}
        classes = classes or model_classes(program)
        online = any(LOOPS[t.loop.name].traits.online for t in program.trains[:1])
        self.lowered: dict[Variant, Any] = {}
        for v in sorted(variants(program, net), key=lambda v: len(v) > 2):   # fused classes need their synapses'
            if program.model(v[0]).kind == "plasticity":
                self.lowered[v] = PlasticityLowering(program.model(v[0]), classes[v], v[1])
                continue
            fused = tuple(FusedSynapse(i, port, self.lowered[tuple(syn)], syn[0])
                          for i, (port, *syn) in enumerate(dict(v[2]).get("fused", ()) if len(v) > 2 else ()))
            self.lowered[v] = ModelLowering(variant_model(program, v), classes[v], v[1], tuple(fused),
                                            carry_spike=not online)
        self.needs_t = any(self.of(p).needs_t for p in net.populations) or any(
            x.source is not None and ENCODERS[x.source.name].traits.uses_time for x in net.inputs)
        self.traced = traced_weights(program, net)
        self.attr = {}
        # a projection's attribute: its label, or `pre_to_post`, unless a population, an input or another
        # projection has it; its synapse, delay and weighted input are derived from it (`x_to_h__syn`)
        taken = {E.py_name(n.name) for n in (*net.inputs, *net.populations)} | E.OWNED
        for pr in net.projections:
            name = (f"{E.py_name(pr.pre)}_to_{E.py_name(pr.post)}" if "->" in pr.name else E.py_name(pr.name))
            while name in taken:
                name += "_"
            taken.add(name)
            self.attr[pr.name] = name

    @functools.cached_property
    def merge_groups(self) -> dict[str, tuple[tuple[ir.Projection, ...], ...]]:
        """The synapses the ``merged_synapses`` pass merges in the train step, by target population
        (:func:`snndsl.lower.passes.merge_groups`), computed once."""
        return passes.merge_groups(self)

    def of(self, pop: ir.Population) -> ModelLowering:
        """The lowering of ``pop``'s model class."""
        return self.lowered[pop_variant(self.program, self.net, pop)]

    # ---------------------------------------------------------------- __init__
    def pop_ctor(self, pop: ir.Population) -> ast.expr:
        """``Model(size, name=value...)``: the population's values as keyword arguments (constants or
        initialisers), a surrogate that differs from the model's, and for a synapse readout the unit of
        what it receives (inferred)."""
        kwargs = {E.py_name(k): init_expr(v.value) for k, v in pop.values}
        model = self.models[pop.model]
        if pop.surrogate is not None and model.spiking and pop.surrogate != model.surrogate:
            kwargs["surrogate"] = self.of(pop).surrogate_expr(pop.surrogate)
        if model.kind == "synapse":
            kwargs["unit"] = unit_expr(pop.facts.receives)
        return E.call(self.of(pop).cls, E.const(pop.size), **kwargs)

    def hoisted(self) -> list[ir.Projection]:
        """Projections whose weighted input depends on a data input alone (inferred): ``project`` computes
        them for any leading axes, so a loop can compute a whole segment of steps in one product."""
        return [pr for pr in self.net.projections if pr.facts.hoisted]

    def into(self, pop: ir.Population) -> list[ir.Projection]:
        """The projections into ``pop``, in declaration order."""
        if not hasattr(self, "_into"):
            self._into: dict[str, list[ir.Projection]] = {}
            for pr in self.net.projections:
                self._into.setdefault(pr.post, []).append(pr)
        return self._into.get(pop.name, [])

    def comm(self, pr: ir.Projection) -> ast.expr:
        """The projection's weight module, as its connectivity rule lowers it (traced for online learning when
        the train block's loop policy is online); with plasticity, the plasticity model's class over the
        projection's storage (:func:`~snndsl.lower.plasticity.layout_expr`), given the connectivity's ``w``."""
        if pr.plasticity is not None:
            plastic = self.lowered[pr.plasticity.model, ()]
            kwargs = {E.py_name(k): init_expr(v.value) for k, v in pr.plasticity.values}
            kwargs["unit"] = unit_expr(pr.facts.delivered)
            seed = pr.conn.arg("seed")
            layout = layout_expr(self.net, pr, self.net.projections.index(pr) if seed is None else seed)
            return E.call(plastic.cls, layout, weight_init(pr.conn.arg("w")), **kwargs)
        return CONNECTIVITY[pr.conn.name].hook("lower")(self.net, pr, self.traced)

    def init(self) -> E.Block:
        """``__init__``: every population (:meth:`pop_ctor`), then every projection's weight module
        (:meth:`comm`), its synapse (one instance per postsynaptic neuron, in the unit the projection
        delivers) and its delay line (``_Delay(steps, n_pre)``) when it has a delay."""
        net = self.net
        lines: list[E.Stmt] = [E.expr_stmt(E.call(E.attr(E.call("super"), "__init__")))]
        for pop in net.populations:
            lines.append(E.set_attr("self", [E.py_name(pop.name)], self.pop_ctor(pop), E.where(pop.span)))
        for pr in net.projections:
            a = self.attr[pr.name]
            lines.append(E.set_attr("self", [a], self.comm(pr), E.where(pr.span)))
            if pr.synapse is not None:
                syn = self.lowered[trained(self.program.model(pr.synapse.model), pr.synapse.values)]
                kwargs = {E.py_name(k): init_expr(v.value) for k, v in pr.synapse.values}
                kwargs["unit"] = unit_expr(pr.facts.delivered)
                lines.append(E.set_attr("self", [E.derived(a, "syn")], E.call(syn.cls, E.const(net.node(pr.post).size),
                                                                      **kwargs), E.where(pr.synapse.span)))
            if pr.delay_steps > 0:
                lines.append(E.set_attr("self", [E.derived(a, "delay")], passes.delay_line(self.net, pr)))
        lines.extend(self.drawn_inputs())
        return E.def_("__init__", E.arguments(["self"]), lines)

    def drawn(self, x: ir.InputDef) -> dict[str, ast.expr]:
        """The encoder argument of input ``x`` drawn per channel (``poisson(rate = uniform(...))``), mapped to
        the attribute holding its values (``self.x__init``, ``[size]``); empty when it is a constant."""
        per = ENCODERS[x.source.name].traits.per_channel if x.source is not None else None
        if per is None or not isinstance(x.source.arg(per[0]), ir.Spec):
            return {}
        return {per[0]: E.attr("self", E.derived(E.py_name(x.name), "init"))}

    def drawn_inputs(self) -> list[E.Stmt]:
        """``self.x__init = bt.init.param(initialiser, (size,))`` for each input whose encoder draws an
        argument per channel: drawn once, from brainstate's random state (so it follows the seed)."""
        lines: list[E.Stmt] = []
        for x in self.net.inputs:
            for name in self.drawn(x):
                value = E.call(E.attr("bt", "init", "param"), init_expr(x.source.arg(name)),
                               ast.Tuple([E.const(x.size)], ast.Load()))
                lines.append(E.set_attr("self", [E.derived(E.py_name(x.name), "init")], value, E.where(x.span)))
        return lines

    def init_state(self) -> E.Block:
        """``init_state(batch_size=None)``: the shape of each generated input (``(size,)`` or
        ``(batch_size, size)``) and, when a model needs the time, the step counter ``i`` (an int32
        ``ShortTermState``; t = i dt). The populations' own states are initialised by brainstate, which
        visits every submodule."""
        lines: list[E.Stmt] = []
        for x in self.net.inputs:
            if x.source is not None:
                shape = ast.IfExp(ast.Compare(E.name("batch_size"), [ast.Is()], [E.const(None)]),
                                  ast.Tuple([E.const(x.size)], ast.Load()),
                                  ast.Tuple([E.name("batch_size"), E.const(x.size)], ast.Load()))
                lines.append(E.set_attr("self", [E.derived(E.py_name(x.name), "shape")], shape))
        if self.needs_t:
            lines.append(E.set_attr("self", ["_i"], E.call(E.attr("bs", "ShortTermState"),
                                                        E.call(E.attr("jnp", "zeros"), ast.Tuple([], ast.Load()),
                                                               dtype=E.attr("jnp", "int32")))))
        if not lines:
            lines.append(Line_pass())
        return E.def_("init_state", E.arguments(["self", "batch_size"], [E.const(None)], kwarg="kwargs"), lines)

    def reset_state(self) -> E.Block:
        """``reset_state(batch_size=None)``: the input shapes again (the batch size may change) and the step
        counter back to 0."""
        lines: list[E.Stmt] = [E.expr_stmt(E.call(E.attr("self", "init_state"), E.name("batch_size")))] \
            if self.net.inputs and any(x.source for x in self.net.inputs) else []
        if self.needs_t:
            lines.append(E.set_attr("self", ["_i", "value"], E.call(E.attr("jnp", "zeros"),
                                                                   ast.Tuple([], ast.Load()), dtype=E.attr("jnp", "int32"))))
        if not lines:
            lines.append(Line_pass())
        return E.def_("reset_state", E.arguments(["self", "batch_size"], [E.const(None)], kwarg="kwargs"), lines)

    # ---------------------------------------------------------------- update
    def scale_inputs(self) -> list[E.Stmt]:
        """Data inputs declared as currents get their unit."""
        return [E.assign(E.py_name(x.name), E.binop("*", E.name(E.py_name(x.name)), unit_expr(x.unit)),
                         E.where(x.span))
                for x in self.net.inputs if x.source is None and x.unit is not None]

    def project(self) -> E.Block:
        """``project(self, <data inputs>)``: ``{projection attribute: weighted input}`` for the hoisted
        projections (:meth:`hoisted`), for any leading axes: one step ``[B, N]`` or a whole segment ``[T, B,
        N]`` in one matrix product (the checkpointed loop uses it)."""
        data_inputs = [E.py_name(x.name) for x in self.net.inputs if x.source is None]
        items = {self.attr[pr.name]: passes.weighted(self, pr, self.raw_input(pr))
                 for pr in self.hoisted()}
        body = [*self.scale_inputs(),
                E.ret(ast.Dict([E.const(k) for k in items], list(items.values())))]
        return E.def_("project", E.arguments(["self"] + data_inputs), [
            E.docstring("The weighted inputs that depend on the data inputs alone, for any leading axes (one step "
                        "[B, N], or many [T, B, N] at once)."),
            E.with_(E.call(E.attr("bs", "environ", "context"), dt=E.attr("self", "dt")), body)])

    def raw_input(self, pr: ir.Projection) -> ast.expr:
        """The local variable holding the (data input) source of ``pr`` inside ``project``."""
        return E.name(E.py_name(pr.pre))

    def update(self) -> E.Block:
        """``update(self, <data inputs>[, _projected=None][, _merge=False])``: one time step under ``dt``,
        returning the network's outputs (one, or a tuple in the declared order); ``_merge`` (with merged
        synapses, :meth:`merged_update`) runs them as one.

        Order: the hoisted projections' weighted inputs (from ``projected`` when the loop computed them for
        the segment, else :meth:`project` now); t = i dt when needed; each generated input from its encoder;
        data inputs given their unit; populations in :func:`topological` order (:meth:`pop_update`); every
        delay line written with this step's source value; the step counter advanced.
        """
        net = self.net
        data_inputs = [x for x in net.inputs if x.source is None]
        body: list[E.Stmt] = []
        if self.hoisted():
            names = [E.name(E.py_name(x.name)) for x in data_inputs]
            body.append(E.if_(ast.Compare(E.name("_projected"), [ast.Is()], [E.const(None)]),
                              [E.assign("_projected", E.call(E.attr("self", "project"), *names))]))
        if self.needs_t:
            body.append(E.assign("_t", E.binop("*", E.attr("self", "_i", "value"), E.attr("self", "dt"))))
        for x in net.inputs:
            if x.source is not None:
                body.append(E.assign(E.py_name(x.name), self.encoder(x), E.where(x.span)))
        body.extend(self.scale_inputs())
        updated: set[str] = {x.name for x in net.inputs}
        for pop in topological(net):
            body.extend(self.merged_update(pop, updated))
            updated.add(pop.name)
        for pr in net.projections:
            if pr.delay_steps > 0:
                body.append(E.expr_stmt(E.call(E.attr("self", E.derived(self.attr[pr.name], "delay"), "write"),
                                               self.raw_source(pr)), f"delay line, {E.where(pr.span)}"))
        if self.needs_t:
            body.append(E.set_attr("self", ["_i", "value"], E.binop("+", E.attr("self", "_i", "value"), E.const(1))))
        outs = [E.name(E.py_name(o)) for o in net.outputs]
        body.append(E.ret(outs[0] if len(outs) == 1 else ast.Tuple(outs, ast.Load())))
        ctx = E.call(E.attr("bs", "environ", "context"), dt=E.attr("self", "dt"))
        names = ["self"] + [E.py_name(x.name) for x in data_inputs]
        extra = {"_projected": None} if self.hoisted() else {}
        extra |= {"_merge": False} if passes.merges(self) else {}
        args = E.arguments(names + list(extra), [E.const(v) for v in extra.values()])
        return E.def_("update", args, [E.with_(ctx, body)])

    def encoder(self, x: ir.InputDef) -> ast.expr:
        """This step's value of an input with an encoder, as the encoder lowers it."""
        shape = E.attr("self", E.derived(E.py_name(x.name), "shape"))
        return ENCODERS[x.source.name].hook("lower")(x.source, shape, E.attr("self", "dt"), self.drawn(x))

    def raw_source(self, pr: ir.Projection) -> ast.expr:
        """What a delay line stores for ``pr``: the source's value this step, a current input divided by its
        unit (the buffer holds plain numbers; :meth:`source` multiplies the unit back)."""
        pre = self.net.node(pr.pre)
        n = E.name(E.py_name(pr.pre))
        if isinstance(pre, ir.InputDef) and pre.unit is not None:
            return E.binop("/", n, unit_expr(pre.unit))
        return n

    def source(self, pr: ir.Projection, updated: set[str]) -> ast.expr:
        """The presynaptic value ``pr`` reads this step: the delay line's oldest entry (written
        ``delay_steps`` steps ago) with a delay; the source's new value when it is in ``updated`` (inputs
        and populations already updated this step); else its stored ``output()``, i.e. last step's (a
        self-projection or a recurrent loop closed by it)."""
        pre = self.net.node(pr.pre)
        a = self.attr[pr.name]
        if pr.delay_steps > 0:
            value = E.call(E.attr("self", E.derived(a, "delay"), "read"))
            if isinstance(pre, ir.InputDef) and pre.unit is not None:
                value = E.binop("*", value, unit_expr(pre.unit))
            return value
        if pr.pre in updated:
            return E.name(E.py_name(pr.pre))
        return E.call(E.attr("self", E.py_name(pr.pre), "output"))   # last step's output

    def merged_update(self, pop: ir.Population, updated: set[str]) -> list[E.Stmt]:
        """The statements updating ``pop`` (:meth:`pop_update`); with synapses the ``merged_synapses`` pass
        merges (:func:`snndsl.lower.passes.merged`), both forms: ``<pop>__merged = _merge and
        _same_synapses(...)``, then the merged form under ``if <pop>__merged:`` and the plain one under
        ``if not <pop>__merged:``."""
        groups = passes.merged(self, pop)
        if not groups:
            return self.pop_update(pop, updated)
        flag = E.derived(E.py_name(pop.name), "merged")
        names = "; ".join(", ".join(pr.name for pr in g) for g in groups)
        test = ast.BoolOp(ast.And(), [E.name("_merge"), *passes.same_synapses(self, groups)])
        return [E.assign(flag, test, f"merged synapses into {pop.name}: {names}"),
                E.if_(E.name(flag), self.pop_update(pop, updated, groups)),
                E.if_(ast.UnaryOp(ast.Not(), E.name(flag)), self.pop_update(pop, updated))]

    def weighted(self, pr: ir.Projection, updated: set[str]) -> ast.expr:
        """The weighted input of ``pr`` this step: ``_projected[...]`` for a hoisted projection, else its
        source through its weights (:func:`snndsl.lower.passes.weighted`)."""
        if pr.facts.hoisted:
            return ast.Subscript(E.name("_projected"), E.const(self.attr[pr.name]), ast.Load())
        return passes.weighted(self, pr, self.source(pr, updated))

    def pop_update(self, pop: ir.Population, updated: set[str], groups=()) -> list[E.Stmt]:
        """The statements updating ``pop``: each projection into it evaluated (source → weights → synapse,
        ``<proj>_out``), then its model's ``update`` called. Each group in ``groups`` (merged synapses) is
        one synapse, the first projection's, fed the sum of the group's weighted inputs.

        Into a neuron, each port receives the sum of its inputs: current outputs add up as they are; with
        any membrane-dependent output (a conductance) the port gets a function ``def <pop>_<port>(V)``
        returning the currents plus each g (E - V), which the model evaluates inside dV/dt. A port nothing
        projects to gets ``0 unit``. Into a synapse readout, the weighted inputs add up as its ``w``.
        """
        model = self.models[pop.model]
        lines: list[E.Stmt] = []
        ports: dict[str, list[ast.expr]] = {}
        conductances: dict[str, list[tuple[ast.expr, ast.expr]]] = {}
        weighted: list[ast.expr] = []
        fused = {pr.name: i for i, pr in enumerate(fused_into(self.program, self.net, pop))}
        kwargs = {}
        lead = {g[0].name: g for g in groups}
        skip = {pr.name for g in groups for pr in g[1:]}
        for pr in self.into(pop):
            if pr.name in skip:
                continue
            a = self.attr[pr.name]
            value = _sum([self.weighted(m, updated) for m in lead.get(pr.name, (pr,))])
            if pr.name in fused:     # its synapse is integrated inside the neuron (lower/fusion.py)
                var = E.derived(a, "out")
                lines.append(E.assign(var, value, f"{E.where(pr.span)}, synapse integrated in {pop.name}"))
                kwargs[f"_s{fused[pr.name]}"] = E.attr("self", E.derived(a, "syn"))
                kwargs[f"_w{fused[pr.name]}"] = E.name(var)
                continue
            if pr.synapse is not None:
                value = E.call(E.attr("self", E.derived(a, "syn")), value)
            var = E.derived(a, "out")
            merged = f", merged: {', '.join(m.name for m in lead[pr.name])}" if pr.name in lead else ""
            lines.append(E.assign(var, value, E.where(pr.span) + merged))
            if model.kind == "synapse":
                weighted.append(E.name(var))
                continue
            port = pr.port or model.ports[0].name
            output = OUTPUTS[pr.output.name] if pr.output is not None else OUTPUTS["current"]
            if output.traits.uses_membrane:
                conductances.setdefault(port, []).append((E.name(var), pr.output, output))
            else:
                ports.setdefault(port, []).append(output.hook("lower")(pr.output, E.name(var), None))
        args = []
        if model.kind == "synapse":
            args.append(_sum(weighted) if weighted else E.const(0.0))
        else:
            for port in model.ports:
                currents, conds = ports.get(port.name, []), conductances.get(port.name, [])
                if not currents and not conds:
                    args.append(E.binop("*", E.const(0.0), unit_expr(port.unit)))
                    continue
                if conds:
                    # defined just before the population's update, which calls it: one per port suffices
                    fname = E.derived(E.py_name(port.name), "in")
                    v = "_V"
                    terms = currents + [out.hook("lower")(spec, g, E.name(v)) for g, spec, out in conds]
                    lines.append(E.def_(fname, E.arguments([v]), [E.ret(_sum(terms))],
                                        f"conductance input to {pop.name}.{port.name}"))
                    args.append(E.name(fname))
                else:
                    args.append(_sum(currents))
        if self.of(pop).needs_t:
            kwargs["_t"] = E.name("_t")
        lines.append(E.assign(E.py_name(pop.name), E.call(E.attr("self", E.py_name(pop.name)), *args, **kwargs),
                              E.where(pop.span)))
        for pr in self.into(pop):      # plasticity: the postsynaptic spikes of this step, after the update
            if pr.plasticity is not None and self.lowered[pr.plasticity.model, ()].has_post:
                lines.append(E.expr_stmt(E.call(E.attr("self", self.attr[pr.name], "on_post"),
                                                E.name(E.py_name(pop.name))), f"on_post, {E.where(pr.span)}"))
        return lines

    def build(self) -> E.Block:
        """The network class: docstring, ``dt`` (and ``precision`` when the network sets it: the loader
        enables JAX's x64 mode for ``float64``), ``__init__``, ``init_state``, ``reset_state``,
        ``project`` (with hoisted projections) and ``update``."""
        net = self.net
        precision = [E.assign("precision", E.const(net.precision))] if net.precision is not None else []
        body = [E.docstring(f"Network {net.name}, from {E.where(net.span)}."),
                E.assign("dt", value_expr(net.dt), E.where(net.span)), *precision, E.Blank(),
                self.init(), E.Blank(), self.init_state(), E.Blank(), self.reset_state(), E.Blank(),
                *([self.project(), E.Blank()] if self.hoisted() else []), self.update()]
        return E.class_(E.py_name(net.name), [E.attr("bs", "nn", "Module")], body, E.where(net.span))


def _sum(terms: list[ast.expr]) -> ast.expr:
    """``t1 + t2 + ...`` of at least one term."""
    out = terms[0]
    for t in terms[1:]:
        out = E.binop("+", out, t)
    return out


def Line_pass() -> E.Line:
    """The statement ``pass`` (a method with nothing to do)."""
    return E.Line(ast.Pass())
