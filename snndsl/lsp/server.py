"""The language server: pygls wiring, document state, debounced checking and publishing.

Each open document is checked on open and, after a short quiet period (:data:`DEBOUNCE_S`), after every
change; its text in the editor is what is checked, and files it imports are read from the editor too when
they are open there. A change also re-checks the open documents that import the changed file. Problems in
an imported file are published for that file (and summed up on the import). The compiler's imports (the
parser, the registry, the unit table) are loaded in a background thread as soon as the server starts, so the
first check does not pay for them after the handshake.
"""

from __future__ import annotations

import asyncio
import os
import threading
import traceback
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from snndsl import __version__
from snndsl.source import SourceFile

# Importing the front end takes a few tenths of a second: this module leaves it to the warm-up
# thread and to the functions that need it, so the server answers the client's handshake at once.
if TYPE_CHECKING:
    from snndsl.lsp.analysis import Analysis
    from snndsl.resolve import FileView

#: Debouncing: a change is checked at once when the document was last checked at least this many seconds
#: ago; otherwise after this many seconds of quiet (so a burst of edits is checked once, at its end).
DEBOUNCE_S = 0.03

_WARM_UP = '''import LIF, Expon from "std"
network N {
    dt = 1 ms
    input x: spikes[2]
    pop h = LIF(2, tau = 10 ms, surrogate = sigmoid(alpha = 4.0))
    connect x -> h: dense(w = kaiming_normal(mA)), synapse = Expon(tau = 5 ms)
    output h
}
'''


@attrs.define
class Doc:
    """An open document: its URI, the path it is checked under (a ``<...>`` name when it is no file), its
    real path (to match imports), the latest analysis, the last view that parsed, and a pending check."""

    uri: str
    path: str
    real: str | None
    analysis: Analysis | None = None
    view: FileView | None = None
    timer: asyncio.TimerHandle | None = None
    targets: set = attrs.field(factory=set)
    checked_at: float = float("-inf")


