"""The loop policies compared on the digits model: held-out accuracy, time per epoch, and the memory of one
train step against the number of steps T.

    .venv/bin/python benchmarks/loop_policies.py                 # about 10 minutes on 2 CPU cores
    .venv/bin/python benchmarks/loop_policies.py --epochs 3 --no-docs

Every policy trains models/digits.snn's network on the same data, seed and optimizer (Adam, cosine decay over
the epochs) for the same number of epochs; only the `loop` setting differs. Time per epoch is the median over
the epochs after the first (which compiles). Memory is XLA's temporary buffers of the compiled train step
(``memory_analysis().temp_size_in_bytes``, nothing is run) at batch 64 for T = 25 ... 1600. Writes
docs/loop-policies.png and the table between the ``loop-policies`` markers of docs/tutorial.md.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

import brainstate as bs  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import snndsl  # noqa: E402
from snndsl.runtime import data  # noqa: E402
from snndsl.runtime import train_driver as training  # noqa: E402

POLICIES = ["bptt", "checkpointed(base = 16)", "truncated(window = 10)", "online(eprop)", "online(pp_prop)"]
STEPS = [25, 50, 100, 200, 400, 800, 1600]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BEGIN, END = "<!-- loop-policies:begin -->", "<!-- loop-policies:end -->"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def model_text(policy: str, epochs: int) -> str:
    """models/digits.snn with ``loop = policy``, ``epochs`` epochs and the cosine decay over them."""
    text = (ROOT / "models" / "digits.snn").read_text(encoding="utf-8")
    text = re.sub(r"loop = \w+", f"loop = {policy}", text)
    text = re.sub(r"epochs = \d+", f"epochs = {epochs}", text)
    return re.sub(r"T_max = \d+", f"T_max = {epochs}", text)


def train(policy: str, epochs: int) -> dict:
    """Train the digits network under ``policy``: test accuracy per epoch and the steady time per epoch."""
    model = snndsl.loads(model_text(policy, epochs), str(ROOT / "models" / "digits.snn"))
    spec = model.program.trains[0]
    ds = data.load(spec.data, model.ir(), spec.seed, ROOT / "models")
    result = training.train(model, ds, epochs=epochs, batch=spec.batch, seed=spec.seed, progress=False,
                            log=lambda m: None)
    seconds = [h["seconds"] for h in result.history]
    return {"test_accuracy": [h["test_accuracy"] for h in result.history],
            "seconds": statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]}


def temp_bytes(policy: str, steps: int, batch: int = 64) -> int:
    """XLA's temporary memory of the compiled train step on a [steps, batch, 64] batch."""
    model = snndsl.loads(model_text(policy, 1), str(ROOT / "models" / "digits.snn"))
    bs.random.seed(0)
    train_step = model.module.make_trainer(model.network(), batch)[1]
    x = jnp.zeros((steps, batch, 64), jnp.float32)
    y = jnp.zeros((batch,), jnp.int32)
    return train_step.lower(x, y).compile().memory_analysis().temp_size_in_bytes


def plot(results: dict, memory: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for policy in POLICIES:
        left.plot(STEPS, [memory[policy][t] / 2 ** 20 for t in STEPS], marker="o", label=policy)
        acc = results[policy]["test_accuracy"]
        right.plot(range(1, len(acc) + 1), [100 * a for a in acc], marker="o", label=policy)
    left.set(xscale="log", yscale="log", xlabel="steps per sample T", ylabel="train-step temporary memory (MiB)",
             title="memory of one train step (batch 64)")
    right.set(xlabel="epoch", ylabel="held-out accuracy (%)", title="digits, T = 40")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(results: dict, memory: dict, epochs: int) -> str:
    """The Markdown table of the tutorial: accuracy, time per epoch and memory at three lengths."""
    shown = (50, 400, 1600)
    head = (f"| loop | test accuracy ({epochs} epochs) | s / epoch | " + " | ".join(f"memory, T = {t}" for t in shown)
            + " |\n|---|---|---|" + "---|" * len(shown) + "\n")
    rows = []
    for policy in POLICIES:
        r, m = results[policy], memory[policy]
        rows.append(f"| `{policy}` | {100 * r['test_accuracy'][-1]:.1f} % | {r['seconds']:.1f} | "
                    + " | ".join(f"{m[t] / 2 ** 20:.1f} MiB" for t in shown) + " |")
    return head + "\n".join(rows) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-docs", action="store_true", help="print the table; write no files")
    args = parser.parse_args(argv)
    memory = {}
    for policy in POLICIES:
        memory[policy] = {t: temp_bytes(policy, t) for t in STEPS}
        log(f"memory {policy}: " + ", ".join(f"T={t}: {b / 2 ** 20:.2f} MiB" for t, b in memory[policy].items()))
    results = {}
    for policy in POLICIES:
        results[policy] = train(policy, args.epochs)
        log(f"trained {policy}: {results[policy]}")
    text = table(results, memory, args.epochs)
    print(text)
    if not args.no_docs:
        plot(results, memory, ROOT / "docs" / "loop-policies.png")
        doc = TUTORIAL.read_text(encoding="utf-8")
        start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
        TUTORIAL.write_text(doc[:start] + "\n" + text + doc[end:], encoding="utf-8")
        log("wrote docs/loop-policies.png and the table in docs/tutorial.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
