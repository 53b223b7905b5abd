"""The ``snndsl`` command: subcommands that call :mod:`snndsl.api` and format results and errors.

Exit codes: 0 success, 1 invalid model, 2 usage or I/O error. A user mistake never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from . import api
from .errors import SnnError


def _read_error(path: str, exc: Exception) -> int:
    reason = "not valid UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (
        exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc))
    print(f"snndsl: error: cannot read {path}: {reason}", file=sys.stderr)
    return 2


def cmd_check(args: argparse.Namespace) -> int:
    status, report = 0, []
    for path in args.files:
        try:
            checked = api.check_file(path)
            diagnostics = list(checked.warnings)
        except (OSError, UnicodeDecodeError) as exc:
            status = max(status, _read_error(path, exc))
            continue
        except SnnError as err:
            diagnostics = list(err.diagnostics)
            status = max(status, 1)
        if args.format == "json":
            report.append({"file": path, "valid": not any(d.severity == "error" for d in diagnostics),
                           "diagnostics": [d.to_json() for d in diagnostics]})
        else:
            for d in diagnostics:
                print(d.render(), file=sys.stderr)
            if not any(d.severity == "error" for d in diagnostics) and not args.quiet:
                print(f"{path}: ok")
    if args.format == "json":
        print(json.dumps(report if len(args.files) != 1 else (report[0] if report else []), indent=2))
    return status


def _report(err: SnnError) -> int:
    for d in err.diagnostics:
        print(d.render(), file=sys.stderr)
    return 1


def cmd_compile(args: argparse.Namespace) -> int:
    from .compiled import compile_source
    from .fileio import atomic_write_text
    from .source import SourceFile

    try:
        code, checked = compile_source(SourceFile.read(args.file))
    except (OSError, UnicodeDecodeError) as exc:
        return _read_error(args.file, exc)
    except SnnError as err:
        return _report(err)
    for d in checked.warnings:
        print(d.render(), file=sys.stderr)
    if args.output is None:
        sys.stdout.write(code)
    else:
        try:
            atomic_write_text(args.output, code)
        except OSError as exc:
            print(f"snndsl: error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import simulate
    from .compiled import load

    try:
        model = load(args.file)
        result = simulate.run(model, args.steps, args.network, tuple(args.record), args.batch, args.rate,
                              args.seed, args.data)
    except (OSError, UnicodeDecodeError) as exc:
        return _read_error(args.file, exc)
    except SnnError as err:
        return _report(err)
    except (simulate.RunError, KeyError, ValueError) as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 2
    for name, rate in result.rates_hz.items():
        print(f"{name}: {rate:.2f} Hz")
    if args.out is not None:
        files = simulate.write(result, Path(args.out))
        print("wrote " + ", ".join(str(f) for f in files), file=sys.stderr)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import checkpoint, data, training
    from .compiled import load
    from .parallel import ParallelError, initialize_distributed

    initialize_distributed()

    try:
        model = load(args.file)
    except (OSError, UnicodeDecodeError) as exc:
        return _read_error(args.file, exc)
    except SnnError as err:
        return _report(err)
    if not model.program.trains:
        print(f"snndsl: error: {args.file} has no train block; add one (see docs/language.md)", file=sys.stderr)
        return 2
    spec = model.program.trains[0]
    net = model.ir(spec.network)
    seed = spec.seed if args.seed is None else args.seed
    out = Path(args.out) if args.out else Path("runs") / Path(args.file).stem
    try:
        dataset = (data.from_file(args.data, net) if args.data
                   else data.load(spec.data, net, seed, Path(args.file).resolve().parent))
        result = training.train(model, dataset, epochs=args.epochs or spec.epochs, batch=args.batch or spec.batch,
                                seed=seed, out=out, resume=args.resume, progress=not args.no_progress,
                                log=lambda m: print(m, file=sys.stderr),
                                devices=args.devices if args.devices is not None else spec.devices)
    except (data.DataError, checkpoint.CheckpointError, ParallelError) as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
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
    return 0


def _devices(text: str) -> int | str:
    return "all" if text == "all" else _positive(text)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snndsl", description="Describe, check, simulate and train spiking "
                                     "neural networks from .snn model files.")
    parser.add_argument("--platform", choices=("cpu", "gpu"), help="run JAX on this platform (default: "
                        "JAX's choice; `gpu` needs the cuda extra: pip install 'snndsl[cuda]')")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser("check", help="check model files and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="diagnostics as text on stderr (default) or JSON on stdout")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid files")
    check.set_defaults(run=cmd_check)

    comp = sub.add_parser("compile", help="write the brainstate Python module a model compiles to")
    comp.add_argument("file", metavar="FILE")
    comp.add_argument("-o", "--output", metavar="OUT.py", help="write here (atomically) instead of stdout")
    comp.set_defaults(run=cmd_compile)

    run = sub.add_parser("run", help="simulate a network and record what it does")
    run.add_argument("file", metavar="FILE")
    run.add_argument("--steps", type=_positive, required=True, help="number of time steps")
    run.add_argument("--network", help="which network (default: the first)")
    run.add_argument("--record", nargs="*", default=[], metavar="POP.VAR",
                     help="state variables to record, e.g. hidden.V")
    run.add_argument("--batch", type=_positive, help="simulate this many independent trials at once")
    run.add_argument("--data", metavar="DATA.npz", help="input data: x of shape [samples, time, channels]")
    run.add_argument("--rate", type=float, default=10.0,
                     help="without --data: Poisson rate (Hz) of generated input spikes (default 10)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--out", metavar="DIR", help="write record.npz, summary.json and plots here")
    run.set_defaults(run=cmd_run)

    tr = sub.add_parser("train", help="train a network as its train block says")
    tr.add_argument("file", metavar="FILE")
    tr.add_argument("--data", metavar="DATA.npz", help="train on x [samples, time, channels] and y from this file")
    tr.add_argument("--epochs", type=_positive, help="override the train block's epochs")
    tr.add_argument("--batch", type=_positive, help="override the train block's batch size")
    tr.add_argument("--seed", type=int, help="override the train block's seed")
    tr.add_argument("--out", metavar="DIR", help="results folder (default runs/<model name>)")
    tr.add_argument("--resume", action="store_true", help="continue from DIR/params if it exists")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument("--devices", type=_devices, metavar="N|all",
                    help="shard each batch over N devices (or all JAX sees); default: the train block's")
    tr.set_defaults(run=cmd_train)
    from .fmt import add_commands as add_fmt_commands
    from .nir_export import add_commands as add_nir_commands

    add_fmt_commands(sub)
    add_nir_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.platform:
        import jax

        jax.config.update("jax_platforms", "cuda" if args.platform == "gpu" else "cpu")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("snndsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `snndsl check --format json ... | head`
        sys.stderr.close()
        return 0
