"""Parameter files: a network's arrays by path, read from and written to disk, applied to an instance.

A parameter file is a folder of ``.npy`` files or one ``.npz`` archive, one array per *parameter path*:

* ``pop.param``: a parameter of population ``pop`` (one value, or one per neuron ``[size]``);
* ``pop.state``: the initial value of a state of ``pop`` (``[size]``);
* ``proj.w`` / ``proj.b``: the weights (``[n_pre, n_post]``; ``[n]`` for ``one_to_one``) and bias (``[n_post]``)
  of projection ``proj`` (its label, or ``pre->post``);
* ``proj.syn.param``: a parameter of projection ``proj``'s synapse (``[n_post]``).

Numbers are in the unit the model declares for that value (``param tau: ms`` → ms; a weight in the unit of
the weight as the model writes it, e.g. ``kaiming_normal(mA)`` → mA), unless a unit table says otherwise:
``units.json`` in a folder or ``__units__`` in an archive, mapping paths to unit text (what
:func:`write_params` and ``snndsl import`` write). No file is read with pickles. ``snndsl run --params``,
``snndsl export --params`` and :meth:`snndsl.runtime.model.CompiledModel.network` (``params=``) all use
:func:`read_params` and :func:`apply_params`; a folder holding a training checkpoint (``DIR/params``) is
restored with :mod:`snndsl.runtime.checkpoint` instead (:func:`apply_source`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import brainunit as u
import numpy as np

from snndsl import ir
from snndsl.runtime.bridge import to_brainunit

#: path -> (numbers, the text of their unit, or None: the unit the model declares)
Params = dict[str, tuple[np.ndarray, "str | None"]]


class ParamsError(ValueError):
    """A parameter file cannot be read or does not fit the network; the message is for the user."""


def _units(table: Any, where: str) -> dict[str, str]:
    """A unit table (JSON text) as ``{path: unit text}``."""
    try:
        units = json.loads(table)
    except ValueError as e:
        raise ParamsError(f"{where}: the unit table is not JSON ({e})") from None
    if not isinstance(units, dict) or not all(isinstance(v, str) for v in units.values()):
        raise ParamsError(f"{where}: the unit table must map parameter paths to unit text")
    return units


def read_params(path: str | Path) -> Params:
    """The arrays of a parameter folder (``*.npy`` and an optional ``units.json``) or ``.npz`` archive (an
    optional ``__units__`` array holding the JSON unit table), without pickles. Raises :class:`ParamsError`
    for a missing or unreadable file, an array that is not real numbers, or a bad unit table."""
    path = Path(path)
    params: Params = {}
    try:
        if path.is_dir():
            files = sorted(path.glob("*.npy"))
            if not files:
                raise ParamsError(f"{path} holds neither a training checkpoint (params) nor .npy parameter files")
            units_file = path / "units.json"
            units = _units(units_file.read_text(encoding="utf-8"), str(units_file)) if units_file.exists() else {}
            for f in files:
                params[f.name[:-4]] = (np.load(f, allow_pickle=False), units.get(f.name[:-4]))
        else:
            loaded = np.load(path, allow_pickle=False)
            if not hasattr(loaded, "files"):
                raise ParamsError(f"{path} is an .npy file; parameters are a folder of them or one .npz")
            with loaded as f:
                units = _units(str(f["__units__"]), str(path)) if "__units__" in f.files else {}
                params = {k: (f[k], units.get(k)) for k in f.files if k != "__units__"}
    except (OSError, ValueError, EOFError) as e:
        if isinstance(e, ParamsError):
            raise
        raise ParamsError(f"cannot read parameters from {path}: {e}") from None
    for key, (arr, _) in params.items():
        if arr.dtype.kind not in "biuf":
            raise ParamsError(f"{path}: `{key}` holds {arr.dtype} values, not real numbers")
    return params


def _read(x: Any) -> Any:
    """The value of a brainstate ``State``; anything else as it is."""
    import brainstate as bs
    return x.value if isinstance(x, bs.State) else x


class _Slot:
    """One parameter path of a network instance: how to read and write its value, its expected shapes and
    the unit a file's numbers are in when no unit table names one."""

    def __init__(self, get, set_, shapes: tuple, unit: Any):
        self.get, self.set, self.shapes, self.unit = get, set_, shapes, unit


