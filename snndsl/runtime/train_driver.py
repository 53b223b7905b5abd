"""``snndsl train``: epochs of shuffled mini-batches through the emitted jitted step, with metrics, atomic
checkpoints every epoch, resume, and a clean stop on a non-finite loss or gradient."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

import attrs
import numpy as np

from snndsl.runtime import checkpoint
from snndsl.runtime import plots
from snndsl.runtime.model import CompiledModel
from snndsl.runtime.data import Dataset
from snndsl.fileio import atomic_write_text


class NonFinite(Exception):
    """Training produced a non-finite loss or gradient; the last good checkpoint is kept."""


@attrs.frozen
class TrainResult:
    """What :func:`train` returns: ``history``, one dict per epoch (``epoch``, ``loss``, ``accuracy``,
    ``test_loss``, ``test_accuracy`` where they apply, ``seconds``; as in ``metrics.jsonl``), ``params``,
    every trained array by dotted name (``x_to_hidden.weight.bias``), and ``out``, the results folder."""

    history: list[dict]
    params: dict[str, np.ndarray]
    out: Path | None


def _batches(n: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The sample indices of each full batch of one epoch: a permutation of ``range(n)`` cut into ``n // batch``
    batches (the remainder is dropped, so every step compiles for one shape)."""
    order = rng.permutation(n)
    return [order[i:i + batch] for i in range(0, n - batch + 1, batch)]


def _time_major(x, index) -> np.ndarray:
    """Samples ``index`` of ``x`` as [time, batch, channels]: by ``x.time_major`` where ``x`` builds that
    order itself (binned events), else a transposed copy of ``x[index]``."""
    build = getattr(x, "time_major", None)
    return build(index) if build is not None else np.ascontiguousarray(np.moveaxis(x[index], 1, 0))


def evaluate(eval_step, x: np.ndarray, y: np.ndarray, batch: int, place=None) -> tuple[float, float]:
    """Mean loss and accuracy over every sample of ``x`` [samples, time, channels] and ``y``, in batches of
    ``batch`` (a smaller last one), each batch weighted by its size: ``sum_b n_b × loss_b / sum_b n_b``.

    ``eval_step(x_time_major, y)`` returns ``(loss, accuracy)`` of one batch; ``place(x, y)``, if given, puts a
    batch on the devices first.
    """
    losses, accs, counts = [], [], []
    for i in range(0, len(x), batch):
        xb, yb = _time_major(x, slice(i, i + batch)), y[i:i + batch]
        if place is not None:
            xb, yb = place(xb, yb)
        loss, acc = eval_step(xb, yb)
        losses.append(float(loss))
        accs.append(float(acc))
        counts.append(len(yb))
    w = np.array(counts) / sum(counts)
    return float(np.dot(losses, w)), float(np.dot(accs, w))


