"""Network definitions → :class:`snndsl.ir.Network`: inputs, populations, projections, outputs."""

from __future__ import annotations

from typing import Any

from snndsl import units as u
from snndsl.syntax import ast
from snndsl import ir
from snndsl.ir.arrays import PRECISIONS
from snndsl.ir.evaluate import initialiser_dim, same_dim
from snndsl.diagnostics import Diagnostics, did_you_mean, one_of
from snndsl.registry import CONNECTIVITY, ENCODERS, INPUT_KINDS, INTEGRATORS, Param
from snndsl.resolve.args import convert, lookup_entry, spec_from
from snndsl.resolve.exprs import constant
from snndsl.resolve.models import BOOLS, check_identifier
from snndsl.resolve.unit_names import lookup, unit_from_ast

#: Options after the connectivity in a `connect` statement.
CONNECT_OPTIONS = ("synapse", "output", "port", "delay", "plasticity")


def _size(node: ast.Expr, diags: Diagnostics) -> int | None:
    """A population or input size: a constant positive whole number without a unit (SNN504 otherwise)."""
    value = constant(node, diags)
    if value is None:
        return None
    try:
        f = float(u.maybe_decimal(value)) if isinstance(value, u.Quantity) else float(value)
    except Exception:
        f = None
    if f is None or not f.is_integer() or f < 1 or isinstance(value, u.Quantity) and not u.get_unit(value).is_unitless:
        shown = f"{f:g}" if f is not None else ir.show_value(value)
        diags.error("SNN504", f"a size must be a positive whole number, not {shown}", node.span)
        return None
    return int(f)


def _values(call: ast.Call, model: ir.Model, diags: Diagnostics, *, skip: int,
            extra: tuple[str, ...] = (), arrays: Any = None) -> tuple[dict[str, ir.Value], dict[str, ast.Arg]]:
    """Named arguments of a model instantiation → values for the model's parameters and states (arrays too,
    one value per neuron, when ``arrays`` is an :class:`~snndsl.resolve.arrays.ArrayContext`).

    Returns the values and the arguments named in ``extra`` (e.g. ``surrogate``), left for the caller."""
    values: dict[str, ir.Value] = {}
    extras: dict[str, ast.Arg] = {}
    names = [p.name for p in model.params] + [s.name for s in model.states]
    for arg in call.args[skip:]:
        if arg.name is None:
            diags.error("SNN204", f"{model.name}() takes only the size as a positional argument", arg.span,
                        f"name the value, e.g. `{model.name}(10, {names[0] if names else 'x'} = ...)`")
            continue
        key = arg.name.name
        if key in extra:
            extras[key] = arg
            continue
        if key not in names:
            diags.error("SNN203", f"{model.name} has no parameter or state `{key}`", arg.name.span,
                        did_you_mean(key, names + list(extra)) or one_of(names + list(extra)))
            continue
        if key in values:
            diags.error("SNN204", f"`{key}` is given twice", arg.span)
            continue
        if arg.trainable and model.param(key) is None:
            diags.error("SNN219", f"`{key}` is a state; only parameters can be trainable", arg.span)
            continue
        switch = model.param(key) is not None and model.param(key).kind == "bool"
        literal = isinstance(arg.value, ast.Name) and arg.value.ident.name in BOOLS
        if switch or literal:
            if switch and literal and not arg.trainable:
                values[key] = ir.Value(arg.value.ident.name == "true", span=arg.span)
            elif arg.trainable and switch:
                diags.error("SNN231", f"`{key}` is a bool switch: it cannot be trained", arg.span)
            else:
                diags.error("SNN231", f"`{key}` is {'a bool: give true or false' if switch else 'a number, not a bool'}",
                            arg.value.span)
            continue
        value = convert(arg.value, Param(key, "init"), diags, arrays=arrays)
        if value is not None:
            values[key] = ir.Value(value, arg.trainable, span=arg.span)
    return values, extras


#: A population's own choices, named arguments of its model call that are not parameters or states.
POP_CHOICES = ("reset", "method")
RESET_MODES = ("hard", "soft")


