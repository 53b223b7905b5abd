"""The parameter file of an imported model, ``<model>.params.npz``, and applying it to a network instance.

An import writes each per-neuron value, weight matrix and bias to a plain ``.npz`` file next to the ``.snn``
file: one array per parameter path (``pop.param``, ``pop.state`` for an initial value, ``label.w``,
``label.b``, ``label.syn.param``; ``label`` is a connection's label or ``pre->post``) and a JSON table
``__units__`` naming the unit of each array's numbers: the format of :mod:`snndsl.runtime.params`, which
reads and applies it (``snndsl run imported.snn --params imported.params.npz``). The ``.snn`` text holds the
mean (or zeros) in those places, so it compiles and checks on its own; :func:`load` compiles it and applies
the arrays.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from snndsl.runtime.params import Params, apply_params, read_params

__all__ = ["Params", "apply_params", "load", "params_path", "read_params", "save_params"]


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
