"""Data checked against the network and its train block before training starts.

Every problem is a :class:`DataError` naming the array (and the file where one is known), so ``snndsl
train`` stops with one line and exit 2 before compiling anything, instead of training on data that cannot
be right (labels outside the classes train silently to 0 % accuracy; a NaN input shows up much later as a
"non-finite gradient").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snndsl import ir
from snndsl.registry import LOSSES
from snndsl.runtime.datasets.base import DataError, Dataset


def check_arrays(where: str, x: np.ndarray, y: np.ndarray) -> None:
    """Shapes and values every data set needs: ``x`` [samples ≥ 1, time ≥ 1, channels] with finite values, ``y``
    with one entry per sample (finite when they are targets). ``where`` names the file or source."""
    if y.ndim == 0:
        raise DataError(f"{where}: `y` is a single value (0-d), but it needs one label or target per sample")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DataError(f"{where}: `y` holds {y.dtype} values; it needs integer labels or float targets")
    if x.shape[0] == 0:
        raise DataError(f"{where}: `x` has no samples")
    if x.ndim >= 2 and x.shape[1] == 0:
        raise DataError(f"{where}: `x` has no time steps (shape {list(x.shape)})")
    if y.shape[0] != x.shape[0]:
        raise DataError(f"{where}: `x` has {x.shape[0]} samples but `y` has {y.shape[0]}")
    bad = ~np.isfinite(x)
    if bad.any():
        s, t, c = (int(i[0]) for i in np.nonzero(bad))
        raise DataError(f"{where}: `x` holds {int(bad.sum())} non-finite values (NaN or inf), the first at "
                        f"sample {s}, step {t}, channel {c}")
    if not np.issubdtype(y.dtype, np.integer) and not np.all(np.isfinite(y)):
        raise DataError(f"{where}: `y` holds non-finite targets (NaN or inf)")


def _population(e: ir.Expr) -> str | None:
    """The population a loss argument reads (``out`` in ``mean(out, time)``), if it reads exactly one."""
    found: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, ir.Ref) and x.kind == "pop":
            found.add(x.name)
        elif isinstance(x, ir.Field):
            found.add(x.pop)
        for child in (getattr(x, "args", None) or ()):
            walk(child)
        for name in ("left", "right", "operand"):
            if hasattr(x, name):
                walk(getattr(x, name))

    walk(e)
    return next(iter(found)) if len(found) == 1 else None


def _losses(e: Any) -> list[ir.Func]:
    """The loss calls in a loss expression."""
    out = []
    if isinstance(e, ir.Func) and e.name in LOSSES:
        out.append(e)
    for child in (getattr(e, "args", None) or ()):
        out += _losses(child)
    for name in ("left", "right", "operand"):
        if hasattr(e, name):
            out += _losses(getattr(e, name))
    return out


def check_fits(data: Dataset, net: ir.Network, train: ir.Train | None, where: str = "the data") -> None:
    """The labels or targets suit the train block's loss: integer class labels within the classes for a
    classification loss (the classes are the units of the population its prediction reads), float targets
    of the prediction's size for a regression loss. Checks the test split too. Raises :class:`DataError`."""
    if train is None or train.loss is None:
        return
    for call in _losses(train.loss):
        task = LOSSES[call.name].traits.task
        if task == "regulariser":
            continue
        pop = _population(call.args[0])
        node = net.node(pop) if pop is not None else None
        size = node.size if node is not None else None
        for split, y in (("`y`", data.y), ("`y` of the test split", data.y_test)):
            if y is None:
                continue
            integer = np.issubdtype(y.dtype, np.integer)
            if task == "classification":
                if not integer:
                    raise DataError(f"{where}: {split} holds {y.dtype} values, but {call.name} needs integer "
                                    "class labels")
                if size is not None and len(y) and (y.min() < 0 or y.max() >= size):
                    bad = int(y.min()) if y.min() < 0 else int(y.max())
                    raise DataError(f"{where}: {split} has the label {bad}, but {call.name} reads `{pop}`, "
                                    f"whose {size} units are the classes 0..{size - 1}")
            elif integer:
                raise DataError(f"{where}: {split} holds integer class labels, but {call.name} needs float "
                                "targets (store y as floats for a regression)")
            elif size is not None and y.ndim == 2 and y.shape[1] != size:
                raise DataError(f"{where}: {split} has {y.shape[1]} targets per sample, but {call.name} reads "
                                f"`{pop}`, which has {size} units")
