"""Memory: a network whose arrays cannot fit in any machine is refused at check time, not by ``run``.

The estimate counts what the emitted module allocates for one sample: each population's per-neuron
parameters and states, each projection's weights as its storage keeps them (a dense matrix; a mask besides it;
the connected pairs of sparse storage, which are drawn from a dense matrix of random numbers first), biases,
synapse states and delay buffers, at 4 bytes a number. Training and batches need more; this is the floor.
"""

from __future__ import annotations

from typing import Iterator

from snndsl import ir
from snndsl.diagnostics import Diagnostic, ERROR, WARNING

#: Above this estimate a network is refused (SNN508): 64 GiB, beyond most single machines and accelerators.
MAX_NETWORK_BYTES = 64 * 2 ** 30
#: Above this estimate a warning says how much memory the network needs: 8 GiB.
WARN_NETWORK_BYTES = 8 * 2 ** 30


def _model_numbers(program: ir.Program, model_name: str) -> int:
    """Numbers per neuron of a model: its parameters and states (and a last-spike time when refractory)."""
    model = program.model(model_name)
    if model is None:
        return 1
    return len(model.params) + len(model.states) + (model.refractory is not None) + 1


def estimate(program: ir.Program, net: ir.Network) -> tuple[int, str]:
    """Bytes the network's arrays take for one sample, and the largest contributor (for the message)."""
    parts: list[tuple[int, str]] = []
    for pop in net.populations:
        parts.append((pop.size * _model_numbers(program, pop.model), f"population `{pop.name}`"))
    for pr in net.projections:
        pre, post = net.node(pr.pre), net.node(pr.post)
        if pre is None or post is None:
            continue
        storage = pr.facts.storage if pr.facts is not None else "dense"
        pairs = pre.size * post.size
        n = {"diagonal": post.size, "masked": 2 * pairs}.get(storage, pairs)
        n += post.size                                   # a bias
        if pr.synapse is not None:
            n += post.size * _model_numbers(program, pr.synapse.model)
        n += pr.delay_steps * pre.size
        parts.append((n, f"projection `{pr.name}`"))
    total = 4 * sum(n for n, _ in parts)
    largest = max(parts)[1] if parts else net.name
    return total, largest


def network_size(program: ir.Program) -> Iterator[Diagnostic]:
    """Rule SNN508: a network needing more than :data:`MAX_NETWORK_BYTES` (64 GiB) for its arrays, by
    :func:`estimate`, is an error; more than :data:`WARN_NETWORK_BYTES` (8 GiB), a warning."""
    for net in program.networks:
        total, largest = estimate(program, net)
        if total <= WARN_NETWORK_BYTES:
            continue
        severity = ERROR if total > MAX_NETWORK_BYTES else WARNING
        limit = "more than the 64 GiB snndsl accepts" if severity == ERROR else "check the sizes"
        yield Diagnostic("SNN508", f"network {net.name} needs about {_size(total)} of memory for one sample "
                         f"({limit}); the largest part is {largest}", net.span,
                         "reduce the population sizes, or connect sparsely (`fixed_prob(p = ...)`)",
                         severity)


def _size(n: int) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30)):
        if n >= scale:
            return f"{n / scale:,.0f} {unit}" if n / scale >= 10 else f"{n / scale:.1f} {unit}"
    return f"{n / 2 ** 20:.0f} MiB"
