"""The canonical pretty-printer: :class:`snndsl.syntax.ast.Module` (and its comments) → ``.snn`` text.

``snndsl fmt`` is this module, verified by :mod:`snndsl.syntax.format`, plus file handling
(:mod:`snndsl.cli.fmt`). The style, in full (docs/tooling.md has it with examples):

* one statement per line, 4 spaces of indentation per block, ``name {`` ... ``}`` with the brace on the
  header line; a statement written over several lines is joined into one; lines are never wrapped;
* a blank line after every top-level item, except between consecutive ``import`` statements; elsewhere a
  blank line of the input is kept (runs of blank lines become one), except at the start or end of a block
  or of the file;
* spaces around binary operators except ``^`` (``V^2``), around ``=``, ``+=``, ``-=``, ``->`` and the
  comparisons, after commas and after the ``:`` of declarations; no spaces inside units in type position
  (``nS/mm^2``, ``1/ms``), inside ``()``, ``[]``, or around the ``.`` of ``pop.V``;
* the fewest parentheses that keep the tree: ``a - (b - c)`` keeps them, ``(a * b) / c`` becomes
  ``a * b / c``; a quantity raised to a power is parenthesised (``(2 ms)^2``: ``2 ms^2`` is the quantity
  ``2 ms^2``); a unary ``+`` is dropped (the tree has no node for it);
* numbers keep their spelling (``3e-3``, ``.5``), quantities are number, one space, unit as written
  (``5Hz`` → ``5 Hz``); strings and names are copied;
* comments are kept in order: a comment alone on its line is printed on its own line before the statement,
  item or ``}`` that follows it, at that statement's indentation (inside the block before a ``}``); a
  comment after code stays at the end of that line, two spaces after it. A comment *inside* a statement
  that spans several lines (or inside a block header) moves to its own line before that statement.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import attrs

from snndsl.syntax import ast
from snndsl.syntax.parser import Comment

INDENT = "    "

# Binding strength, loosest first, as in the grammar: sum < product < unary minus < power < atom.
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)
_BINOP_PREC = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "^": _POWER}


# ---------------------------------------------------------------- expressions and units


def _prec(e: ast.Expr) -> int:
    """How tightly ``e`` binds as printed (its operator's strength; unary minus; atom)."""
    if isinstance(e, ast.BinOp):
        return _BINOP_PREC[e.op]
    if isinstance(e, ast.Neg):
        return _UNARY
    return _ATOM


def expr(e: ast.Expr, min_prec: int = _SUM) -> str:
    """``e`` as canonical text, parenthesised if it binds more loosely than ``min_prec``.

    Binding strengths follow the grammar (``_SUM < _PRODUCT < _UNARY < _POWER < _ATOM``); the default accepts
    any expression unparenthesised. Raises ``TypeError`` for a node that is not an expression.
    """
    text = _expr(e)
    return f"({text})" if _prec(e) < min_prec else text


def _expr(e: ast.Expr) -> str:
    """The canonical text of ``e`` without outer parentheses (operands get theirs from :func:`expr`)."""
    if isinstance(e, ast.Number):
        return e.text
    if isinstance(e, ast.Quantity):
        return f"{e.number} {e.unit}"
    if isinstance(e, ast.String):
        return f'"{e.value}"'
    if isinstance(e, ast.Name):
        return e.ident.name
    if isinstance(e, ast.Attribute):
        return f"{e.owner.name}.{e.field.name}"
    if isinstance(e, ast.Call):
        return call(e)
    if isinstance(e, ast.Array):
        return f"[{', '.join(expr(i) for i in e.items)}]"
    if isinstance(e, ast.Neg):
        operand = expr(e.operand, _UNARY)
        # `- -x`, not `--x`: a space keeps the two signs apart for the reader.
        return f"- {operand}" if operand.startswith("-") else f"-{operand}"
    if isinstance(e, ast.BinOp):
        if e.op == "^":
            # power: atom "^" unary. The base must be an atom; a quantity base needs parentheses too,
            # since `2 ms^2` lexes as the single quantity `2 ms^2`.
            base = expr(e.left, _ATOM)
            if isinstance(e.left, ast.Quantity):
                base = f"({base})"
            return f"{base}^{expr(e.right, _UNARY)}"
        prec = _BINOP_PREC[e.op]
        # Left-associative: the left operand may bind as loosely as the operator, the right one must bind tighter.
        return f"{expr(e.left, prec)} {e.op} {expr(e.right, prec + 1)}"
    raise TypeError(f"not an expression: {e!r}")


def arg(a: ast.Arg) -> str:
    """One call argument: ``[trainable ][name = ]value``."""
    text = expr(a.value)
    if a.name is not None:
        text = f"{a.name.name} = {text}"
    return f"trainable {text}" if a.trainable else text


def call(c: ast.Call) -> str:
    """A call as ``name(arg, name = arg)``: no space before or inside the parentheses, one after each comma."""
    return f"{c.func.name}({', '.join(arg(a) for a in c.args)})"


def unit(u: ast.Unit) -> str:
    """A unit in type position: ``mV``, ``1/ms``, ``nS/mm^2``, ``mV/(ms*cm)`` (no spaces).

    Raises ``TypeError`` for a node that is not a unit.
    """
    if isinstance(u, ast.UnitName):
        return u.ident.name
    if isinstance(u, ast.UnitPow):
        return f"{u.ident.name}^{u.exponent}"
    if isinstance(u, ast.UnitOne):
        return "1"
    if isinstance(u, ast.UnitOp):
        # unit: unit ("*" | "/") unit_term, left-associative: only a compound right operand needs parentheses.
        right = unit(u.right)
        if isinstance(u.right, ast.UnitOp):
            right = f"({right})"
        return f"{unit(u.left)}{u.op}{right}"
    raise TypeError(f"not a unit: {u!r}")


# ---------------------------------------------------------------- statements and items


def _typed(keyword: str, name: ast.Ident, u: ast.Unit | None, value: ast.Expr | None) -> str:
    """``keyword name[: unit] [= value]`` (``param``, ``state``, ``input``)."""
    text = f"{keyword} {name.name}"
    if u is not None:
        text += f": {unit(u)}"
    if value is not None:
        text += f" = {expr(value)}"
    return text


def statement(s) -> str:
    """One statement of a model, network or train block, on one line, without indentation or comment.

    Raises ``TypeError`` for a node that is not a statement.
    """
    if isinstance(s, ast.ParamDecl):
        return _typed("param", s.name, s.unit, s.default)
    if isinstance(s, ast.StateDecl):
        return _typed("state", s.name, s.unit, s.init)
    if isinstance(s, ast.InputDecl):
        return f"input {s.name.name}: {unit(s.unit)}"
    if isinstance(s, ast.LetDecl):
        return f"let {s.name.name} = {expr(s.value)}"
    if isinstance(s, ast.Ode):
        return f"d{s.var.name}/dt = {expr(s.rhs)}"
    if isinstance(s, ast.SpikeStmt):
        text = f"spike when {expr(s.left)} {s.op} {expr(s.right)}"
        text = text if s.scale is None else f"{text}, scale = {expr(s.scale)}"
        return f"{text}, crossing" if s.crossing else text
    if isinstance(s, ast.ResetStmt):
        return f"reset {s.mode} {s.var.name} = {expr(s.value)}"
    if isinstance(s, ast.OnSpike):
        return f"on_spike {s.var.name} {s.op} {expr(s.value)}"
    if isinstance(s, ast.RefractoryStmt):
        return f"refractory {expr(s.period)}"
    if isinstance(s, ast.SurrogateStmt):
        return f"surrogate {call(s.call)}"
    if isinstance(s, ast.MethodStmt):
        return f"method {s.name.name}"
    if isinstance(s, ast.PlasticState):
        text = f"state {s.name.name}" + (f": {unit(s.unit)}" if s.unit is not None else "") + f" per {s.scope}"
        return text if s.init is None else f"{text} = {expr(s.init)}"
    if isinstance(s, ast.AssignStmt):
        return f"{s.var.name} {s.op} {expr(s.value)}"
    if isinstance(s, ast.TransmitStmt):
        return f"transmit {expr(s.value)}"
    if isinstance(s, ast.OutputStmt):
        return f"output {expr(s.value)}"
    if isinstance(s, ast.DtStmt):
        return f"dt = {expr(s.value)}"
    if isinstance(s, ast.PrecisionStmt):
        return f"precision = {s.name.name}"
    if isinstance(s, ast.DurationStmt):
        return f"duration = {expr(s.value)}"
    if isinstance(s, ast.NetInput):
        text = f"input {s.name.name}: {s.kind.name}[{expr(s.size)}]"
        if s.unit is not None:
            text += f" {unit(s.unit)}"
        if s.source is not None:
            text += f" = {call(s.source)}"
        return text
    if isinstance(s, ast.PopDecl):
        return f"pop {s.name.name} = {call(s.call)}"
    if isinstance(s, ast.ReadoutDecl):
        return f"readout {s.name.name} = {call(s.call)}"
    if isinstance(s, ast.ConnectStmt):
        label = f"{s.label.name}: " if s.label is not None else ""
        options = "".join(f", {arg(a)}" for a in s.options)
        return f"connect {label}{s.pre.name} -> {s.post.name}: {call(s.conn)}{options}"
    if isinstance(s, ast.NetOutput):
        return f"output {', '.join(n.name for n in s.names)}"
    if isinstance(s, ast.Setting):
        return f"{s.key.name} = {expr(s.value)}"
    raise TypeError(f"not a statement: {s!r}")


_BLOCKS = {ast.NeuronDef: "neuron", ast.SynapseDef: "synapse", ast.PlasticityDef: "plasticity",
           ast.NetworkDef: "network", ast.TrainDef: "train"}


def _block_parts(item) -> tuple[str, ast.Ident, tuple]:
    """A block item's keyword, name and statements (a train block's name is its network's)."""
    keyword = _BLOCKS[type(item)]
    if isinstance(item, ast.TrainDef):
        return keyword, item.network, item.settings
    return keyword, item.name, item.body


def import_stmt(s: ast.ImportStmt) -> str:
    """``import "path"`` or ``import A, B from "path"``, on one line."""
    if s.names:
        return f'import {", ".join(n.name for n in s.names)} from "{s.path}"'
    return f'import "{s.path}"'


# ---------------------------------------------------------------- layout with comments


@attrs.define
class _Line:
    """One output line of code, anchored at the source range it was printed from."""

    text: str
    depth: int
    start: tuple[int, int]          # (line, column) of the anchor's first character
    end: tuple[int, int]            # (line, column) just past its last character
    kind: str                       # "open" (header or one-line item), "stmt" or "close"
    last: bool                      # the item's last line
    is_import: bool
    leading: list[Comment] = attrs.Factory(list)
    trailing: Comment | None = None


def _pos(span, end: bool = False) -> tuple[int, int]:
    return (span.end_line, span.end_column) if end else (span.line, span.column)


def _lines(module: ast.Module) -> list[_Line]:
    """The output lines of ``module`` before comments are placed: each import, block header, statement and
    closing brace, with its nesting level and the source positions comments are anchored to."""
    out: list[_Line] = []
    for item in module.items:
        if isinstance(item, ast.ImportStmt):
            out.append(_Line(import_stmt(item), 0, _pos(item.span), _pos(item.span, True), "open", True, True))
            continue
        keyword, name, body = _block_parts(item)
        # The header's anchor ends after the name: the `{` is not in the tree (it may sit on a later line).
        out.append(_Line(f"{keyword} {name.name} {{", 0, _pos(item.span), _pos(name.span, True), "open", False,
                         False))
        for s in body:
            if isinstance(s, ast.Handler):     # a nested block: `on_pre {`, its statements, `}`
                out.append(_Line(f"{s.event} {{", 1, _pos(s.span), (s.span.line, s.span.column + len(s.event)), "open",
                                 False, False))
                for h in s.body:
                    out.append(_Line(statement(h), 2, _pos(h.span), _pos(h.span, True), "stmt", False, False))
                close = (s.span.end_line, s.span.end_column - 1)
                out.append(_Line("}", 1, close, _pos(s.span, True), "close", False, False))
                continue
            out.append(_Line(statement(s), 1, _pos(s.span), _pos(s.span, True), "stmt", False, False))
        close = (item.span.end_line, item.span.end_column - 1)
        out.append(_Line("}", 0, close, _pos(item.span, True), "close", True, False))
    return out


def _place(lines: list[_Line], comments: Iterable[Comment]) -> list[Comment]:
    """Attach each comment to a line (leading or trailing); returns the comments left for the end of the file.

    A comment before the first line of code leads it; one inside a multi-line statement leads that
    statement; one after code on the same line trails that line (if nothing trails it yet); any other leads
    the next line. Nothing is dropped: the formatter checks the comments come out as they went in.
    """
    tail: list[Comment] = []
    i = -1
    for c in comments:
        pos = (c.line, c.column)
        while i + 1 < len(lines) and lines[i + 1].start <= pos:
            i += 1
        nxt = lines[i + 1].leading if i + 1 < len(lines) else tail
        if i < 0:
            nxt.append(c)                                   # before the first line of code
        elif pos < lines[i].end:
            lines[i].leading.append(c)                      # inside a multi-line statement: before it
        elif not c.own_line and lines[i].trailing is None and not nxt:
            lines[i].trailing = c                           # after code on the same line: stays there
        else:
            nxt.append(c)                                   # on its own line: before what follows
    return tail


def _blank_lines(text: str) -> list[bool]:
    """``blank[n]``: 1-based source line ``n`` is empty or whitespace (index 0 unused)."""
    return [False] + [not line.strip() for line in text.split("\n")]


def format_module(module: ast.Module, comments: Sequence[Comment] = ()) -> str:
    """The canonical text of ``module``, with ``comments`` (from :func:`snndsl.syntax.parser.parse_with_comments`)
    kept.

    Blank lines of the input are found through the spans' source (``module.span.source``); the result ends
    with one newline, or is empty for a file with neither code nor comments.
    """
    lines = _lines(module)
    tail = _place(lines, comments)
    blank = _blank_lines(module.span.source.text)

    # Physical output lines: (text, depth, first source line, last source line, line-of-code or None).
    phys: list[tuple[str, int, int, int, _Line | None]] = []
    for ln in lines:
        inner = ln.depth + 1 if ln.kind == "close" else ln.depth
        for c in ln.leading:
            phys.append((c.text, inner, c.line, c.line, None))
        text = ln.text if ln.trailing is None else f"{ln.text}  {ln.trailing.text}"
        last = max(ln.end[0], ln.trailing.line if ln.trailing is not None else 0)
        phys.append((text, ln.depth, ln.start[0], last, ln))
    for c in tail:
        phys.append((c.text, 0, c.line, c.line, None))

    # The line of code each physical line belongs to: its own, or for a comment the code that follows it
    # (None for the comments after the last item).
    owner: list[_Line | None] = [None] * len(phys)
    following: _Line | None = None
    for k in range(len(phys) - len(tail) - 1, -1, -1):
        following = phys[k][4] or following
        owner[k] = following

    out: list[str] = []
    for k, (text, depth, first_src, last_src, code) in enumerate(phys):
        if k > 0:
            prev = phys[k - 1][4]
            prev_last_src = phys[k - 1][3]
            src_blank = any(blank[n] for n in range(prev_last_src + 1, min(first_src, len(blank))))
            if prev is not None and prev.last:
                # After a top-level item: always a blank line, except between two imports.
                both_imports = prev.is_import and owner[k] is not None and owner[k].is_import
                blank_before = src_blank or not both_imports
            elif (code is not None and code.kind == "close") or (prev is not None and prev.kind == "open"):
                blank_before = False        # never at the start or end of a block
            else:
                blank_before = src_blank
            if blank_before:
                out.append("")
        out.append(INDENT * depth + text)
    return "\n".join(out) + "\n" if out else ""
