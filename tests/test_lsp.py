"""The language server end to end: a real LSP client (pytest-lsp) drives ``python -m snndsl lsp`` over stdio.

One server serves the whole module (it takes a few seconds to load the compiler). Each test opens its own
documents (URIs under a per-module temporary folder) so tests do not depend on one another.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the language-server tests need pytest-lsp (the test extra)")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "models" / "seed.snn").read_text(encoding="utf-8")

#: Every test talking to the server shares the module's event loop (and so its one server).
LSP = pytest.mark.asyncio(loop_scope="module")

ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
       "JAX_PLATFORMS": "cpu"}


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(
    server_command=[sys.executable, "-m", "snndsl", "lsp"], server_env=ENV))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lsp")


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    _versions[uri] = 0
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "snn", 0, text)))
    return uri


def replace_text(client: LanguageClient, uri: str, text: str) -> None:
    _versions[uri] += 1
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(version=_versions[uri], uri=uri),
        [lsp.TextDocumentContentChangeWholeDocument(text)]))


async def diagnostics(client: LanguageClient, uri: str, until=lambda ds: True, timeout: float = 60) -> list:
    """The diagnostics published for ``uri`` once they satisfy ``until`` (waits for the server)."""
    end = asyncio.get_running_loop().time() + timeout
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and until(found):
            return list(found)
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"no matching diagnostics for {uri}: {found}")
        await asyncio.sleep(0.02)


def codes(ds) -> list[str]:
    return sorted(d.code for d in ds)


def position(text: str, needle: str, after: int = 0) -> lsp.Position:
    """The LSP position ``after`` characters into the first ``needle`` (ASCII text)."""
    offset = text.index(needle) + after
    line = text.count("\n", 0, offset)
    return lsp.Position(line, offset - (text.rfind("\n", 0, offset) + 1))


BROKEN = SEED.replace("tau = 20 ms", "tua = 20 ms").replace("kaiming_normal(mA)", "kaiming_normal(mV)")


@LSP
async def test_diagnostics_are_those_of_snndsl_check(client, folder):
    from snndsl.compiler import check_source
    from snndsl.diagnostics import SnnError
    from snndsl.source import SourceFile

    path = folder / "broken.snn"
    uri = open_doc(client, path, BROKEN)
    got = await diagnostics(client, uri, lambda ds: len(ds) > 0)
    with pytest.raises(SnnError) as err:
        check_source(SourceFile(str(path), BROKEN))
    want = [d.to_json() for d in err.value.diagnostics]
    assert len(got) == len(want) >= 2
    for d, w in zip(got, want):
        assert d.code == w["code"] and d.source == "snndsl"
        assert d.message == w["message"] + (f"\nhint: {w['hint']}" if w["hint"] else "")
        assert d.range == lsp.Range(lsp.Position(**w["range"]["start"]), lsp.Position(**w["range"]["end"]))
        assert d.severity == lsp.DiagnosticSeverity.Error


@LSP
async def test_ranges_count_utf16_code_units(client, folder):
    # the culprit spans a character outside the Basic Multilingual Plane: two UTF-16 units, one character
    text = 'import "lib😀.snn"\n'
    uri = open_doc(client, folder / "emoji.snn", text)
    (d,) = await diagnostics(client, uri, lambda ds: len(ds) > 0)
    assert d.code == "SNN001"
    assert d.range == lsp.Range(lsp.Position(0, 0), lsp.Position(0, len(text.rstrip("\n")) + 1))


@LSP
async def test_broken_then_fixed(client, folder):
    uri = open_doc(client, folder / "edit.snn", SEED)
    assert await diagnostics(client, uri) == []
    replace_text(client, uri, SEED.replace("pop hidden = LIF(4,", "pop hidden = LIF(4"))    # syntax error
    (d,) = await diagnostics(client, uri, lambda ds: len(ds) == 1)
    assert d.code.startswith("SNN1")
    replace_text(client, uri, SEED.replace("tau = 20 ms", "taux = 20 ms"))                  # unknown argument
    (d,) = await diagnostics(client, uri, lambda ds: codes(ds) == ["SNN203"])
    assert "did you mean `tau`?" in d.message
    assert d.range.start == position(SEED, "tau = 20 ms") and d.range.end.character - d.range.start.character == 4
    replace_text(client, uri, SEED)                                                            # fixed
    assert await diagnostics(client, uri, lambda ds: not ds) == []


LIB = """neuron Leaky {
    param tau: ms = 10 ms
    input I: mA
    state V: mV = 0 mV
    dV/dt = -V / tau + I * 1 ohm / tau
    spike when V >= 1 mV
    reset soft V = 0 mV
}
"""
MAIN = """import "lib.snn"