def train(model: CompiledModel, data: Dataset, *, epochs: int, batch: int | None, seed: int,
          out: Path | None = None, resume: bool = False, progress: bool = True,
          log: Callable[[str], None] = print, devices: int | str | None = None) -> TrainResult:
    """Train ``model``'s (first) network on ``data`` and return its history, final parameters and ``out``.

    Each epoch shuffles the samples (deterministically in ``seed`` and the epoch) into full batches of
    ``batch`` (default and maximum: every sample; a last partial batch is dropped), runs the emitted jitted
    train step on each, and records ``loss`` (the mean over batches), ``accuracy`` for classification,
    ``test_loss``/``test_accuracy`` when there is a test split, and ``seconds``; the learning-rate schedule
    advances once per epoch. With ``out``, each epoch appends to ``out/metrics.jsonl`` and writes an atomic
    checkpoint ``out/params``; at the end ``loss.png`` (and ``accuracy.png``) are drawn. ``resume`` continues
    from that checkpoint. ``devices`` (N or "all") shards each batch over that many devices (see
    :mod:`snndsl.runtime.parallel`); results equal a single-device run up to float rounding.

    Raises :class:`NonFinite` when a loss or gradient is not finite (the last good checkpoint is kept),
    :class:`~snndsl.runtime.parallel.ParallelError` for an impossible device request or a batch that does not
    divide over the devices, and :class:`~snndsl.runtime.checkpoint.CheckpointError` for a bad checkpoint.
    """
    import brainstate as bs

    from snndsl.runtime.parallel import DataParallel, resolve_devices

    n = len(data.x)
    batch = min(batch or n, n)
    bs.random.seed(seed)
    net = model.network()
    optimizer, train_step, eval_step = model.module.make_trainer(net, batch)
    history: list[dict] = []
    start = 0
    ckpt = out / "params" if out is not None else None
    last_good = None      # the checkpoint to name when training stops: one this run wrote or resumed from
    if resume and ckpt is not None and ckpt.exists():
        meta = checkpoint.load(ckpt, net, optimizer)
        last_good = ckpt
        start, history = meta["epoch"], meta["history"]
        log(f"resuming from epoch {start} ({ckpt})")
        for _ in range(start):      # replay the learning-rate schedule to where it was
            _step_schedule(optimizer)
    shard = place = None
    devs = resolve_devices(devices)
    if devs is not None:
        dp = DataParallel(devs)
        dp.check_batch(batch)
        dp.replicate(net, optimizer, bs.random.DEFAULT)
        shard = dp.shard

        def place(x, y):
            return dp.shard(x, y) if len(y) % dp.n == 0 else dp.replicate_arrays(x, y)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in history))
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=epochs, initial=start, unit="epoch", dynamic_ncols=True)
    try:
        for epoch in range(start, epochs):
            t0 = time.perf_counter()
            rng = np.random.default_rng([seed, epoch])
            losses, accs = [], []
            x_epoch = data.epoch_x(epoch)
            for idx in _batches(n, batch, rng):
                xb, yb = _time_major(x_epoch, idx), data.y[idx]
                if shard is not None:
                    xb, yb = shard(xb, yb)
                loss, acc, finite = train_step(xb, yb)
                loss = float(loss)
                bad = [".".join(map(str, k)) for k, ok in finite.items() if not bool(ok)]
                if not math.isfinite(loss) or bad:
                    what = f"gradient of `{bad[0]}`" if bad else "loss"
                    raise NonFinite(f"epoch {epoch + 1}: the {what} is not finite; training stopped"
                                    + _kept(last_good))
                losses.append(loss)
                accs.append(float(acc))
            record = {"epoch": epoch + 1, "loss": float(np.mean(losses))}
            if data.classification:
                record["accuracy"] = float(np.mean(accs))
            if data.x_test is not None:
                tl, ta = evaluate(eval_step, data.x_test, data.y_test, batch, place)
                record["test_loss"] = tl
                if data.classification:
                    record["test_accuracy"] = ta
            _step_schedule(optimizer)
            record["seconds"] = round(time.perf_counter() - t0, 4)
            history.append(record)
            if out is not None:
                with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
                bad = _non_finite_params(net)
                if bad:
                    raise NonFinite(f"epoch {epoch + 1}: parameter `{bad}` is not finite after the update (the "
                                    "learning rate may be too large); training stopped" + _kept(last_good))
                checkpoint.save(ckpt, net, optimizer, {"epoch": epoch + 1, "history": history, "seed": seed})
                last_good = ckpt
            if bar is not None:
                shown = {k: f"{v:.4f}" for k, v in record.items() if k in ("loss", "accuracy", "test_accuracy")}
                bar.set_postfix(shown)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if out is not None and history:
        plots.curves({"train": [h["loss"] for h in history]}
                     | ({"test": [h["test_loss"] for h in history]} if "test_loss" in history[0] else {}),
                     out / "loss.png", "loss", "loss")
        if "accuracy" in history[0]:
            plots.curves({"train": [h["accuracy"] for h in history]}
                         | ({"test": [h["test_accuracy"] for h in history]} if "test_accuracy" in history[0]
                            else {}), out / "accuracy.png", "accuracy", "accuracy")
    params = {".".join(map(str, k)): np.asarray(__import__("brainunit").get_mantissa(v))
              for k, v in _flat_params(net).items()}
    return TrainResult(history, params, out)


def _kept(last_good: Path | None) -> str:
    """The end of a stop message: the checkpoint that holds the last good parameters, if one exists."""
    if last_good is None:
        return "; no checkpoint was written (it stopped before the first epoch ended)"
    return f", the last good checkpoint is {last_good}"


def _non_finite_params(net) -> str | None:
    """The dotted name of the first parameter holding NaN or inf, or ``None`` (a checkpoint is written only
    when every parameter is finite)."""
    import brainunit as u

    for name, value in _flat_params(net).items():
        if not np.all(np.isfinite(np.asarray(u.get_mantissa(value)))):
            return name
    return None


def _step_schedule(optimizer) -> None:
    """Advance the learning-rate schedule by one epoch (a constant rate is a schedule that never changes)."""
    step = getattr(getattr(optimizer, "lr", None), "step", None)
    if callable(step):
        step()


def _flat_params(net) -> dict:
    """Every trainable array by a dotted name: ``x_to_hidden.weight.bias``: the ``ParamState``'s path in
    the network, then the keys of its value's pytree (a ``Linear``'s ``{"weight", "bias"}`` dict)."""
    import brainstate as bs
    import jax

    out = {}
    for k, s in net.states(bs.ParamState).items():
        for path, leaf in jax.tree_util.tree_flatten_with_path(s.value)[0]:
            names = [str(getattr(p, "key", getattr(p, "name", getattr(p, "idx", "")))) for p in path
                     if not type(p).__name__.startswith("Flattened")]
            out[tuple(k) + tuple(names)] = leaf
    return out
