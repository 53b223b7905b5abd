"""``snndsl run``: simulate a network, record what it does, write the records and plots."""

from __future__ import annotations

import argparse
import sys

from snndsl.cli.common import out_dir, positive, rate, read_error, report, seed
from snndsl.diagnostics import SnnError


def cmd_run(args: argparse.Namespace) -> int:
    """``snndsl run FILE [--steps N] [...]``: simulate (``N`` defaults to the network's ``duration`` / ``dt``) (:func:`snndsl.runtime.simulate.run`), print each
    spiking population's firing rate (``NAME: R Hz``) and, with ``--out DIR``, write the records, a
    summary and plots there.

    Returns 1 when the model does not check; 2 for an unreadable file, a bad ``--record`` path, data
    or ``--params`` file, or an unknown ``--network``; else 0.
    """
    from pathlib import Path

    from snndsl.cli.jaxsetup import Timings, enable_compile_cache, import_libraries

    timings = Timings()
    with timings("import"):
        enable_compile_cache(getattr(args, "no_compile_cache", False))
        import_libraries()                 # the emitted module's imports, timed as import
        from snndsl.runtime import simulate
        from snndsl.runtime.model import load

    try:
        with timings("front end"):
            model = load(args.file, precision=args.precision)
        steps = args.steps or simulate.default_steps(model, args.network)
        result = simulate.run(model, steps, args.network, tuple(args.record), args.batch, args.rate,
                              args.seed, args.data, args.params, phase=timings, keep=args.out is not None)
    except (OSError, UnicodeDecodeError) as exc:
        return read_error(args.file, exc)
    except SnnError as err:
        return report(err)
    except (simulate.RunError, KeyError, ValueError) as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 2
    for name, hz in result.rates_hz.items():
        print(f"{name}: {hz:.2f} Hz")
    if args.out is not None:
        try:
            with timings("writing results"):
                files = simulate.write(result, Path(args.out))
        except OSError as exc:
            print(f"snndsl: error: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print("wrote " + ", ".join(str(f) for f in files), file=sys.stderr)
    timings.report()
    return 0


def add_commands(sub) -> None:
    """Register ``run`` on the ``snndsl`` command's subparsers."""
    run = sub.add_parser("run", help="simulate a network and record what it does")
    run.add_argument("file", metavar="FILE")
    run.add_argument("--steps", type=positive,
                     help="number of time steps (default: the network's `duration` / dt)")
    run.add_argument("--network", help="which network (default: the first)")
    run.add_argument("--record", nargs="*", default=[], metavar="PATH",
                     help="what to record: pop (spikes), pop.var (a state), proj.var (a state of a "
                     "projection's synapse), e.g. hidden.V ee.g")
    run.add_argument("--params", metavar="PATH", help="parameters from a folder of .npy files or an .npz named "
                     "by parameter path (pop.tau, proj.w, ...), or a training run folder's checkpoint")
    run.add_argument("--precision", choices=("float32", "float64"),
                     help="the float type (float64: JAX's x64 mode; default: the network's `precision`)")
    run.add_argument("--x64", dest="precision", action="store_const", const="float64",
                     help="the same as --precision float64")
    run.add_argument("--batch", type=positive, help="simulate this many independent trials at once")
    run.add_argument("--data", metavar="DATA.npz", help="input data: x of shape [samples, time, channels]")
    run.add_argument("--rate", type=rate, default=10.0,
                     help="without --data: Poisson rate (Hz) of generated input spikes (default 10)")
    run.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    run.add_argument("--out", metavar="DIR", type=out_dir, help="write record.npz, summary.json and plots here")
    run.set_defaults(run=cmd_run)
