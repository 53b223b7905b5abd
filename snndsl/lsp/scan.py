"""A small scanner of the text before the cursor, for completion: the block the cursor is in (``neuron``,
``network``, ``train``...), the calls it is inside (callee and argument name) and the tokens of the current
statement. It needs no parse, so it works on the line being typed."""

from __future__ import annotations

import re

import attrs

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*) | (?P<string>"[^"\n]*"?) | (?P<deriv>d[A-Za-z_]\w*/dt\b)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?) | (?P<name>[A-Za-z_]\w*)
  | (?P<op>->|[<>+\-=]=|[-+*/^=<>,:.(){}\[\]]) | (?P<nl>\n) | (?P<ws>[ \t\r]+) | (?P<other>.)
""", re.X)


@attrs.define
class _Frame:
    """An open ``(`` (or ``[``): the name called, the argument being written and its tokens so far."""

    callee: str | None
    arg: str | None = None
    tokens: list = attrs.field(factory=list)


@attrs.define
class Context:
    """Where the cursor is: ``block`` (``neuron``, ``synapse``, ``network``, ``train`` or ``None`` at the top),
    the block's name and start offset, the open calls (innermost last), the current statement's tokens
    (kind, text) outside any call, and the word being typed."""

    block: str | None = None
    block_name: str | None = None
    block_start: int = 0
    frames: list = attrs.field(factory=list)
    stmt: list = attrs.field(factory=list)
    prefix: str = ""


def context(text: str, offset: int) -> Context:
    """Scan ``text[:offset]`` into a :class:`Context`."""
    head = text[:offset]
    tokens = [(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(head)]
    ctx = Context()
    if tokens and tokens[-1][0] == "name" and tokens[-1][2] + len(tokens[-1][1]) == offset:
        ctx.prefix = tokens.pop()[1]
    if tokens and tokens[-1][0] in ("comment", "string"):
        ctx.block = "<none>"          # inside a comment or a string: nothing to offer
        return ctx
    blocks: list[tuple[str | None, str | None, int]] = []
    for kind, tok, start in tokens:
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            if not ctx.frames:
                ctx.stmt = []
            continue
        if tok == "{":
            words = [t for k, t in ctx.stmt if k == "name"]
            blocks.append((words[0] if words else None, words[1] if len(words) > 1 else None, start))
            ctx.stmt, ctx.frames = [], []
        elif tok == "}":
            if blocks:
                blocks.pop()
            ctx.stmt, ctx.frames = [], []
        elif tok in "([":
            where = ctx.frames[-1].tokens if ctx.frames else ctx.stmt
            callee = where[-1][1] if tok == "(" and where and where[-1][0] == "name" else tok
            ctx.frames.append(_Frame(callee))
        elif tok in ")]":
            if ctx.frames:
                ctx.frames.pop()
            (ctx.frames[-1].tokens if ctx.frames else ctx.stmt).append(("call", tok))
        elif ctx.frames:
            frame = ctx.frames[-1]
            if tok == ",":
                frame.arg, frame.tokens = None, []
            elif tok == "=" and len(frame.tokens) >= 1 and frame.tokens[-1][0] == "name" and frame.arg is None:
                frame.arg, frame.tokens = frame.tokens[-1][1], []
            else:
                frame.tokens.append((kind, tok))
        else:
            ctx.stmt.append((kind, tok))
    if blocks:
        ctx.block, ctx.block_name, ctx.block_start = blocks[-1]
    return ctx
