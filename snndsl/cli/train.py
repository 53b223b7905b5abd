"""``snndsl train``: train a network as its train block says, with progress, metrics and checkpoints."""

from __future__ import annotations

import argparse
import sys

from snndsl.cli.common import devices, out_dir, positive, read_error, report, seed
from snndsl.diagnostics import SnnError


def cmd_train(args: argparse.Namespace) -> int:
    """``snndsl train FILE [...]``: train the network of the file's (first) train block
    (:func:`snndsl.runtime.train_driver.train`) on its data source, or on ``--data``; the command line
    overrides the block's epochs, batch, seed and devices. Results (metrics, checkpoint, plots) go to
    ``--out`` (default ``runs/<file stem>``); a one-line summary is printed at the end.

    Returns 2 for an unreadable file, a file without a train block, bad data, a bad checkpoint or an
    impossible device request; 1 when the model does not check or training stops on a non-finite loss or
    gradient; else 0.
    """
    from pathlib import Path

    from snndsl.cli.jaxsetup import Timings, enable_compile_cache, import_libraries

    timings = Timings()
    with timings("import"):
        enable_compile_cache(getattr(args, "no_compile_cache", False))
        import_libraries()                 # the emitted module's imports, timed as import
        from snndsl.runtime import checkpoint
        from snndsl.runtime import data
        from snndsl.runtime import train_driver as training
        from snndsl.runtime.model import load
        from snndsl.runtime.parallel import ParallelError, initialize_distributed

    initialize_distributed()

    try:
        with timings("front end"):
            model = load(args.file, precision=args.precision)
    except (OSError, UnicodeDecodeError) as exc:
        return read_error(args.file, exc)
    except SnnError as err:
        return report(err)
    if not model.program.trains:
        print(f"snndsl: error: {args.file} has no train block; add one (see docs/language.md)", file=sys.stderr)
        return 2
    spec = model.program.trains[0]
    net = model.ir(spec.network)
    seed = spec.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / Path(args.file).stem
    try:
        if args.test_data and not args.data:
            raise data.DataError("--test-data needs --data (the training file)")
        with timings("data"):
            dataset = (data.from_file(args.data, net, spec.data, seed, args.test_data) if args.data
                       else data.load(spec.data, net, seed, Path(args.file).resolve().parent))
        source = args.data or (Path(args.file).parent / spec.data.arg("path")
                               if spec.data is not None and spec.data.arg("path") else None)
        data.check_fits(dataset, net, spec, str(source) if source else f"{spec.data.name}(...)")
        for note in dataset.notes:
            print(f"snndsl: note: {note}", file=sys.stderr)
        with timings("training (construction, steps, writing results)"):
            result = training.train(model, dataset, epochs=args.epochs or spec.epochs,
                                    batch=args.batch or spec.batch, seed=seed, out=out, resume=args.resume,
                                    progress=not args.no_progress, log=lambda m: print(m, file=sys.stderr),
                                    devices=args.devices if args.devices is not None else spec.devices)
    except (data.DataError, checkpoint.CheckpointError, ParallelError) as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:      # the results folder cannot be written
        print(f"snndsl: error: cannot write results to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except training.NonFinite as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 1
    h = result.history
    if h:
        parts = [f"trained {net.name} for {h[-1]['epoch']} epochs", f"loss {h[0]['loss']:.4f} -> {h[-1]['loss']:.4f}"]
        for key in ("accuracy", "test_accuracy"):
            if key in h[-1]:
                parts.append(f"{key.replace('_', ' ')} {h[-1][key]:.1%}")
        parts.append(f"{sum(r['seconds'] for r in h):.1f} s")
        print(", ".join(parts) + f"; results in {out}")
    timings.report()
    return 0


def add_commands(sub) -> None:
    """Register ``train`` on the ``snndsl`` command's subparsers."""
    tr = sub.add_parser("train", help="train a network as its train block says")
    tr.add_argument("file", metavar="FILE")
    tr.add_argument("--data", metavar="FILE",
                    help="train on this file instead of the train block's: a .npz of x [samples, time, channels] "
                         "and y, an SHD/SSC .h5 file or an N-MNIST folder (see docs/data.md)")
    tr.add_argument("--test-data", metavar="FILE", help="with --data: test on this file (of the same kind)")
    tr.add_argument("--epochs", type=positive, help="override the train block's epochs")
    tr.add_argument("--batch", type=positive, help="override the train block's batch size")
    tr.add_argument("--seed", type=seed, help="override the train block's seed")
    tr.add_argument("--precision", choices=("float32", "float64"),
                    help="the float type (float64: JAX's x64 mode; default: the network's `precision`)")
    tr.add_argument("--x64", dest="precision", action="store_const", const="float64",
                    help="the same as --precision float64")
    tr.add_argument("--out", metavar="DIR", type=out_dir, help="results folder (default runs/<model name>)")
    tr.add_argument("--resume", action="store_true", help="continue from DIR/params if it exists")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument("--devices", type=devices, metavar="N|all",
                    help="shard each batch over N devices (or all JAX sees); default: the train block's")
    tr.set_defaults(run=cmd_train)
