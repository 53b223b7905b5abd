"""The projection graph: endpoints, sizes, zero-delay cycles, undriven outputs and unused populations."""

from __future__ import annotations

from typing import Iterator

from snndsl import ir
from snndsl.ir.noise import has_noise
from snndsl.diagnostics import WARNING, Diagnostic
from snndsl.registry import CONNECTIVITY


def endpoints_and_sizes(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN401/SNN402: projections end where they can, between populations of fitting sizes.

    * SNN401: a projection must not target a network input (inputs only send).
    * SNN402: ``one_to_one`` connectivity needs ``size(pre) == size(post)``.

    Endpoints that are not defined at all were reported by the resolver and are skipped here.
    """
    for net in program.networks:
        for proj in net.projections:
            pre, post = net.node(proj.pre), net.node(proj.post)
            if isinstance(post, ir.InputDef):
                yield Diagnostic("SNN401", f"`{post.name}` is a network input; projections cannot target it",
                                 proj.span, "inputs only send; connect into a `pop` or `readout`")
                continue
            rule = CONNECTIVITY.get(proj.conn.name)
            if rule is not None and rule.traits.same_size and pre is not None and post is not None \
                    and pre.size != post.size:
                yield Diagnostic("SNN402", f"{proj.conn.name} needs equal sizes, but {pre.name} has {pre.size} and "
                                 f"{post.name} has {post.size}", proj.span,
                                 "use dense(...) or fixed_prob(...) between populations of different sizes")


def _cycles(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative).

    ``edges[a]`` lists the nodes ``a`` feeds. Each node gets a visit ``index`` and ``low``, the smallest
    index reachable from it through the depth-first tree and one back edge; a node with ``low == index``
    roots a component, popped off ``stack``. An explicit work list replaces recursion, so a network of any
    size cannot overflow the stack. Components come out in reverse topological order.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    comp.append(n)
                    if n == node:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


def zero_delay_cycles(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN403: a cycle of two or more populations must contain a delayed projection (a self-projection
    ``A -> A`` reads last step's spikes and needs none).

    The graph has an edge ``pre -> post`` for every projection between two distinct populations with
    ``delay_steps == 0`` (inputs cannot be in a cycle). Every strongly connected component of two or more nodes
    (Tarjan's algorithm) is one SNN403, reported at the first of its projections and naming all of them.
    """
    for net in program.networks:
        zero = [p for p in net.projections if p.delay_steps == 0 and p.pre != p.post
                and isinstance(net.node(p.post), ir.Population) and isinstance(net.node(p.pre), ir.Population)]
        edges: dict[str, list[str]] = {}
        for p in zero:
            edges.setdefault(p.pre, []).append(p.post)
        for comp in _cycles([n.name for n in net.populations], edges):
            members = set(comp)
            projs = [p for p in zero if p.pre in members and p.post in members]
            names = ", ".join(f"`{p.name}`" for p in projs)
            yield Diagnostic("SNN403", f"zero-delay cycle through {', '.join(sorted(members))}: {names}",
                             projs[0].span, "give one projection of the cycle a delay of at least dt, "
                             f"e.g. `, delay = {ir.show_value(net.dt) if net.dt is not None else '1 ms'}`")


def _autonomous(program: ir.Program, pop: ir.Population) -> bool:
    """Whether ``pop`` produces activity without input: its model is a neuron with white noise in an ODE
    (an ``OU`` current source) or without any input port (nothing could drive it)."""
    model = program.model(pop.model)
    if model is None or model.kind != "neuron":
        return False
    return not model.ports or any(has_noise(o.rhs) for o in model.odes)


def outputs_and_usage(program: ir.Program) -> Iterator[Diagnostic]:
    """Rules SNN404-406: outputs are driven, nodes are used, a network produces something.

    * SNN404 (error): an output population receives no projection.
    * SNN405 (warning): an input or population has no projection in or out and is not an output.
    * SNN406 (warning): the network declares no output.

    Connect statements that failed to resolve count as edges (``Network.unresolved``), so they cause no
    follow-on reports.
    """
    for net in program.networks:
        targets = {p.post for p in net.projections} | {post for _, post in net.unresolved}
        sources = {p.pre for p in net.projections} | {pre for pre, _ in net.unresolved}
        for name, span in zip(net.outputs, net.output_spans):
            node = net.node(name)
            if isinstance(node, ir.Population) and name not in targets and not _autonomous(program, node):
                yield Diagnostic("SNN404", f"output `{name}` is not driven by any projection", span,
                                 f"connect something into it: `connect ... -> {name}: dense(...)`")
        for node in (*net.inputs, *net.populations):
            if node.name not in targets and node.name not in sources and node.name not in net.outputs:
                yield Diagnostic("SNN405", f"`{node.name}` is not connected to anything", node.span,
                                 "connect it or remove it", WARNING)
        if not net.outputs:
            yield Diagnostic("SNN406", f"network {net.name} declares no output", net.span,
                             "add `output NAME` to say what the network produces", WARNING)
