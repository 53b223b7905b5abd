"""``snndsl check`` and ``snndsl compile``: the front end, and the emitted module it lowers to."""

from __future__ import annotations

import argparse
import json
import sys

from snndsl.cli.common import out_file, read_error, report
from snndsl.diagnostics import SnnError


def cmd_check(args: argparse.Namespace) -> int:
    """``snndsl check FILE... [--format text|json] [-q]``: check each file and report every diagnostic.

    Text: diagnostics rendered on stderr, ``FILE: ok`` on stdout for a file without errors (unless
    ``--quiet``). JSON on stdout: per file ``{"file", "valid", "diagnostics"}`` (the object itself for one
    file, a list for several). Returns 1 when any file is invalid, 2 when one cannot be read (reported in
    one line), else 0; the other files are still checked.
    """
    from snndsl.compiler import check_file

    status, found = 0, []
    for path in args.files:
        try:
            checked = check_file(path)
            diagnostics = list(checked.warnings)
        except (OSError, UnicodeDecodeError) as exc:
            status = max(status, read_error(path, exc))
            continue
        except SnnError as err:
            diagnostics = list(err.diagnostics)
            status = max(status, 1)
        if args.format == "json":
            found.append({"file": path, "valid": not any(d.severity == "error" for d in diagnostics),
                           "diagnostics": [d.to_json() for d in diagnostics]})
        else:
            for d in diagnostics:
                print(d.render(), file=sys.stderr)
            if not any(d.severity == "error" for d in diagnostics) and not args.quiet:
                print(f"{path}: ok")
    if args.format == "json":
        print(json.dumps(found if len(args.files) != 1 else (found[0] if found else []), indent=2))
    return status


def cmd_compile(args: argparse.Namespace) -> int:
    """``snndsl compile FILE [-o OUT.py]``: write the emitted module to stdout, or atomically to ``OUT.py``.

    Warnings go to stderr. Returns 1 (diagnostics on stderr) when the model does not check, 2 when the
    file cannot be read, the output cannot be written or is the model file itself, else 0.
    """
    from pathlib import Path

    from snndsl.compiler import compile_source
    from snndsl.fileio import atomic_write_text
    from snndsl.source import SourceFile

    if args.output is not None and Path(args.output).resolve() == Path(args.file).resolve():
        print(f"snndsl: error: -o {args.output} is the model file itself; the emitted module would replace it "
              "(give a .py path)", file=sys.stderr)
        return 2
    try:
        code, checked = compile_source(SourceFile.read(args.file))
    except (OSError, UnicodeDecodeError) as exc:
        return read_error(args.file, exc)
    except SnnError as err:
        return report(err)
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


def add_commands(sub) -> None:
    """Register ``check`` and ``compile`` on the ``snndsl`` command's subparsers."""
    check = sub.add_parser("check", help="check model files and report every problem")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="diagnostics as text on stderr (default) or JSON on stdout")
    check.add_argument("-q", "--quiet", action="store_true", help="print nothing for valid files")
    check.set_defaults(run=cmd_check)


    comp = sub.add_parser("compile", help="write the brainstate Python module a model compiles to")
    comp.add_argument("file", metavar="FILE")
    comp.add_argument("-o", "--output", metavar="OUT.py", type=out_file, help="write here (atomically) instead of stdout")
    comp.set_defaults(run=cmd_compile)
