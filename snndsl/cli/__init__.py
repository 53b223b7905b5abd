"""The ``snndsl`` command: one module per subcommand group, each formatting results and errors.

Exit codes: 0 success, 1 invalid model, 2 usage or I/O error, 3 internal error. A user mistake never shows a
traceback; an unexpected exception (a bug in snndsl) is one line naming the file that holds its traceback.
Importing this package (and running ``snndsl --help``, ``fmt`` or ``--version``) loads no JAX: the
subcommands import the compiler and the run time only when they run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from snndsl import __version__
from snndsl.cli import check, fmt, lsp, nir, simulate, train
from snndsl.cli.common import internal_error
from snndsl.source import visible

#: The subcommand groups, in the order ``snndsl --help`` lists them.
GROUPS = (check, simulate, train, fmt, nir, lsp)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported in one line: ``snndsl: error: ...`` (exit 2)."""

    def error(self, message: str):
        sub = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        print(f"snndsl: error: {sub}{visible(message)} (see snndsl {self.prog[7:] + ' ' if sub else ''}--help)",
              file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The ``snndsl`` argument parser with every subcommand: each module of :data:`GROUPS` registers its
    subcommands (``add_commands``) and sets ``run``, the function :func:`main` calls with the parsed
    arguments. Global options: ``--version``, ``--platform cpu|gpu`` and ``--no-compile-cache`` (the commands that
    run a network keep compiled programs in a persistent cache, :mod:`snndsl.cli.jaxsetup`, unless told not to)."""
    parser = _Parser(prog="snndsl", description="Describe, check, simulate and train spiking "
                     "neural networks from .snn model files.")
    parser.add_argument("--version", action="version", version=f"snndsl {__version__}")
    parser.add_argument("--platform", choices=("cpu", "gpu"), help="run JAX on this platform (default: "
                        "JAX's choice; `gpu` needs the cuda extra: pip install 'snndsl[cuda]')")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="do not use the persistent compilation cache (~/.cache/snndsl/jax; also "
                        "SNNDSL_NO_COMPILE_CACHE=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def _platform(name: str) -> str | None:
    """Select JAX's platform; a reason (one line) when it has no device there."""
    import jax

    jax.config.update("jax_platforms", "cuda" if name == "gpu" else "cpu")
    try:
        found = jax.devices()
    except Exception as exc:  # noqa: BLE001 - JAX raises RuntimeError or AssertionError, by version
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        hint = " (the GPU build of JAX is `pip install 'snndsl[cuda]'`)" if name == "gpu" else ""
        return f"--platform {name}: JAX finds no {name.upper()} here{hint}" + (f": {first}" if first else "")
    if name == "gpu" and not any(d.platform == "gpu" for d in found):
        return "--platform gpu: JAX finds no GPU here (the GPU build of JAX is `pip install 'snndsl[cuda]'`)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``snndsl ARGS``; returns the exit code (0 done, 1 invalid model, 2 usage or I/O error, 3 a bug in
    snndsl: then one line says so and names the file holding the traceback)."""
    args = build_parser().parse_args(argv)
    try:
        if args.platform:
            problem = _platform(args.platform)
            if problem:
                print(f"snndsl: error: {problem}", file=sys.stderr)
                return 2
        return args.run(args)
    except KeyboardInterrupt:
        print("snndsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `snndsl check --format json ... | head`
        sys.stderr.close()
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback on the terminal
        return internal_error(exc, argv)


def entry() -> None:
    """The ``snndsl`` console script and ``python -m snndsl``: run :func:`main` and exit with its code.

    After a command that loaded JAX the process ends with ``os._exit`` once the exit handlers have run and
    stdout / stderr are flushed: tearing the interpreter down module by module with JAX and XLA loaded takes
    about 0.5 s and has nothing left to do (every output file was written, flushed and fsynced atomically; the
    compilation cache stores programs as they are compiled). :func:`main` itself returns normally, so an
    embedding process (or a test) keeps running.
    """
    code = main()
    if "jax" not in sys.modules:
        raise SystemExit(code)
    import atexit
    import os

    atexit._run_exitfuncs()          # JAX's own handlers (wait for pending effects, release the backend)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`snndsl ... | head`) or a closed stream: nothing to keep
            pass
    os._exit(code)
