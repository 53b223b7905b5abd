"""Training checkpoints: parameters, optimizer state, random key and progress in one ``.npz`` file.

Written atomically (temporary file, fsync, rename), so a checkpoint on disk is always a complete one.
Leaves are stored in ``jax.tree_util`` order; the tree structure and every leaf's shape of the running model are
checked against the stored ones on load, so a checkpoint of another model is refused, not misapplied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from snndsl.fileio import atomic_write


class CheckpointError(Exception):
    """A checkpoint cannot be read or does not belong to this model."""


def _trees(net, optimizer) -> dict[str, Any]:
    """What a checkpoint holds: ``params`` (every ``ParamState`` by dotted path), the optimizer's state tree
    and its step count."""
    import brainstate as bs

    return {
        "params": {".".join(map(str, k)): s.value for k, s in net.states(bs.ParamState).items()},
        "optimizer": optimizer.opt_state.value,
        "step_count": optimizer.step_count.value,
    }


def save(path: Path, net, optimizer, meta: dict) -> Path:
    """Write a checkpoint of ``net`` and ``optimizer`` to ``path`` (an ``.npz``, written atomically; the name is
    kept exactly, no ``.npz`` added) and return the path written.

    Stored: every :class:`brainstate.ParamState` of ``net``, the optimizer state and step count (as the leaves
    of one ``jax.tree_util`` tree, ``leaf_0``, ``leaf_1``, ...), the global random key, and ``meta`` (JSON,
    with the tree structure added under ``"structure"``). ``meta`` must be JSON-serialisable (``TypeError``
    otherwise); ``OSError`` from the file system propagates.
    """
    import brainstate as bs
    import jax

    trees = _trees(net, optimizer)
    leaves, treedef = jax.tree_util.tree_flatten(trees)
    arrays = {f"leaf_{i}": np.asarray(x) for i, x in enumerate(leaves)}
    arrays["random_key"] = np.asarray(jax.random.key_data(bs.random.get_key()))
    arrays["meta"] = np.array(json.dumps({**meta, "structure": str(treedef)}))
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load(path: Path, net, optimizer) -> dict:
    """Restore parameters, optimizer state, step count and random key in place from a checkpoint written by
    :func:`save`; returns the saved ``meta`` (including its ``"structure"``).

    Raises :class:`CheckpointError` if the file cannot be read, or if its tree structure, leaf count or any
    leaf's shape differs from that of ``net`` and ``optimizer`` (a checkpoint of another model, or of the same
    model with other sizes). Each leaf keeps the dtype of the running model's.
    """
    import brainstate as bs
    import jax
    import jax.numpy as jnp

    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            stored = {k: f[k] for k in f.files}
    except (OSError, ValueError, KeyError) as e:
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from None
    trees = _trees(net, optimizer)
    leaves, treedef = jax.tree_util.tree_flatten(trees)
    if meta.get("structure") != str(treedef) or len(leaves) != sum(k.startswith("leaf_") for k in stored):
        raise CheckpointError(f"checkpoint {path} belongs to a different model (parameters differ)")
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(trees)[0]]
    for i, (x, where) in enumerate(zip(leaves, paths)):
        have, want = tuple(stored[f"leaf_{i}"].shape), tuple(np.shape(x))
        if have != want:
            raise CheckpointError(f"checkpoint {path} belongs to a differently sized model: {where} has shape "
                                  f"{have} there and {want} here")
    new = [jnp.asarray(stored[f"leaf_{i}"], dtype=jnp.asarray(x).dtype) for i, x in enumerate(leaves)]
    restored = jax.tree_util.tree_unflatten(treedef, new)
    for (k, s) in net.states(bs.ParamState).items():
        s.value = restored["params"][".".join(map(str, k))]
    optimizer.opt_state.value = restored["optimizer"]
    optimizer.step_count.value = restored["step_count"]
    bs.random.set_key(jax.random.wrap_key_data(jnp.asarray(stored["random_key"])))
    return meta