def _model_slots(prefix: str, model: ir.Model, mod: Any, n: int) -> Iterator[tuple[str, _Slot]]:
    """The parameters and state initial values of one model instance ``mod`` of ``n`` neurons."""
    import brainstate as bs

    from snndsl.lower.emit import derived, py_name

    for p in model.params:
        attr = py_name(p.name)

        def get(attr=attr):
            return _read(getattr(mod, attr))

        def set_(value, attr=attr):
            cur = getattr(mod, attr)
            if isinstance(cur, bs.State):
                cur.value = value
            else:
                setattr(mod, attr, value)
        yield f"{prefix}.{p.name}", _Slot(get, set_, ((), (n,)), to_brainunit(p.unit))
    for s in model.states:
        attr = derived(py_name(s.name), "init")
        yield f"{prefix}.{s.name}", _Slot(lambda attr=attr: getattr(mod, attr), lambda v, attr=attr: setattr(mod, attr, v),
                                          ((), (n,)), s.unit)


def _weight_slots(name: str, comm: Any) -> Iterator[tuple[str, _Slot]]:
    """``name.w`` and ``name.b`` of a projection's weight module (a dict ``{weight, bias}`` or one array)."""
    held = comm.weight.value
    if isinstance(held, dict):
        for key, field in (("w", "weight"), ("b", "bias")):
            if field in held:
                def set_(value, field=field):
                    w = dict(comm.weight.value)
                    w[field] = value
                    comm.weight.value = w
                yield f"{name}.{key}", _Slot(lambda field=field: comm.weight.value[field], set_,
                                             (tuple(np.shape(held[field])),), u.get_unit(held[field]))
    else:
        def set_(value):
            comm.weight.value = value
        yield f"{name}.w", _Slot(lambda: comm.weight.value, set_, (tuple(np.shape(held)),), u.get_unit(held))


def slots(model, net, network: str | None = None) -> dict[str, _Slot]:
    """Every parameter path of ``net`` (an instance of network ``network`` of compiled ``model``)."""
    from snndsl.lower.emit import derived, py_name
    from snndsl.lower.network import NetworkLowering

    netir = model.ir(network)
    attr = NetworkLowering(model.program, netir).attr
    out: dict[str, _Slot] = {}
    for pop in netir.populations:
        out.update(_model_slots(pop.name, model.program.model(pop.model), getattr(net, py_name(pop.name)), pop.size))
    for pr in netir.projections:
        out.update(_weight_slots(pr.name, getattr(net, attr[pr.name])))
        if pr.synapse is not None:
            n = netir.node(pr.post).size
            out.update(_model_slots(f"{pr.name}.syn", model.program.model(pr.synapse.model),
                                    getattr(net, derived(attr[pr.name], "syn")), n))
    return out


def _as_value(arr: np.ndarray, unit_text: str | None, slot: _Slot, key: str) -> Any:
    """The numbers of ``key`` as a value for ``slot``: a JAX array of the default float dtype, in the unit
    the table names (converted to the slot's unit) or else the slot's own unit."""
    import jax.numpy as jnp

    numbers = jnp.asarray(np.asarray(arr, dtype=np.float64), dtype=jnp.asarray(0.0).dtype)
    target = slot.unit
    if target is None:
        cur = slot.get()
        target = u.get_unit(cur) if isinstance(cur, (u.Quantity, np.ndarray, float, int)) or hasattr(
            cur, "dtype") else None
    unit = target
    if unit_text not in (None, "", "1"):
        try:
            unit = u.Unit(unit_text) if not isinstance(unit_text, u.Unit) else unit_text
        except Exception:  # noqa: BLE001 - brainunit raises several types for bad unit text
            raise ParamsError(f"`{key}`: unknown unit {unit_text!r}") from None
    if target is None:
        return numbers if unit is None or unit.is_unitless else u.Quantity(numbers, unit=unit)
    if target.is_unitless:
        if not unit.is_unitless:
            raise ParamsError(f"`{key}` is in {unit_text}, but the model's value is a plain number")
        return numbers
    q = u.Quantity(numbers, unit=unit)
    if not q.unit.has_same_dim(target):
        raise ParamsError(f"`{key}` is in {unit_text}; the model's value is in {target}")
    return q.to(target) if unit != target else q


