"""``snndsl lsp``: the language server for editors (:mod:`snndsl.lsp`), over stdin/stdout."""

from __future__ import annotations

import argparse


def cmd_lsp(args: argparse.Namespace) -> int:
    """Serve LSP over stdin/stdout until the editor shuts the server down; exit code 0, or 2 when pygls or
    lsprotocol is missing."""
    try:
        from snndsl.lsp.server import main
    except ImportError as exc:      # pygls or lsprotocol missing from a partial install
        import sys
        print(f"snndsl: error: the language server needs pygls and lsprotocol ({exc}); "
              "pip install pygls lsprotocol", file=sys.stderr)
        return 2
    return main()


def add_commands(sub) -> None:
    """Register ``lsp`` on the ``snndsl`` command's subparsers."""
    lsp = sub.add_parser("lsp", help="run the language server (LSP over stdin/stdout) for editors",
                         description="Run the snndsl language server: diagnostics as you type, hover, go to "
                         "definition, outline, completion and formatting for .snn files. It speaks the Language "
                         "Server Protocol over stdin/stdout; an editor starts it (docs/tooling.md shows VS Code, "
                         "Neovim and Helix set-ups).")
    lsp.add_argument("--stdio", action="store_true", help="use stdin/stdout (the default and only transport; "
                     "accepted because some clients pass it)")
    lsp.set_defaults(run=cmd_lsp)
