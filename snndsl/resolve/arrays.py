"""Array values: literals (``[10, 20, 30] * ms``, ``[[0.1, 0.2], [0.3, 0.4]] * nA``) and arrays read from
``.npy``/``.npz`` files next to the model (``load("params.npz", "tau") * ms``).

Arrays are values of a population's (or a synapse's) parameters and states, one per neuron, and of a
projection's weights and biases: they are allowed exactly where an initialiser is (an ``init`` argument), and
an :class:`ArrayContext` in the expression's scope says so; anywhere else an array is SNN270. A literal folds
to a constant at resolution: each item a constant, all of one dimension, rows of one length. A file is read
once, here (never with ``allow_pickle``), through :data:`BytesReader`, the same refusals as model files
(regular files only, a size limit); its numbers are kept as a :class:`Loaded` quantity, which remembers the
file and key, so the emitted module reads the file by that path instead of pasting a large literal
(docs/language.md, "Arrays"). Shapes are judged by the checks (:mod:`snndsl.checks.arrays`), which know the
population sizes.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from snndsl import units as u
from snndsl import ir
from snndsl.ir.arrays import Loaded
from snndsl.diagnostics import Diagnostics, did_you_mean
from snndsl.ir.evaluate import same_dim, show
from snndsl.source import UnreadableSource
from snndsl.syntax import ast

#: Largest array file read (bytes): far above a model's weights, far below what would exhaust memory.
MAX_ARRAY_BYTES = 1 << 30

#: Reads a file's bytes given its path; raises ``OSError`` (:class:`UnreadableSource` for a non-regular or
#: too large file) as :func:`read_bytes` does.
BytesReader = Callable[[str], bytes]


def read_bytes(path: str) -> bytes:
    """The bytes of the regular file ``path`` (the default :data:`BytesReader`): never blocks on a pipe or
    reads a device, and refuses files over :data:`MAX_ARRAY_BYTES` (:class:`UnreadableSource`)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise UnreadableSource(errno.EINVAL, f"not a regular file ({kind})")
        if info.st_size > MAX_ARRAY_BYTES:
            raise UnreadableSource(errno.EFBIG, f"larger than the {MAX_ARRAY_BYTES >> 20} MiB limit for arrays")
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read(MAX_ARRAY_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)


def read_array(data: bytes, key: str | None) -> tuple[np.ndarray | None, str | None, list[str]]:
    """The array in ``data`` (an ``.npy`` file, or an ``.npz`` archive and the ``key`` of one of its arrays),
    with no pickled objects: ``(array, None, keys)``, or ``(None, why, keys)`` where ``why`` is ``"key"``
    when the archive has no array ``key`` (``keys``: the archive's array names), ``"npy-key"`` for a key
    given to an ``.npy`` file, else the reason; an archive member larger than :data:`MAX_ARRAY_BYTES`
    once inflated is refused before it is inflated."""
    try:
        if data[:4] == b"PK\x03\x04":
            with np.load(io.BytesIO(data), allow_pickle=False) as f:
                keys = list(f.files)
                if key is None or key not in keys:
                    return None, "key", keys
                member = f"{key}.npy" if f"{key}.npy" in f.zip.namelist() else key
                size = f.zip.getinfo(member).file_size      # known before a compressed member is inflated
                if size > MAX_ARRAY_BYTES:
                    return None, f"an archive whose `{key}` would take {size >> 20} MiB (the limit is " \
                        f"{MAX_ARRAY_BYTES >> 20} MiB)", keys
                return np.asarray(f[key]), None, keys
        if key is not None:
            return None, "npy-key", []
        return np.asarray(np.load(io.BytesIO(data), allow_pickle=False)), None, []
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        return None, f"not a NumPy .npy or .npz file ({str(e).splitlines()[0][:120] if str(e) else 'unreadable'})", []


#: Arrays read from disk before, by :func:`_stamp`: re-checking a model (the language server does on every
#: edit) does not read and hash its array files again while they are unchanged. Bounded, oldest first out.
_READ: dict[tuple, Loaded] = {}
_READ_MAX = 32


