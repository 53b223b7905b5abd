"""The LSP requests and notifications the server answers, each a thin handler over the modules that do the
work: :mod:`~snndsl.lsp.analysis` (diagnostics), :mod:`~snndsl.lsp.hover`, :mod:`~snndsl.lsp.navigate`
(definition, outline), :mod:`~snndsl.lsp.complete` and :mod:`snndsl.syntax.format` (formatting). Those are
imported inside the handlers: they load the compiler (and JAX), which the server's warm-up thread does while
the handshake goes on."""

from __future__ import annotations

from lsprotocol import types as lsp

from snndsl.source import SourceFile

#: Characters after which a client asks for completions without the user asking.
TRIGGERS = ["(", ",", "=", ":", " ", ">"]


def register(server) -> None:
    """Register every feature on ``server`` (a :class:`snndsl.lsp.server.SnnLanguageServer`)."""

    @server.feature(lsp.INITIALIZE)
    def initialize(ls, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounceMs"), (int, float)):
            ls.debounce = max(0.0, options["debounceMs"] / 1000)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.open(uri)
        ls.check(uri)
        for other in ls.dependents(uri):
            ls.schedule(other)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.schedule(uri)
        for other in ls.dependents(uri):
            ls.schedule(other)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls, params: lsp.DidSaveTextDocumentParams) -> None:
        for other in ls.dependents(params.text_document.uri):
            ls.schedule(other)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        dependents = ls.dependents(uri)
        ls.close(uri)
        for other in dependents:         # they now read the file from disk
            ls.schedule(other)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: lsp.HoverParams) -> lsp.Hover | None:
        from snndsl.lsp.hover import hover_markdown
        from snndsl.lsp.locate import symbol_at
        from snndsl.lsp.positions import offset_of, to_range

        found = _view(ls, params.text_document.uri)
        if found is None:
            return None
        view, source = found
        sym = symbol_at(view, offset_of(source, params.position, ls.encoding))
        text = hover_markdown(sym) if sym is not None else None
        if not text:
            return None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), to_range(sym.span, ls.encoding))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls, params: lsp.DefinitionParams) -> list[lsp.Location] | None:
        from snndsl.lsp.navigate import definition as find
        from snndsl.lsp.positions import offset_of

        found = _view(ls, params.text_document.uri)
        if found is None:
            return None
        view, source = found
        return find(view, source, offset_of(source, params.position, ls.encoding), params.text_document.uri,
                    ls.encoding) or None

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        from snndsl.lsp.navigate import document_symbols

        found = _view(ls, params.text_document.uri)
        doc = ls.docs.get(params.text_document.uri)
        view = found[0] if found is not None else (doc.view if doc is not None else None)
        return document_symbols(view.module, ls.encoding) if view is not None else None

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=TRIGGERS))
    def completion(ls, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        from snndsl.lsp.complete import completions
        from snndsl.lsp.positions import offset_of

        uri = params.text_document.uri
        doc = ls.docs.get(uri)
        if doc is None:
            return None
        ls.ready.wait()
        text = ls.text(uri)
        source = SourceFile(doc.path, text)
        offset = offset_of(source, params.position, ls.encoding)
        view = doc.view if doc.view is not None else _view_without_line(ls, doc.path, text, offset)
        return lsp.CompletionList(is_incomplete=False, items=completions(text, offset, view))

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        from snndsl.diagnostics import SnnError
        from snndsl.syntax.format import FormatterError, format_text

        uri = params.text_document.uri
        doc = ls.docs.get(uri)
        text = ls.text(uri)
        path = doc.path if doc is not None else uri
        try:
            formatted = format_text(text, path)
        except (SnnError, FormatterError):  # a syntax error (shown as a diagnostic): leave the text alone
            return None
        if formatted == text:
            return []
        end = SourceFile(path, text).lsp_position(len(text), ls.encoding)
        return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(**end)), formatted)]


def _view_without_line(ls, path: str, text: str, offset: int):
    """For a document that never parsed: the view of its text without the line being typed (which is
    usually what does not parse), so its imports still offer their models; ``None`` if that fails too."""
    from snndsl.diagnostics import SnnError
    from snndsl.resolve import view_source

    start, end = text.rfind("\n", 0, offset) + 1, text.find("\n", offset)
    end = len(text) if end < 0 else end
    try:
        return view_source(SourceFile(path, text[:start] + text[end:]), ls.read)
    except SnnError:
        return None


def _view(ls, uri: str):
    """The current view of ``uri`` and its source, or ``None`` when it is not open or does not parse."""
    analysis = ls.current(uri)
    if analysis is None or analysis.view is None:
        return None
    return analysis.view, analysis.source