class SnnLanguageServer(LanguageServer):
    """``snndsl lsp``: diagnostics, hover, definition, symbols, completion and formatting for ``.snn`` files."""

    def __init__(self) -> None:
        super().__init__("snndsl", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.docs: dict[str, Doc] = {}
        self.debounce = DEBOUNCE_S
        self.ready = threading.Event()
        threading.Thread(target=self._warm_up, name="snndsl-warm-up", daemon=True).start()

    # ------------------------------------------------------------------ warm-up and reading
    def _warm_up(self) -> None:
        try:
            from snndsl.compiler import check_text
            from snndsl.diagnostics import SnnError
            from snndsl.lsp import analysis, complete, hover, navigate  # noqa: F401  (imported once, here)

            try:
                check_text(_WARM_UP, "<warm-up>")
            except SnnError:
                pass
        except Exception:               # never keep the server from answering
            traceback.print_exc()
        finally:
            self.ready.set()

    @property
    def encoding(self) -> str:
        """The negotiated position encoding (``utf-16`` unless the client prefers another)."""
        enc = self.workspace.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    def text(self, uri: str) -> str:
        """The document's text as the editor has it."""
        return self.workspace.get_text_document(uri).source

    def read(self, path: str) -> str:
        """An imported file's text: the editor's buffer when the file is open, else the file on disk."""
        real = os.path.realpath(path)
        for doc in self.docs.values():
            if doc.real == real:
                return self.text(doc.uri)
        from snndsl.resolve.files import read_disk
        return read_disk(path)

    def uri_for(self, path: str) -> str | None:
        """The URI to publish a file's diagnostics under: the open document's own URI when it is open."""
        from snndsl.lsp.positions import path_to_uri

        if not path.startswith("<"):
            real = os.path.realpath(path)
            for doc in self.docs.values():
                if doc.real == real:
                    return doc.uri
        return path_to_uri(path)

    # ------------------------------------------------------------------ checking and publishing
    def open(self, uri: str) -> Doc:
        """Start tracking ``uri`` (opened in the editor)."""
        from snndsl.lsp.positions import uri_to_path

        path = uri_to_path(uri)
        doc = Doc(uri, path or f"<{uri}>", os.path.realpath(path) if path else None)
        self.docs[uri] = doc
        return doc

    def schedule(self, uri: str) -> None:
        """Check ``uri`` soon, replacing a pending check: right away when its last check is older than
        :attr:`debounce` seconds, else after :attr:`debounce` seconds (a later change postpones it again)."""
        doc = self.docs.get(uri)
        if doc is None:
            return
        if doc.timer is not None:
            doc.timer.cancel()
        loop = asyncio.get_running_loop()
        delay = 0.0 if loop.time() - doc.checked_at >= self.debounce and doc.timer is None else self.debounce
        doc.timer = loop.call_later(delay, self.check, uri)

    def dependents(self, uri: str) -> list[str]:
        """The other open documents whose imports load ``uri``'s file."""
        doc = self.docs.get(uri)
        if doc is None or doc.real is None:
            return []
        return [d.uri for d in self.docs.values()
                if d.uri != uri and d.analysis is not None and doc.real in d.analysis.files]

    def check(self, uri: str) -> Analysis | None:
        """Check ``uri`` now and publish what changed; returns the analysis (``None`` if the document closed or
        the front end failed, which is logged)."""
        from snndsl.lsp.analysis import analyse

        doc = self.docs.get(uri)
        if doc is None:
            return None
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        self.ready.wait()
        try:
            result = analyse(SourceFile(doc.path, self.text(uri)), self.read, self.encoding)
        except Exception:               # a bug in snndsl: say so in the client's log, keep serving
            self.window_log_message(lsp.LogMessageParams(
                type=lsp.MessageType.Error, message=f"snndsl: checking {uri} failed:\n{traceback.format_exc()}"))
            return None
        doc.analysis = result
        doc.checked_at = asyncio.get_running_loop().time()
        if result.view is not None:
            doc.view = result.view
        old, doc.targets = doc.targets, {u for p in result.elsewhere if (u := self.uri_for(p))}
        for target in {uri} | old | doc.targets:
            self.publish(target)
        return result

    def current(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text (checked now if a check is pending or stale)."""
        doc = self.docs.get(uri)
        if doc is None:
            return None
        if doc.analysis is None or doc.timer is not None or doc.analysis.source.text != self.text(uri):
            return self.check(uri)
        return doc.analysis

    def publish(self, uri: str) -> None:
        """Publish every diagnostic for ``uri``: its own check's, and those other open documents' checks found
        in it (each once)."""
        items, seen = [], set()
        doc = self.docs.get(uri)
        found = list(doc.analysis.own) if doc is not None and doc.analysis is not None else []
        for other in self.docs.values():
            if other.analysis is not None and uri in other.targets:
                for path, diags in other.analysis.elsewhere.items():
                    if self.uri_for(path) == uri:
                        found.extend(diags)
        for d in found:
            key = (d.code, d.message, d.range.start.line, d.range.start.character, d.range.end.line,
                   d.range.end.character)
            if key not in seen:
                seen.add(key)
                items.append(d)
        version = self.workspace.get_text_document(uri).version if doc is not None else None
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=items, version=version))

    def close(self, uri: str) -> None:
        """Stop tracking ``uri``: its diagnostics are withdrawn (those other documents find in it remain)."""
        doc = self.docs.pop(uri, None)
        if doc is None:
            return
        if doc.timer is not None:
            doc.timer.cancel()
        for target in {uri} | doc.targets:
            self.publish(target)


def build() -> SnnLanguageServer:
    """A server with every feature registered."""
    from snndsl.lsp import features

    server = SnnLanguageServer()
    features.register(server)
    return server


def main() -> int:
    """Serve over stdin/stdout until the client says exit.

    The protocol owns stdout: anything else a library prints goes to stderr instead. JAX runs on the CPU
    unless ``JAX_PLATFORMS`` says otherwise: checking needs no accelerator, and an editor's helper should not
    take a GPU's memory.
    """
    import sys

    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    protocol_out = sys.stdout.buffer
    sys.stdout = sys.stderr
    build().start_io(sys.stdin.buffer, protocol_out)
    return 0