def apply_params(model, net, params: Params, network: str | None = None) -> None:
    """Set every array of ``params`` on ``net`` (see the module docstring for paths, shapes and units).
    Raises :class:`ParamsError` for a path the network does not have (listing those it has), an array of
    the wrong shape, a non-finite number or a unit that does not fit."""
    table = slots(model, net, network)
    for key, (arr, unit) in params.items():
        slot = table.get(key)
        if slot is None:
            from snndsl.diagnostics import did_you_mean
            hint = did_you_mean(key, list(table))
            raise ParamsError(f"no parameter `{key}` in {model.ir(network).name}"
                              + (f" ({hint})" if hint else f"; it has {', '.join(table)}"))
        shape = tuple(np.shape(arr))
        if shape not in slot.shapes:
            want = " or ".join("[" + ", ".join(map(str, s)) + "]" for s in slot.shapes if s)
            raise ParamsError(f"`{key}` has shape [{', '.join(map(str, shape))}]; the network needs {want}")
        if not np.all(np.isfinite(np.asarray(arr, dtype=np.float64))):
            raise ParamsError(f"`{key}` holds NaN or infinite numbers")
        slot.set(_as_value(arr, unit, slot, key))


def collect_params(model, net, network: str | None = None) -> Params:
    """Every parameter array of ``net`` (parameters, weights, biases, synapse parameters; initial states that
    are set to arrays or constants) as float64 numbers with the text of their unit, by path."""
    out: Params = {}
    for key, slot in slots(model, net, network).items():
        value = slot.get()
        if value is None or callable(value) and not isinstance(value, (u.Quantity, np.ndarray)):
            continue          # an initialiser or a default computed at init: nothing fixed to write
        try:
            numbers = np.asarray(u.get_mantissa(value), dtype=np.float64)
        except (TypeError, ValueError):
            continue
        unit = u.get_unit(value)
        out[key] = (numbers, "" if unit.is_unitless else str(unit))
    return out


def write_params(folder: str | Path, params: Params) -> list[Path]:
    """Write ``params`` as ``folder/PATH.npy`` files and ``folder/units.json``, each atomically; returns the
    files written."""
    from snndsl.fileio import atomic_write, atomic_write_text

    folder = Path(folder)
    written = []
    for key, (arr, _) in params.items():
        written.append(atomic_write(folder / f"{key}.npy", lambda f, arr=arr: np.save(f, arr, allow_pickle=False)))
    units = {k: unit for k, (_, unit) in params.items() if unit}
    written.append(atomic_write_text(folder / "units.json", json.dumps(units, indent=1, sort_keys=True) + "\n"))
    return written


def apply_source(model, net, source: str | Path, network: str | None = None) -> None:
    """Apply parameters from ``source`` to ``net``: a training run folder holding a checkpoint ``params``
    (restored whole, :func:`snndsl.runtime.checkpoint.load`), else a parameter folder or ``.npz``
    (:func:`read_params`, :func:`apply_params`). Raises :class:`ParamsError` or
    :class:`snndsl.runtime.checkpoint.CheckpointError`."""
    source = Path(source)
    if source.is_dir() and (source / "params").is_file():
        from snndsl.runtime import checkpoint
        if not hasattr(model.module, "make_trainer"):
            raise checkpoint.CheckpointError(f"{source / 'params'}: the model has no train block, so no "
                                             "checkpoint can be its")
        optimizer, _, _ = model.module.make_trainer(net, 1)
        checkpoint.load(source / "params", net, optimizer)
        return
    apply_params(model, net, read_params(source), network)