def _choices(model: ir.Model, extras: dict[str, ast.Arg], diags: Diagnostics) -> dict[str, str]:
    """A population's ``reset = hard|soft`` and ``method = NAME`` (:data:`POP_CHOICES`) → ``{key: name}``.

    Each must be a bare name (SNN230): ``reset`` one of :data:`RESET_MODES`, on a model with a ``reset``
    statement (SNN230: nothing to choose otherwise); ``method`` an integration method (SNN215), on a model
    with ODEs (SNN230). Wrong ones are reported and left out."""
    out = {}
    for key in POP_CHOICES:
        arg = extras.get(key)
        if arg is None:
            continue
        if arg.trainable or not isinstance(arg.value, ast.Name):
            allowed = " or ".join(f"`{m}`" for m in RESET_MODES) if key == "reset" else "an integration method"
            diags.error("SNN230", f"`{key}` takes a name: {allowed}", arg.value.span,
                        f"e.g. `{key} = {'hard' if key == 'reset' else 'exact'}`")
            continue
        ident = arg.value.ident
        if key == "reset":
            if ident.name not in RESET_MODES:
                diags.error("SNN230", f"unknown reset mode `{ident.name}`", ident.span,
                            did_you_mean(ident.name, RESET_MODES) or one_of(list(RESET_MODES)))
            elif model.reset is None:
                diags.error("SNN230", f"{model.name} has no reset, so a population cannot choose its mode",
                            arg.span, "add `reset hard V = ...` to the model, or leave the choice out")
            else:
                out[key] = ident.name
        elif lookup_entry(INTEGRATORS, ident, diags) is not None:
            if not model.odes:
                diags.error("SNN230", f"{model.name} has no ODEs, so a population cannot choose its method",
                            arg.span, "leave the choice out")
            else:
                out[key] = ident.name
    return out


def _per_channel_misfit(source: ir.Spec) -> str | None:
    """The message when the argument an encoder draws per channel (trait ``per_channel``: a constant or an
    initialiser) is not in the unit it must have, else ``None``."""
    traits = ENCODERS[source.name].traits
    if traits.per_channel is None:
        return None
    name, unit = traits.per_channel
    value = source.arg(name)
    sample = initialiser_dim(value) if isinstance(value, ir.Spec) else value
    if value is None or same_dim(sample, u.Quantity(1.0, unit=lookup(unit))):
        return None
    return f"`{name}` of {source.name}() must be in {unit}, not {ir.show_unit(u.get_unit(sample))}"