network Net {
    dt = 1 ms
    input x: spikes[3]
    pop h = Leaky(2, tau = 5 ms)
    connect x -> h: dense(w = kaiming_normal(mA))
    output h
}
"""


@LSP
async def test_errors_in_an_imported_file(client, folder):
    sub = folder / "imports"
    sub.mkdir()
    (sub / "lib.snn").write_text(LIB.replace("/ tau + I", "/ tau + I * tau"), encoding="utf-8")   # a unit error
    lib_uri = (sub / "lib.snn").as_uri()
    uri = open_doc(client, sub / "main.snn", MAIN)
    (summary,) = await diagnostics(client, uri, lambda ds: len(ds) == 1)
    (inside,) = await diagnostics(client, lib_uri, lambda ds: len(ds) == 1)
    assert inside.code.startswith("SNN30") and inside.range.start.line == 4
    assert summary.code == inside.code and summary.range.start.line == 0
    assert "lib.snn:5:" in summary.message
    assert summary.related_information[0].location.uri == lib_uri
    # the editor's unsaved text of an open file is what its importers see
    open_doc(client, sub / "lib.snn", LIB)
    assert await diagnostics(client, uri, lambda ds: not ds) == []
    assert await diagnostics(client, lib_uri, lambda ds: not ds) == []


@LSP
async def test_hover(client, folder):
    uri = open_doc(client, folder / "hover.snn", SEED)
    await diagnostics(client, uri)

    async def hover(needle: str, after: int = 1) -> str:
        result = await client.text_document_hover_async(lsp.HoverParams(
            lsp.TextDocumentIdentifier(uri), position(SEED, needle, after)))
        assert result is not None, needle
        return result.contents.value

    model = await hover("LIF(4")
    assert "neuron LIF" in model and "leaky integrate-and-fire" in model       # the documentation comment
    assert "| `tau` | `ms` | `5 ms` |" in model and "| `V` | `mV` | `0 mV` |" in model
    param = await hover("tau = 20 ms")
    assert "param tau: ms = 5 ms" in param and "20 ms" in param
    surrogate = await hover("relu_grad")
    assert "relu_grad(alpha = 0.3, width = 1)" in surrogate and "braintools.surrogate.ReluGrad" in surrogate
    init = await hover("kaiming_normal(mA)")
    assert "kaiming_normal(" in init and "braintools.init.KaimingNormal" in init
    assert "optimizer" in await hover("adam(")
    assert "unit `ms`" in await hover("tau = 20 ms", 10)
    assert "pop hidden = LIF(" in await hover("hidden -> out", 2)


@LSP
async def test_definition_across_imports(client, folder):
    uri = open_doc(client, folder / "definition.snn", SEED)
    await diagnostics(client, uri)

    async def definition(text: str, needle: str, doc: str = uri, after: int = 1) -> list[lsp.Location]:
        return await client.text_document_definition_async(lsp.DefinitionParams(
            lsp.TextDocumentIdentifier(doc), position(text, needle, after)))

    (loc,) = await definition(SEED, "LIF(4")
    neurons = ROOT / "snndsl" / "stdlib" / "neurons.snn"
    assert Path(loc.uri.removeprefix("file://")).resolve() == neurons.resolve()
    assert neurons.read_text().splitlines()[loc.range.start.line].startswith("neuron LIF {")
    (loc,) = await definition(SEED, "tau = 20 ms")          # the parameter's declaration in the model
    assert neurons.read_text().splitlines()[loc.range.start.line].strip().startswith("param tau: ms")
    (loc,) = await definition(SEED, "hidden -> out")        # the population
    assert loc.uri == uri and SEED.splitlines()[loc.range.start.line].strip().startswith("pop hidden")
    sub = folder / "definition"
    sub.mkdir()
    (sub / "lib.snn").write_text(LIB, encoding="utf-8")
    main_uri = open_doc(client, sub / "main.snn", MAIN)
    await diagnostics(client, main_uri)
    (loc,) = await definition(MAIN, "Leaky(2", main_uri)
    assert loc.uri == (sub / "lib.snn").as_uri() and loc.range.start == lsp.Position(0, 7)
    (loc,) = await definition(MAIN, '"lib.snn"', main_uri)  # the import's file
    assert loc.uri == (sub / "lib.snn").as_uri()


@LSP
async def test_document_symbols(client, folder):
    uri = open_doc(client, folder / "symbols.snn", SEED)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        lsp.TextDocumentIdentifier(uri)))
    assert [s.name for s in symbols] == ['import "std"', "SeedClassifier", "train SeedClassifier"]
    network = symbols[1]
    assert [c.name for c in network.children] == ["x", "hidden", "out", "x -> hidden", "hidden -> out"]
    assert network.selection_range.start == position(SEED, "SeedClassifier")


@LSP
async def test_completion(client, folder):
    async def complete(text: str, marker: str = "|") -> list[str]:
        offset = text.index(marker)
        text = text.replace(marker, "", 1)
        uri = open_doc(client, folder / f"complete{len(_versions)}.snn", text)
        result = await client.text_document_completion_async(lsp.CompletionParams(
            lsp.TextDocumentIdentifier(uri), position(text, text[offset:] or "\n", 0) if text[offset:]
            else lsp.Position(text.count("\n"), len(text.rsplit("\n", 1)[-1]))))
        return [item.label for item in result.items]

    # the model's parameters and states inside a model call (the line does not parse yet)
    labels = await complete(SEED.replace("    output out\n", "    pop more = LIF(3, |\n    output out\n"))
    assert {"tau", "V_th", "R", "V", "surrogate"} <= set(labels)
    assert "LIF" in await complete(SEED.replace("    output out\n", "    pop more = |\n    output out\n"))
    assert "relu_grad" in await complete(SEED.replace("surrogate = relu_grad", "surrogate = |relu_grad"))
    assert "kaiming_normal" in await complete(SEED.replace("w = kaiming_normal, b", "w = |kaiming_normal, b"))
    assert "ms" in await complete(SEED.replace("tau = 20 ms", "tau = 20 |ms"))
    assert "poisson_patterns" in await complete(SEED.replace("data = poisson", "data = |poisson"))
    assert "cross_entropy" in await complete(SEED.replace("loss = cross", "loss = |cross"))
    assert "adam" in await complete(SEED.replace("optimizer = adam", "optimizer = |adam"))
    assert "Expon" in await complete(SEED.replace("synapse = Expon", "synapse = |Expon"))
    assert set(await complete("neuron N {\n    param tau: |\n}\n")) >= {"ms", "mV", "nS"}


MESSY = "network   N{dt=1 ms\ninput x:spikes[2]\n  pop h=LIF(2)   # a comment\nconnect x->h:dense(w=kaiming_normal(mA))\noutput h}"


@LSP
async def test_formatting(client, folder):
    from snndsl.syntax.format import format_text

    uri = open_doc(client, folder / "format.snn", 'import "std"\n' + MESSY)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(uri), lsp.FormattingOptions(4, True)))
    (edit,) = edits
    assert edit.new_text == format_text('import "std"\n' + MESSY) and "    pop h = LIF(2)  # a comment\n" in edit.new_text
    assert edit.range == lsp.Range(lsp.Position(0, 0), lsp.Position(5, len("output h}")))
    replace_text(client, uri, edit.new_text)
    assert not await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(uri), lsp.FormattingOptions(4, True)))     # already canonical: no edit
    replace_text(client, uri, "network N {")                # a syntax error: nothing to format
    assert not await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(uri), lsp.FormattingOptions(4, True)))


def test_utf16_positions_in_spans():
    from snndsl.source import SourceFile

    source = SourceFile("x.snn", 'a = "😀é" bad\nnext')
    bad = source.text.index("bad")
    span = source.span(bad, bad + 3)
    assert span.lsp_range() == {"start": {"line": 0, "character": 10}, "end": {"line": 0, "character": 13}}
    assert span.lsp_range("utf-32")["start"] == {"line": 0, "character": 9}
    assert span.lsp_range("utf-8")["start"] == {"line": 0, "character": 13}
    assert source.offset_at(0, 10) == bad and source.offset_at(0, 6) == source.text.index("😀")
    assert source.offset_at(0, 99) == source.text.index("\n") and source.offset_at(9, 0) == len(source.text)


def test_vscode_extension_starts_the_server():
    import json

    folder = ROOT / "editors" / "vscode"
    package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    (grammar,) = package["contributes"]["grammars"]
    assert language["id"] == grammar["language"] == "snn" and language["extensions"] == [".snn"]
    assert grammar["scopeName"] == json.loads((ROOT / "editors" / "snn.tmLanguage.json").read_text())["scopeName"]
    assert "../snn.tmLanguage.json" in package["scripts"]["postinstall"]       # copied in by `npm install`
    assert (folder / language["configuration"]).is_file() and "vscode-languageclient" in package["dependencies"]
    assert package["contributes"]["configuration"]["properties"]["snndsl.server.args"]["default"] == ["lsp"]
    assert "vscode-languageclient/node" in (folder / package["main"]).read_text(encoding="utf-8")
