"""What a network can record: one table from the paths a user writes to the attributes of the emitted module.

A path names a node and, optionally, a state: ``hidden`` (a population's output: its spikes, or a readout's
value), ``hidden.V`` (a population's state), ``ee.g`` (a state of projection ``ee``'s synapse, one value per
postsynaptic neuron), ``p.w`` (a state of projection ``p``'s plasticity: its weights, traces).
:func:`recordable` builds the table once per network from the checked IR, one
function per kind of node (:data:`PATH_KINDS`); a new kind of recordable value (a projection's weights, say)
is one more function there, not a special case in ``simulate`` or the CLI. Paths are the names as written in
the model; the emitted paths go through :func:`snndsl.lower.emit.py_name` part by part, as the emitted
module names its attributes.
"""

from __future__ import annotations

from typing import Callable, Iterator

from snndsl import ir


class RecordError(ValueError):
    """A record path names nothing recordable; the message lists what can be recorded."""


def _population_paths(program: ir.Program, net: ir.Network, attrs: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``pop`` (its output) and ``pop.state`` for every state of its model."""
    from snndsl.lower.emit import py_name
    for pop in net.populations:
        yield pop.name, py_name(pop.name)
        for s in program.model(pop.model).states:
            yield f"{pop.name}.{s.name}", f"{py_name(pop.name)}.{py_name(s.name)}"


def _synapse_paths(program: ir.Program, net: ir.Network, attrs: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``proj.state`` for every state of a projection's synapse (the emitted ``<proj>__syn`` module)."""
    from snndsl.lower.emit import derived, py_name
    for pr in net.projections:
        if pr.synapse is None:
            continue
        for s in program.model(pr.synapse.model).states:
            yield f"{pr.name}.{s.name}", f"{derived(attrs[pr.name], 'syn')}.{py_name(s.name)}"


def _plastic_paths(program: ir.Program, net: ir.Network, attrs: dict[str, str]) -> Iterator[tuple[str, str]]:
    """``proj.state`` for every state of a labelled projection's plasticity model (its weights ``p.w``, its
    traces): the emitted plasticity module stands in the projection's place."""
    from snndsl.lower.emit import py_name
    for pr in net.projections:
        if pr.plasticity is None or "->" in pr.name:
            continue
        for s in program.model(pr.plasticity.model).states:
            yield f"{pr.name}.{s.name}", f"{attrs[pr.name]}.{py_name(s.name)}"


#: The kinds of recordable paths, each ``(program, network, projection attributes) -> (path, emitted)``.
PATH_KINDS: tuple[Callable[..., Iterator[tuple[str, str]]], ...] = (_population_paths, _synapse_paths,
                                                                     _plastic_paths)


def recordable(program: ir.Program, net: ir.Network) -> dict[str, str]:
    """Every path of ``net`` that can be recorded, mapped to the emitted module's attribute path (what the
    emitted ``simulate`` reads with ``_lookup``), in declaration order: populations and their states, then
    projections' synapse states. A path a population takes first is not taken again by a projection."""
    from snndsl.lower.network import NetworkLowering
    attrs = NetworkLowering(program, net).attr
    table: dict[str, str] = {}
    for kind in PATH_KINDS:
        for path, emitted in kind(program, net, attrs):
            table.setdefault(path, emitted)
    return table


def resolve_paths(program: ir.Program, net: ir.Network, paths) -> dict[str, str]:
    """``{path: emitted path}`` for each of ``paths``; raises :class:`RecordError` for one that names
    nothing recordable, with the recordable paths (or those of the node it names) in the message."""
    table = recordable(program, net)
    out = {}
    for path in paths:
        if path not in table:
            head, _, var = path.partition(".")
            near = [p for p in table if p.partition(".")[0] == head] or list(table)
            raise RecordError(f"cannot record `{path}` in {net.name}: {_why(program, net, head, var)}; "
                              f"recordable are {', '.join(near)}")
        out[path] = table[path]
    return out


def _why(program: ir.Program, net: ir.Network, head: str, var: str) -> str:
    """Why ``head.var`` names nothing recordable, in the model's terms."""
    node = net.node(head)
    if isinstance(node, ir.Population):
        return f"{node.model} has no state `{var}`"
    proj = next((p for p in net.projections if p.name == head), None)
    if proj is None and "->" in head:
        proj = next((p for p in net.projections if p.name.replace(" ", "") == head.replace(" ", "")), None)
    if proj is not None:
        if proj.plasticity is not None and "->" in proj.name:
            return (f"give the projection a label to record it (`connect p: {proj.pre} -> {proj.post}: ...`, "
                    f"then `--record p.{var}`)")
        if proj.synapse is None and proj.plasticity is None:
            return f"projection {head} has no synapse"
        owners = [m.model for m in (proj.synapse, proj.plasticity) if m is not None]
        if len(owners) == 1:
            return f"{owners[0]} of projection {head} has no state `{var}`"
        return f"neither {owners[0]} nor {owners[1]} of projection {head} has a state `{var}`"
    if node is not None:
        return f"`{head}` is an input"
    return f"no population or projection `{head}`"
