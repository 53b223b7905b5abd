"""The parameter file of an imported model, ``<model>.params.npz``, and applying it to a network instance.

The language has no array literals, so an import writes each per-neuron value, weight matrix and bias to a
plain ``.npz`` file next to the ``.snn`` file: one array per key (``pop.param``, ``pop.state`` for an initial
value, ``label.w``, ``label.b``, ``label.syn.param``; ``label`` is a connection's label or ``pre->post``) and a
JSON table ``__units__`` naming the unit of each array's numbers. The ``.snn`` text holds the mean (or zeros)
in those places, so it compiles and checks on its own; :func:`load` compiles it and applies the arrays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import brainunit as u
import numpy as np

from snndsl import ir

#: key -> (numbers, the text of their unit)
Params = dict[str, tuple[np.ndarray, str]]


def params_path(snn_path: str | Path) -> Path:
    """``dir/m.snn`` -> ``dir/m.params.npz``."""
    p = Path(snn_path)
    return p.with_name(p.stem + ".params.npz")


def save_params(path: Path, params: Params) -> None:
    """Write ``params`` atomically as an ``.npz`` with the ``__units__`` table."""
    from snndsl.fileio import atomic_write
    arrays = {k: np.asarray(v) for k, (v, _) in params.items()}
    arrays["__units__"] = np.array(json.dumps({k: unit for k, (_, unit) in params.items()}))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_params(path: str | Path) -> Params:
    """The arrays of a parameter file with their units (no pickled objects are read)."""
    with np.load(path, allow_pickle=False) as f:
        units = json.loads(str(f["__units__"]))
        return {k: (f[k], units[k]) for k in f.files if k != "__units__"}


def _value(arr: Any, unit: str, like: Any = None) -> Any:
    """``arr`` as float32 in ``unit``, converted to the unit of ``like`` when that is a quantity."""
    import jax.numpy as jnp
    q = jnp.asarray(arr, dtype=jnp.float32)
    if unit not in ("", "1"):
        q = u.Quantity(q, unit=u.Unit(unit))
        if isinstance(like, u.Quantity):
            q = q.to(u.get_unit(like))
    return q


def _set_on(mod: Any, model: ir.Model, name: str, arr: Any, unit: str) -> None:
    """Set parameter ``name`` of ``mod``, or the initial value of its state ``name``."""
    import brainstate as bs

    from snndsl.lower.emit import derived, py_name
    if model.param(name) is not None:
        cur = getattr(mod, py_name(name))
        if isinstance(cur, bs.State):
            cur.value = _value(arr, unit, cur.value)
        else:
            setattr(mod, py_name(name), _value(arr, unit, cur))
    elif model.state(name) is not None:
        setattr(mod, derived(py_name(name), "init"), _value(arr, unit))
    else:
        raise KeyError(f"{model.name} has no parameter or state {name!r}")


def _set_weights(comm: Any, pr: ir.Projection, slot: str, arr: Any, unit: str) -> None:
    """Set the ``w`` (weight) or ``b`` (bias) array of ``pr``'s weight module from the parameter file."""
    if pr.conn.name == "one_to_one":
        comm.weight.value = _value(arr, unit, comm.weight.value)
        return
    w = dict(comm.weight.value)
    key = {"w": "weight", "b": "bias"}[slot]
    w[key] = _value(arr, unit, w.get(key))
    comm.weight.value = w


def apply_params(model, net, params: Params, network: str | None = None) -> None:
    """Set the arrays of an import (``pop.param``, ``pop.state`` initial values, ``proj.w``, ``proj.b``,
    ``proj.syn.param``) on an instance of the compiled network. An unknown key raises ``KeyError``."""
    from snndsl.lower.emit import derived, py_name
    from snndsl.lower.network import NetworkLowering

    netir = model.ir(network)
    attr = NetworkLowering(model.program, netir).attr
    for key, (arr, unit) in params.items():
        head, _, rest = key.partition(".")
        pop = netir.node(head)
        if isinstance(pop, ir.Population):
            _set_on(getattr(net, py_name(head)), model.program.model(pop.model), rest, arr, unit)
            continue
        label, _, rest = key.rpartition(".") if not key.count(".syn.") else key.partition(".syn.")
        pr = next((p for p in netir.projections if p.name == label), None)
        if pr is None:
            raise KeyError(f"no population or projection for parameter {key!r}")
        if ".syn." in key:
            _set_on(getattr(net, derived(attr[pr.name], "syn")), model.program.model(pr.synapse.model), rest, arr, unit)
        else:
            _set_weights(getattr(net, attr[pr.name]), pr, rest, arr, unit)


def load(path: str | Path, params: str | Path | None = None, network: str | None = None):
    """Compile an imported ``.snn`` file and apply its parameter file (``params``, default the
    ``.params.npz`` next to it when there is one): ``(CompiledModel, network instance)``."""
    from snndsl.runtime.model import load as compile_file
    model = compile_file(path)
    net = model.network(network)
    pfile = Path(params) if params is not None else params_path(path)
    if params is not None or pfile.exists():
        apply_params(model, net, read_params(pfile), network)
    return model, net
