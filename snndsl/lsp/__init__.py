"""``snndsl lsp``: a Language Server Protocol server for ``.snn`` files (pygls, over stdin/stdout).

:mod:`~snndsl.lsp.server` holds the documents and checks them (debounced); :mod:`~snndsl.lsp.features`
answers the requests; :mod:`~snndsl.lsp.analysis` turns ``snndsl check``'s diagnostics into LSP ones;
:mod:`~snndsl.lsp.locate` finds what is under the cursor, which :mod:`~snndsl.lsp.hover` describes and
:mod:`~snndsl.lsp.navigate` finds the definition of; :mod:`~snndsl.lsp.complete` completes from the text
before the cursor, read by :mod:`~snndsl.lsp.scan`; :mod:`~snndsl.lsp.positions` converts spans to ranges
in UTF-16 code units. This module imports nothing.
"""