def _stamp(path: Path, key: str | None) -> tuple | None:
    """What identifies a file's content for :data:`_READ`: its real path, size, modification time and inode,
    with the key; ``None`` when it cannot be stat'ed (reading it then reports why)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), info.st_size, info.st_mtime_ns, info.st_ino, key)


class ArrayContext:
    """Where array values may appear, and how a ``load`` reaches files: ``base`` is the model file's folder
    (relative paths are relative to it), ``read`` the :data:`BytesReader`."""

    def __init__(self, base: Path, read: BytesReader | None = None):
        self.base, self.read = base, read or read_bytes

    def literal(self, node: ast.Array, scope, diags: Diagnostics) -> ir.Const | None:
        """``[a, b, ...]`` as a constant: a float64 array (a unitless Quantity without a unit) of the items'
        values in the first item's unit. SNN271 for items of different dimensions, rows of different lengths
        or an item that is not a single number; constant evaluation's own errors otherwise."""
        from snndsl.resolve.exprs import fold, resolve_expr
        values = []
        for item in node.items:
            expr = resolve_expr(item, scope, diags)
            if expr is None:
                return None
            value = fold(expr, diags)
            if value is None:
                return None
            values.append((item, value))
        first = values[0][1]
        unit = u.get_unit(first)
        rows = []
        for item, v in values:
            if not same_dim(v, first):
                diags.error("SNN271", f"the items of an array share one unit: {show(first)} and {show(v)}",
                            item.span, "write every item in the same unit, or the unit once: `[1, 2, 3] * mV`")
                return None
            rows.append(np.asarray(u.Quantity(v).to_decimal(unit) if isinstance(v, u.Quantity) and not
                                   unit.is_unitless else u.get_mantissa(v), dtype=np.float64))
        shapes = {r.shape for r in rows}
        if len(shapes) > 1:
            diags.error("SNN271", "the rows of a matrix have one length: "
                        + " and ".join(str(s[0]) if s else "a single number" for s in sorted(shapes)), node.span,
                        "a weight matrix is [[row of n_post values], ...], one row per presynaptic neuron")
            return None
        return ir.Const(u.Quantity(np.stack(rows), unit=unit), span=node.span)

    def load(self, node: ast.Call, diags: Diagnostics) -> ir.Const | None:
        """``load("file.npy")`` or ``load("file.npz", "key")``: the array, as a unitless :class:`Loaded`
        quantity (multiply by a unit: ``load("w.npy") * nA``). Errors: SNN270 (arguments), SNN274 (the file
        cannot be read, or is not .npy/.npz), SNN275 (no such key; the hint lists the keys), SNN276 (a NaN
        or infinite number, at its index), SNN277 (not real numbers)."""
        args = node.args
        if not 1 <= len(args) <= 2 or any(a.name is not None or a.trainable for a in args) or not all(
                isinstance(a.value, ast.String) for a in args):
            diags.error("SNN270", "load takes a file name and, for an .npz archive, the array's key, both strings",
                        node.span, 'e.g. `load("weights.npy")` or `load("params.npz", "tau") * ms`')
            return None
        name = args[0].value.value
        key = args[1].value.value if len(args) == 2 else None
        path = Path(os.path.normpath(self.base / name))
        where = f'load("{name}")'
        if not name.endswith((".npy", ".npz")):
            diags.error("SNN274", f"{where}: an array file is a NumPy .npy or .npz file", args[0].span)
            return None
        stamp = _stamp(path, key) if self.read is read_bytes else None
        if stamp is not None and stamp in _READ:
            return ir.Const(_READ[stamp], span=node.span)
        try:
            data = self.read(str(path))
        except UnreadableSource as e:
            diags.error("SNN274", f"{where}: {path} is {e.strerror}", args[0].span)
            return None
        except OSError as e:
            why = "was not found" if e.errno == errno.ENOENT else f"cannot be read ({e.strerror or e})"
            diags.error("SNN274", f"{where}: {path} {why}", args[0].span, "paths are relative to the model file")
            return None
        array, why, keys = read_array(data, key)
        if why == "key":
            if key is None:
                diags.error("SNN275", f"{where} is an .npz archive: name the array", node.span,
                            f"its arrays: {', '.join(keys) or '(none)'}, e.g. `load(\"{name}\", \"{keys[0] if keys else 'x'}\")`")
            else:
                diags.error("SNN275", f"{name} has no array `{key}`", args[1].span,
                            did_you_mean(key, keys) or f"its arrays: {', '.join(keys) or '(none)'}")
            return None
        if why == "npy-key":
            diags.error("SNN275", f"{name} is an .npy file holding one array: it takes no key", args[1].span)
            return None
        if why is not None:
            diags.error("SNN274", f"{where}: {path} is {why}", args[0].span)
            return None
        if array.dtype.kind not in "biuf":
            diags.error("SNN277", f"{where}{f', `{key}`' if key else ''} holds {array.dtype} values, not real "
                        "numbers", node.span, "save float or integer arrays")
            return None
        array = array.astype(np.float64)
        bad = np.argwhere(~np.isfinite(array))
        if bad.size:
            at = tuple(int(i) for i in bad[0])
            diags.error("SNN276", f"{where}{f', `{key}`' if key else ''} has a non-finite number "
                        f"({array[at]}) at index {list(at)}", node.span,
                        f"{len(bad)} element{'s' if len(bad) > 1 else ''} of {array.size} "
                        f"{'are' if len(bad) > 1 else 'is'} NaN or infinite")
            return None
        import hashlib
        value = Loaded(array, unit=u.UNITLESS)
        value.source = (str(path.resolve()), key)
        value.digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
        value.factor = 1.0
        if stamp is not None:
            while len(_READ) >= _READ_MAX:
                _READ.pop(next(iter(_READ)))
            _READ[stamp] = value
        return ir.Const(value, span=node.span)
