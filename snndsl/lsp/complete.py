"""Completion from the text before the cursor, so it works while the line being typed does not parse yet.

From what :mod:`snndsl.lsp.scan` finds before the cursor (the block, the open calls, the statement) it offers model names, the parameters of the model or registry entry being called, surrogates,
initialisers, connectivity rules, units, data sources, losses, optimizers and the other registries' names,
population names and keywords. The models come from the document's last good analysis (imports included)
and from the ``neuron``/``synapse`` headers in the current text.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from snndsl.lsp.hover import entry_markdown, param_text, signature
from snndsl.lsp.locate import SLOTS, find_entry
from snndsl.lsp.scan import Context, context
from snndsl.registry import (CONNECTIVITY, ENCODERS, FUNCTIONS, INITIALISERS, INPUT_KINDS, INTEGRATORS,
                             OUTPUTS, REDUCTIONS, SETTINGS, SURROGATES, Registry)
from snndsl.resolve import FileView
from snndsl.syntax import ast, printer

MODEL_KEYWORDS = ("param", "state", "input", "let", "spike when", "reset soft", "reset hard", "on_spike",
                  "refractory", "surrogate", "method", "output")
NETWORK_KEYWORDS = ("dt", "input", "pop", "readout", "connect", "output")
TOP_KEYWORDS = ("import", "neuron", "synapse", "network", "train")
SPECIALS = ("time", "label", "target")
CONNECT_OPTIONS = ("synapse", "output", "port", "delay")


def _item(label: str, kind: lsp.CompletionItemKind, detail: str = "", doc: str = "", insert: str | None = None,
          sort: str = "1") -> lsp.CompletionItem:
    return lsp.CompletionItem(
        label=label, kind=kind, detail=detail or None, insert_text=insert, sort_text=f"{sort}{label}",
        documentation=lsp.MarkupContent(lsp.MarkupKind.Markdown, doc) if doc else None)


def _entries(*registries: Registry) -> list[lsp.CompletionItem]:
    return [_item(e.name, lsp.CompletionItemKind.Function, signature(e), entry_markdown(e, r))
            for r in registries for e in r]


def _units() -> list[lsp.CompletionItem]:
    from snndsl.resolve.unit_names import COMMON_UNITS
    return [_item(u, lsp.CompletionItemKind.Unit, "unit") for u in COMMON_UNITS]


def _keywords(words) -> list[lsp.CompletionItem]:
    return [_item(w, lsp.CompletionItemKind.Keyword, sort="2") for w in words]


def _models(view: FileView | None, text: str, kinds=("neuron", "synapse")) -> list[lsp.CompletionItem]:
    found: dict[str, str] = {}
    for name, node in (view.models.items() if view is not None else ()):
        found[name] = "neuron" if isinstance(node, ast.NeuronDef) else "synapse"
    for m in re.finditer(r"^\s*(neuron|synapse)\s+([A-Za-z_]\w*)", text, re.M):
        found.setdefault(m.group(2), m.group(1))
    items = []
    for name, kind in sorted(found.items()):
        if kind in kinds:
            node = view.models.get(name) if view is not None else None
            where = f" ({node.span.source.path})" if node is not None else ""
            items.append(_item(name, lsp.CompletionItemKind.Class, f"{kind}{where}", sort="0"))
    return items


def _std_models() -> list[lsp.CompletionItem]:
    from snndsl.resolve import stdlib_files

    return [_item(m.group(2), lsp.CompletionItemKind.Class, f"{m.group(1)} ({f.path})", sort="0")
            for f in stdlib_files() for m in re.finditer(r"^\s*(neuron|synapse)\s+([A-Za-z_]\w*)", f.text, re.M)]


def _model_args(view: FileView | None, name: str) -> list[lsp.CompletionItem] | None:
    node = view.models.get(name) if view is not None else None
    if node is None:
        return None
    items = [_item(st.name.name, lsp.CompletionItemKind.Field, printer.statement(st), insert=f"{st.name.name} = ",
                   sort="0") for st in node.body if isinstance(st, (ast.ParamDecl, ast.StateDecl))]
    if isinstance(node, ast.NeuronDef):
        items.append(_item("surrogate", lsp.CompletionItemKind.Field, "the population's surrogate gradient",
                           insert="surrogate = "))
        if any(isinstance(st, ast.ResetStmt) for st in node.body):
            items.append(_item("reset", lsp.CompletionItemKind.Field, "the population's reset mode: hard or soft",
                               insert="reset = "))
    if any(isinstance(st, ast.Ode) for st in node.body):
        items.append(_item("method", lsp.CompletionItemKind.Field, "the population's integration method",
                           insert="method = "))
    return items


def _names_in_block(text: str, ctx: Context, pattern: str) -> list[str]:
    body = text[ctx.block_start:]
    return list(dict.fromkeys(m.group(1) for m in re.finditer(pattern, body)))


def _pops(text: str, ctx: Context) -> list[lsp.CompletionItem]:
    if ctx.block == "train" and ctx.block_name:
        m = re.search(rf"^\s*network\s+{re.escape(ctx.block_name)}\s*\{{", text, re.M)
        if m is None:
            return []
        scope = Context(block_start=m.end())
    else:
        scope = ctx
    names = _names_in_block(text, scope, r"\b(?:pop|readout|input)\s+([A-Za-z_]\w*)\s*[=:]")
    return [_item(n, lsp.CompletionItemKind.Variable, "population or input", sort="0") for n in names]


def completions(text: str, offset: int, view: FileView | None) -> list[lsp.CompletionItem]:
    """The completion items at character ``offset`` of ``text``; ``view`` is the document's last good view
    (``None`` if it never parsed)."""
    ctx = context(text, offset)
    if ctx.block == "<none>":
        return []
    if ctx.frames:
        return _in_call(text, ctx, view)
    words = [t for _, t in ctx.stmt]
    last = words[-1] if words else None
    if last is not None and ctx.stmt[-1][0] == "number":
        return _units()
    if ctx.block is None:
        if not words:
            return _keywords(TOP_KEYWORDS)
        if words[0] == "train" and len(words) == 1:
            return [_item(n, lsp.CompletionItemKind.Module, "network")
                    for n in re.findall(r"^\s*network\s+([A-Za-z_]\w*)", text, re.M)]
        if words[0] == "import" and "from" not in words:
            return _std_models()
        return []
    if ctx.block in ("neuron", "synapse"):
        return _in_model(text, ctx, words)
    if ctx.block == "network":
        return _in_network(text, ctx, words, view)
    if ctx.block == "train":
        if not words:
            return [_item(k, lsp.CompletionItemKind.Property, f"train setting: {v}", insert=f"{k} = ")
                    for k, v in SETTINGS.items()]
        if len(words) == 2 and words[1] == "=":
            slot = SLOTS.get(words[0])
            return _entries(*slot) if slot else []
        if words[0] == "loss":
            return _pops(text, ctx) + _keywords(SPECIALS)
    return []


def _in_model(text: str, ctx: Context, words: list[str]) -> list[lsp.CompletionItem]:
    if not words:
        return _keywords(MODEL_KEYWORDS)
    if words[0] in ("param", "state", "input") and ":" in words and "=" not in words:
        return _units()
    if words == ["surrogate"]:
        return _entries(SURROGATES)
    if words == ["method"]:
        return _entries(INTEGRATORS)
    if words == ["reset"]:
        return _keywords(("soft", "hard"))
    names = _names_in_block(text, ctx, r"\b(?:param|state|input|let)\s+([A-Za-z_]\w*)")
    return ([_item(n, lsp.CompletionItemKind.Variable, sort="0") for n in names] + _entries(FUNCTIONS)
            + _keywords(("t", "dt")))


def _in_network(text: str, ctx: Context, words: list[str], view: FileView | None) -> list[lsp.CompletionItem]:
    if not words:
        return _keywords(NETWORK_KEYWORDS)
    head = words[0]
    if head in ("pop", "readout") and "=" in words:
        return _models(view, text, ("neuron",) if head == "pop" else ("neuron", "synapse"))
    if head == "output":
        return _pops(text, ctx)
    if head == "input":
        if "=" in words:
            return _entries(ENCODERS)
        if "]" in words:
            return _units()
        if ":" in words:
            return _entries(INPUT_KINDS)
        return []
    if head == "connect":
        if "->" not in words or words[-1] == "->":
            return _pops(text, ctx)
        after = words[words.index("->"):]
        if after.count(":") and after[-1] == ":":
            return _entries(CONNECTIVITY)
        if words[-1] == ",":
            return [_item(o, lsp.CompletionItemKind.Property, "connect option", insert=f"{o} = ")
                    for o in CONNECT_OPTIONS]
        if len(words) >= 2 and words[-1] == "=" and words[-2] == "synapse":
            return _models(view, text, ("synapse",))
        if len(words) >= 2 and words[-1] == "=" and words[-2] == "output":
            return _entries(OUTPUTS)
    return []


def _in_call(text: str, ctx: Context, view: FileView | None) -> list[lsp.CompletionItem]:
    frame = ctx.frames[-1]
    if frame.callee == "(":           # parentheses in an expression
        return _values(text, ctx, view, None)
    if frame.callee in ("[", None):
        return []
    toks = frame.tokens
    if toks and toks[-1][0] == "number":
        return _units()
    model_args = _model_args(view, frame.callee)
    if frame.arg is None and not [t for t in toks if t[1] != "trainable"]:
        if model_args is not None:
            return model_args
        found = find_entry(frame.callee, _call_registries(ctx))
        if found is not None:
            return [_item(p.name, lsp.CompletionItemKind.Field, param_text(p), insert=f"{p.name} = ", sort="0")
                    for p in found[1].params] + _values(text, ctx, view, None)
        return _values(text, ctx, view, None)
    return _values(text, ctx, view, frame.arg)


def _call_registries(ctx: Context) -> tuple[Registry, ...]:
    """Where the innermost call's name comes from: the argument of the enclosing call it is given to, or the
    statement it is in."""
    if len(ctx.frames) > 1 and (slot := SLOTS.get(ctx.frames[-2].arg or "")):
        return slot
    words = [t for _, t in ctx.stmt]
    if ctx.block == "train" and words:
        return SLOTS.get(words[0], ())
    if ctx.block == "network" and words and words[0] == "connect":
        return (OUTPUTS,) if words[-2:] == ["output", "="] else (CONNECTIVITY,)
    if ctx.block == "network" and words and words[0] == "input":
        return (ENCODERS,)
    return (SURROGATES,) if words[:1] == ["surrogate"] else ()


def _values(text: str, ctx: Context, view: FileView | None, arg: str | None) -> list[lsp.CompletionItem]:
    """What may be given to argument ``arg`` (``None``: a positional one) of the innermost call."""
    if frame_is_model(ctx, view):
        if arg == "surrogate":
            return _entries(SURROGATES)
        if arg == "method":
            return _entries(INTEGRATORS)
        if arg == "reset":
            return _keywords(("hard", "soft"))
        return _entries(INITIALISERS) + _keywords(("true", "false")) if arg is not None else []
    if arg in SLOTS:
        return _entries(*SLOTS[arg])
    if ctx.block == "train":
        return _pops(text, ctx) + _keywords(SPECIALS) + _entries(REDUCTIONS)
    if ctx.block in ("neuron", "synapse"):
        names = _names_in_block(text, ctx, r"\b(?:param|state|input|let)\s+([A-Za-z_]\w*)")
        return [_item(n, lsp.CompletionItemKind.Variable, sort="0") for n in names] + _entries(FUNCTIONS)
    return []


def frame_is_model(ctx: Context, view: FileView | None) -> bool:
    """Whether the innermost call is a model (its ``w``, ``b`` are then its own parameters)."""
    return view is not None and ctx.frames[-1].callee in view.models