class NetworkBuilder:
    """Resolves one network body against the models in scope, reporting to ``diags``; :meth:`build` is the
    entry point, the other methods resolve one statement each."""

    def __init__(self, node: ast.NetworkDef, models: dict[str, ir.Model], diags: Diagnostics):
        """``nodes`` maps each declared input and population to its name token (for SNN202), ``unresolved`` collects
        the endpoints of connect statements that failed (:attr:`snndsl.ir.Network.unresolved`); ``quiet`` is set
        when an import failed, so unknown models are not reported again."""
        self.node, self.models, self.diags = node, models, diags
        self.nodes: dict[str, ast.Ident] = {}
        self.inputs: set[str] = set()
        self.unresolved: list[tuple[str, str]] = []
        self.quiet = False
        self.arrays = None   # an ArrayContext: array values allowed (set by resolve_network)
        self.dt_span = node.span

    def declare(self, ident: ast.Ident, what: str) -> bool:
        """Register the node name ``ident`` (an input or population; ``what`` names it in messages).

        Returns ``False``, after reporting, for a name that cannot be declared (:func:`check_identifier`; it is
        still remembered so its uses report nothing more) or is already used in this network (SNN202).
        """
        if not check_identifier(ident, self.diags, what):
            self.nodes.setdefault(ident.name, ident)   # known, so its uses report nothing more
            return False
        if ident.name in self.nodes:
            self.diags.error("SNN202", f"`{ident.name}` is already defined in network {self.node.name.name}",
                             ident.span, f"first defined at line {self.nodes[ident.name].span.line}")
            return False
        self.nodes[ident.name] = ident
        return True

    def build(self) -> ir.Network:
        """The whole network: ``dt`` (exactly one, a time: SNN220 if missing, SNN202 if repeated), ``duration``
        (at most one, a time), then inputs,
        populations and readouts, projections (SNN202 for two with the same name) and outputs (defined, not an
        input, not repeated: SNN201/219/202). Parts that fail are left out after their errors are reported.
        """
        d, body = self.diags, self.node.body
        dts = [st for st in body if isinstance(st, ast.DtStmt)]
        dt = None
        for extra in dts[1:]:
            d.error("SNN202", "dt is set twice", extra.span)
        if dts:
            dt = convert(dts[0].value, Param("dt", "quantity", unit="ms"), d)
            self.dt_span = dts[0].span
        else:
            d.error("SNN220", f"network {self.node.name.name} does not set its time step", self.node.name.span,
                    "add `dt = 1 ms` (or 0.1 ms) to the network")
        precision = self.precision([st for st in body if isinstance(st, ast.PrecisionStmt)])
        duration = None
        for k, st in enumerate(x for x in body if isinstance(x, ast.DurationStmt)):
            if k:
                d.error("SNN202", "duration is set twice", st.span)
            else:
                duration = convert(st.value, Param("duration", "quantity", unit="ms"), d)
                if duration is not None and float(duration.to_decimal(u.ms)) <= 0:
                    d.error("SNN507", f"duration must be positive, not {ir.show_value(duration)}", st.value.span,
                            "e.g. `duration = 1 s`: how long `snndsl run` simulates")
                    duration = None
        inputs = [x for st in body if isinstance(st, ast.NetInput) and (x := self.input(st)) is not None]
        pops = [p for st in body if isinstance(st, (ast.PopDecl, ast.ReadoutDecl)) and (p := self.pop(st))]
        projections, labels = [], {}
        for st in body:
            if isinstance(st, ast.ConnectStmt) and (proj := self.connect(st, dt)) is not None:
                if proj.name in labels:
                    d.error("SNN202", f"projection `{proj.name}` is defined twice", st.span,
                            f"the first is at line {labels[proj.name]}; give one a label: `connect name: a -> b: ...`")
                labels[proj.name] = st.span.line
                projections.append(proj)
        outputs, spans = [], []
        for st in body:
            if isinstance(st, ast.NetOutput):
                for ident in st.names:
                    if ident.name not in self.nodes:
                        d.error("SNN201", f"output `{ident.name}` is not defined", ident.span,
                                did_you_mean(ident.name, self.nodes))
                    elif ident.name in self.inputs:
                        d.error("SNN219", f"`{ident.name}` is a network input; outputs are populations",
                                ident.span)
                    elif ident.name in outputs:
                        d.error("SNN202", f"`{ident.name}` is already an output", ident.span)
                    else:
                        outputs.append(ident.name)
                        spans.append(ident.span)
        return ir.Network(self.node.name.name, dt, tuple(inputs), tuple(pops), tuple(projections), tuple(outputs),
                          tuple(spans), tuple(self.unresolved), self.dt_span, precision, span=self.node.span,
                          duration=duration)

    def precision(self, stmts: list[ast.PrecisionStmt]) -> str | None:
        """The network's float type from its ``precision = NAME`` statements (:data:`snndsl.ir.arrays.PRECISIONS`;
        ``None`` without one, meaning float32); SNN279 for an unknown name or a second statement."""
        for extra in stmts[1:]:
            self.diags.error("SNN279", "precision is set twice", extra.span)
        if not stmts:
            return None
        name = stmts[0].name
        if name.name not in PRECISIONS:
            self.diags.error("SNN279", f"unknown precision `{name.name}`", name.span,
                             did_you_mean(name.name, PRECISIONS) or one_of(PRECISIONS))
            return PRECISIONS[0]
        return name.name

    def input(self, st: ast.NetInput) -> ir.InputDef | None:
        """``input name: kind[size] [unit] [= source]`` → :class:`ir.InputDef`, or ``None`` after an error.

        ``kind`` is a registry input kind; ``size`` a positive whole number (SNN504); a ``current`` input needs a
        unit and a ``spikes`` input takes none (SNN220/SNN219). A source generates the input in simulation:
        ``poisson(...)`` for spikes, ``constant(value)`` for a current, whose value must have the input's dimension
        (SNN217/SNN305).
        """
        d = self.diags
        self.inputs.add(st.name.name)
        ok = self.declare(st.name, "input")
        kind = lookup_entry(INPUT_KINDS, st.kind, d)
        size = _size(st.size, d)
        unit = unit_from_ast(st.unit, d) if st.unit is not None else None
        if kind is not None and kind.name == "current" and st.unit is None:
            d.error("SNN220", f"current input `{st.name.name}` needs a unit", st.span,
                    f"e.g. `input {st.name.name}: current[{st.size.span.text}] nA`")
        if kind is not None and kind.traits.spiking and st.unit is not None:
            d.error("SNN219", "spike inputs carry no unit", st.unit.span,
                    "spikes are 0/1; the projection's weights give them a unit")
        source = spec_from(st.source, "encoder", d, arrays=self.arrays) if st.source is not None else None
        if source is not None and kind is not None:
            allowed = kind.traits.encoders
            misfits = [a for a in ENCODERS[source.name].traits.fits if unit is not None
                       and source.arg(a) is not None and not same_dim(source.arg(a), u.Quantity(1.0, unit=unit))]
            if source.name not in allowed:
                d.error("SNN217", f"a {kind.name} input is generated with {' or '.join(f'{a}(...)' for a in allowed)}, "
                        f"not {source.name}(...)",
                        st.source.span, "rate(...) and latency(...) encode data sets: use them in a train "
                        "block's data source, e.g. `digits(steps = 25, encoding = rate(max_rate = 100 Hz))`"
                        if ENCODERS[source.name].traits.where == "data" else None)
                source = None
            elif (wrong := _per_channel_misfit(source)) is not None:
                d.error("SNN305", wrong, st.source.span)
                source = None
            elif misfits:
                d.error("SNN305", f"{source.name}({misfits[0]} = {ir.show_value(source.arg(misfits[0]))}) "
                        f"does not fit input `{st.name.name}` in {ir.show_unit(unit)}", st.source.span)
                source = None
        if not ok or kind is None or size is None:
            return None
        return ir.InputDef(st.name.name, kind.name, size, unit, source, span=st.span)

    def pop(self, st: ast.PopDecl | ast.ReadoutDecl) -> ir.Population | None:
        """``pop name = Model(size, args...)`` or ``readout name = Model(size, args...)`` → :class:`ir.Population`,
        or ``None`` after an error.

        A ``pop`` needs a neuron model; a ``readout`` may be a neuron or a synapse model with state (SNN219). The
        size comes first (SNN204/SNN504); named arguments override parameter defaults and state initial values
        (constants or initialisers; only parameters may be ``trainable``), and ``surrogate = ...`` replaces the
        model's surrogate (spiking models only), ``reset = hard|soft`` and ``method = NAME`` its reset mode and
        integration method (:func:`_choices`). Every parameter without a default must be given (SNN204). An
        unknown model is SNN211, unless an import already failed (``quiet``).
        """
        d, call = self.diags, st.call
        readout = isinstance(st, ast.ReadoutDecl)
        ok = self.declare(st.name, "population")
        model = self.models.get(call.func.name)
        if model is None:
            if not self.quiet:
                d.error("SNN211", f"unknown model `{call.func.name}`", call.func.span,
                        did_you_mean(call.func.name, self.models) or "define it, or import it: `import \"std\"`")
            return None
        if model.kind == "plasticity":
            d.error("SNN247", f"{model.name} is a plasticity model, which lives on a projection", call.func.span,
                    f"attach it to a connection: `connect a -> b: dense(...), plasticity = {model.name}(...)`")
            return None
        if readout and model.kind == "synapse" and not model.states:
            d.error("SNN219", f"{model.name} has no state, so it cannot be a readout", call.func.span,
                    "a readout integrates its input: use e.g. Expon or LI")
            return None
        if not readout and model.kind != "neuron":
            d.error("SNN219", f"{model.name} is a synapse; a `pop` needs a neuron model", call.func.span,
                    f"use it as a non-spiking `readout {st.name.name} = {model.name}(...)`")
            return None
        if not call.args or call.args[0].name is not None:
            d.error("SNN204", f"{model.name}() needs the population size first", call.span,
                    f"e.g. `{model.name}(10, ...)`")
            return None
        size = _size(call.args[0].value, d)
        values, extras = _values(call, model, d, skip=1, extra=("surrogate",) + POP_CHOICES,
                                 arrays=self.arrays)
        choices = _choices(model, extras, d)
        surrogate = None
        if "surrogate" in extras:
            if not model.spiking:
                d.error("SNN219", f"{model.name} does not spike, so it takes no surrogate", extras["surrogate"].span)
            else:
                surrogate = spec_from(extras["surrogate"].value, "surrogate", d)
        for p in model.params:
            if p.default is None and p.name not in values:
                d.error("SNN204", f"{model.name}() needs the parameter `{p.name}` (it has no default)", call.span)
        if not ok or size is None:
            return None
        return ir.Population(st.name.name, model.name, size, tuple(values.items()), surrogate or model.surrogate,
                             readout, method=choices.get("method"), reset=choices.get("reset"),
                             choice_spans=tuple((k, extras[k].span) for k in choices), span=st.span)

    def connect(self, st: ast.ConnectStmt, dt: Any) -> ir.Projection | None:
        """``connect [label:] pre -> post: conn(...), synapse = ..., output = ..., port = ..., delay = ...`` →
        :class:`ir.Projection`, or ``None`` after an error (the endpoint pair is then kept in ``unresolved`` so graph
        checks raise no follow-on errors).

        Endpoints must be declared earlier or later in the network (SNN401); ``conn`` is a connectivity entry;
        options are :data:`CONNECT_OPTIONS`, each at most once (SNN203/SNN204). The name is the label or
        ``"pre->post"``. A delay is a time; its length in steps is ``delay_steps = max(0, round(delay / dt))``
        (0 without a delay or a valid ``dt``).
        """
        d = self.diags
        ok = True
        for end in (st.pre, st.post):
            if end.name not in self.nodes:
                d.error("SNN401", f"projection endpoint `{end.name}` is not defined in {self.node.name.name}",
                        end.span, did_you_mean(end.name, self.nodes))
                ok = False
        conn = spec_from(st.conn, "connectivity", d, arrays=self.arrays) if st.conn.func.name in CONNECTIVITY else None
        if st.conn.func.name not in CONNECTIVITY:
            lookup_entry(CONNECTIVITY, st.conn.func, d)
        options: dict[str, ast.Arg] = {}
        for arg in st.options:
            if arg.name is None or arg.name.name not in CONNECT_OPTIONS:
                where = arg.name.span if arg.name is not None else arg.span
                d.error("SNN203", "unknown projection option" + (f" `{arg.name.name}`" if arg.name else ""), where,
                        (did_you_mean(arg.name.name, CONNECT_OPTIONS) if arg.name else None)
                        or one_of(CONNECT_OPTIONS))
            elif arg.name.name in options:
                d.error("SNN204", f"`{arg.name.name}` is given twice", arg.span)
            else:
                options[arg.name.name] = arg
        synapse = self.synapse(options["synapse"].value) if "synapse" in options else None
        plasticity = self.plasticity(options["plasticity"].value) if "plasticity" in options else None
        output = spec_from(options["output"].value, "output", d) if "output" in options else None
        if "output" in options and output is None:
            ok = False
        port = None
        if "port" in options:
            node = options["port"].value
            if isinstance(node, ast.Name):
                port = node.ident.name
            else:
                d.error("SNN219", "`port` names an input port of the target, e.g. `port = I_ext`", node.span)
        delay, steps = None, 0
        if "delay" in options:
            delay = convert(options["delay"].value, Param("delay", "quantity", unit="ms"), d)
            if delay is not None and dt is not None:
                steps = max(0, round(float(delay / dt)))
        label = st.label.name if st.label is not None else f"{st.pre.name}->{st.post.name}"
        if st.label is not None and not check_identifier(st.label, d, "projection"):
            ok = False
        if not ok or conn is None:
            self.unresolved.append((st.pre.name, st.post.name))
            return None
        delay_span = options["delay"].span if "delay" in options else None
        return ir.Projection(label, st.pre.name, st.post.name, conn, synapse, output, port, delay, steps,
                             delay_span, span=st.span, plasticity=plasticity)

    def option_model(self, node: ast.Expr, option: str, kind: str, example: str) -> tuple[ast.Call, ir.Model] | None:
        """The model call of a ``connect`` option (``synapse = Expon(...)``, ``plasticity = STDP(...)``; a bare
        model name is a call without arguments) and its model of ``kind``, or ``None`` after an error: not a call
        (SNN219, with ``example``), unknown model (SNN211 unless ``quiet``), a model of another kind (SNN219 for
        a synapse, SNN247 for a plasticity model)."""
        d = self.diags
        if isinstance(node, ast.Name):
            node = ast.Call(node.ident, (), span=node.span)
        if not isinstance(node, ast.Call):
            d.error("SNN219", f"`{option}` takes a {kind} model, e.g. `{option} = {example}`", node.span)
            return None
        model = self.models.get(node.func.name)
        if model is None:
            if not self.quiet:
                d.error("SNN211", f"unknown model `{node.func.name}`", node.func.span,
                        did_you_mean(node.func.name, self.models) or "define it, or import it: `import \"std\"`")
            return None
        if model.kind != kind:
            if kind == "plasticity":
                d.error("SNN247", f"{model.name} is a {model.kind} model, not a plasticity model", node.func.span,
                        "`plasticity = ...` takes a `plasticity` block, e.g. STDP from the standard library")
            else:
                d.error("SNN219", f"{model.name} is a {model.kind} model, not a {kind}", node.func.span)
            return None
        return node, model

    def synapse(self, node: ast.Expr) -> ir.SynapseUse | None:
        """The ``synapse = Model(args...)`` option → :class:`ir.SynapseUse`, or ``None`` after an error (those of
        :meth:`option_model`, or bad named arguments as for populations; a synapse has no size)."""
        found = self.option_model(node, "synapse", "synapse", "Expon(tau = 5 ms)")
        if found is None:
            return None
        node, model = found
        values, _ = _values(node, model, self.diags, skip=0, arrays=self.arrays)
        return ir.SynapseUse(model.name, tuple(values.items()), span=node.span)

    def plasticity(self, node: ast.Expr) -> ir.PlasticityUse | None:
        """The ``plasticity = Model(args...)`` option → :class:`ir.PlasticityUse`, or ``None`` after an error
        (those of :meth:`option_model`, bad named arguments as for a synapse, a parameter without default not
        given: SNN204)."""
        found = self.option_model(node, "plasticity", "plasticity", "STDP(w_max = 1 nS)")
        if found is None:
            return None
        node, model = found
        values, _ = _values(node, model, self.diags, skip=0)
        for p in model.params:
            if p.default is None and p.name not in values:
                self.diags.error("SNN204", f"{model.name}() needs the parameter `{p.name}` (it has no default)",
                                 node.span)
        return ir.PlasticityUse(model.name, tuple(values.items()), span=node.span)


def resolve_network(node: ast.NetworkDef, models: dict[str, ir.Model], diags: Diagnostics,
                    quiet_unknown_models: bool = False, arrays: Any = None) -> ir.Network | None:
    """A network definition → :class:`ir.Network` (see :meth:`NetworkBuilder.build`), or ``None`` when its name
    cannot be declared.

    ``models`` are the resolved models visible in the file, by name. ``quiet_unknown_models``: an import
    failed, so unknown model names were already explained and are not reported again. ``arrays`` (an
    :class:`~snndsl.resolve.arrays.ArrayContext`) allows array values and ``load(...)``; ``None``: SNN270.
    Errors go to ``diags``.
    """
    if not check_identifier(node.name, diags, "network"):
        return None
    builder = NetworkBuilder(node, models, diags)
    builder.quiet = quiet_unknown_models
    builder.arrays = arrays
    return builder.build()
