"""``snndsl export --to nir`` and ``snndsl import``: NIR graphs in and out (:mod:`snndsl.nir`)."""

from __future__ import annotations

import sys

from snndsl.cli.common import out_dir, out_file, seed
from snndsl.diagnostics import SnnError


def cmd_export(args) -> int:
    """``snndsl export FILE --to nir|params -o OUT [--params PATH] [--network NAME] [--seed N]``.

    Builds the network (parameters from ``--params``: a training run folder's checkpoint, a parameter
    folder or ``.npz`` as ``snndsl run --params`` reads, :func:`snndsl.runtime.params.apply_source`; else
    initialised with ``--seed``) and writes it as a NIR graph (:func:`snndsl.nir.export.export`) or, with
    ``--to params``, as a parameter folder ``OUT/`` (one ``PATH.npy`` per parameter path and ``units.json``,
    what ``run --params`` reads). Returns 1 when the model does not check; 2 for an unreadable file or
    parameter source, an unknown network, or a model without networks; else 0.
    """
    from snndsl.nir.export import export
    from snndsl.runtime.checkpoint import CheckpointError
    from snndsl.runtime.params import ParamsError

    import argparse
    try:
        (out_dir if args.to == "params" else out_file)(args.output)
    except argparse.ArgumentTypeError as exc:
        print(f"snndsl: error: export: argument -o/--output: {exc}", file=sys.stderr)
        return 2
    warnings: list = []
    try:
        if args.to == "params":
            written = _export_params(args)
            print(f"wrote {len(written) - 1} parameter files and units.json to {args.output}", file=sys.stderr)
            return 0
        export(args.file, args.output, args.params, args.network, args.seed, warnings)
    except SnnError as err:
        for d in err.diagnostics:
            print(d.render(), file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError, CheckpointError, ParamsError) as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as exc:       # an unknown --network, a model without networks
        print(f"snndsl: error: {exc.args[0]}", file=sys.stderr)
        return 2
    for d in warnings:
        print(d.render(), file=sys.stderr)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _export_params(args) -> list:
    """``export --to params``: the network's parameter arrays written as a folder (the files written)."""
    from snndsl.runtime.model import load
    from snndsl.runtime.params import collect_params, write_params

    model = load(args.file)
    net = model.network(args.network, seed=args.seed, params=args.params)
    return write_params(args.output, collect_params(model, net, args.network))


def cmd_import(args) -> int:
    """``snndsl import FILE.nir -o OUT.snn [--dt '1 ms'] [--name NAME]``: a NIR graph as a ``.snn`` model
    and its ``OUT.params.npz`` (:func:`snndsl.nir.importer.import_file`).

    Returns 2 for a bad ``--dt`` or an unreadable file, 1 for a graph snndsl cannot express (the reason
    on stderr) or, a bug, an imported model that does not check; else 0.
    """
    from snndsl.nir.importer import NirImportError, import_file, parse_dt

    try:
        dt = parse_dt(args.dt) if args.dt else None
        written = import_file(args.file, args.output, dt, args.name)
    except ValueError as exc:
        print(f"snndsl: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"snndsl: error: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except NirImportError as exc:
        print(f"snndsl: error: {args.file}: {exc}", file=sys.stderr)
        return 1
    except SnnError as err:
        print(f"snndsl: error: the imported model does not check (a bug in snndsl import):\n{err.render()}",
              file=sys.stderr)
        return 1
    print("wrote " + ", ".join(str(p) for p in written if p is not None), file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    """Register ``snndsl export`` and ``snndsl import`` on the CLI's subparsers."""
    ex = sub.add_parser("export", help="write a network as a NIR graph (neuromorphic interchange format)")
    ex.add_argument("file", metavar="FILE")
    ex.add_argument("--to", choices=("nir", "params"), default="nir",
                    help="nir: a NIR graph; params: a folder of .npy parameter files (what run --params reads)")
    ex.add_argument("--params", metavar="PATH", help="take parameters from a training run folder's checkpoint "
                    "(PATH/params), or a folder of .npy files or an .npz as run --params reads")
    ex.add_argument("--network", help="which network (default: the first)")
    ex.add_argument("--seed", type=seed, default=0, help="random seed for initialised parameters (default 0)")
    ex.add_argument("-o", "--output", metavar="OUT", required=True,
                    help="the NIR file to write (--to params: the folder)")
    ex.set_defaults(run=cmd_export)

    im = sub.add_parser("import", help="turn a NIR graph into a .snn model and its parameter file")
    im.add_argument("file", metavar="FILE.nir")
    im.add_argument("-o", "--output", metavar="OUT.snn", required=True, type=out_file,
                    help="the .snn file to write (arrays go to OUT.params.npz next to it)")
    im.add_argument("--dt", help="time step, with a unit (e.g. '1 ms'), when the graph does not record one")
    im.add_argument("--name", help="network name (default: from the graph, or the file name)")
    im.set_defaults(run=cmd_import)
