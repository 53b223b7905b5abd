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
        print(json.dumps(report if len(report) != 1 else report[0], indent=2))
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snndsl", description="Describe, check, simulate and train spiking "
                                     "neural networks from .snn model files.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = sub.add_parser("check", help="check model files and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="diagnostics as text on stderr (default) or JSON on stdout")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid files")
    check.set_defaults(run=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("snndsl: interrupted", file=sys.stderr)
        return 130
