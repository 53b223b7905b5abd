"""The ``snndsl`` command: one module per subcommand group, each formatting results and errors.

Exit codes: 0 success, 1 invalid model, 2 usage or I/O error. A user mistake never shows a traceback.
Importing this package (and running ``snndsl --help``, ``fmt`` or ``--version``) loads no JAX: the
subcommands import the compiler and the run time only when they run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from snndsl import __version__
from snndsl.cli import check, fmt, lsp, nir, simulate, train

#: The subcommand groups, in the order ``snndsl --help`` lists them.
GROUPS = (check, simulate, train, fmt, nir, lsp)


def build_parser() -> argparse.ArgumentParser:
    """The ``snndsl`` argument parser with every subcommand: each module of :data:`GROUPS` registers its
    subcommands (``add_commands``) and sets ``run``, the function :func:`main` calls with the parsed
    arguments. Global options: ``--version`` and ``--platform cpu|gpu``."""
    parser = argparse.ArgumentParser(prog="snndsl", description="Describe, check, simulate and train spiking "
                                     "neural networks from .snn model files.")
    parser.add_argument("--version", action="version", version=f"snndsl {__version__}")
    parser.add_argument("--platform", choices=("cpu", "gpu"), help="run JAX on this platform (default: "
                        "JAX's choice; `gpu` needs the cuda extra: pip install 'snndsl[cuda]')")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``snndsl ARGS`` (``argv`` ``None``: the process's arguments); returns the exit code.

    0 success, 1 invalid model (or a non-finite training run), 2 usage or I/O error (argparse exits with 2
    itself on bad arguments), 130 when interrupted. ``--platform`` is applied before any subcommand imports
    JAX. A closed output pipe (``snndsl check ... | head``) ends quietly with 0.
    """
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
