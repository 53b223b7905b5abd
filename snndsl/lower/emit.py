"""A small typed emitter: Python ``ast`` statements with a source comment each, rendered to module text.

The emitted module is built as a structure, never from string templates: expressions and statements are
``ast`` nodes; :class:`Line` pairs one with the ``.snn`` location it came from, :class:`Block` is a compound
statement (``class``, ``def``, ``with``) around more of them, :class:`Doc` a docstring. :func:`render`
unparses each node, appends ``# file.snn:LINE`` comments and breaks lines longer than
:data:`~snndsl.lower.layout.WIDTH` (:mod:`snndsl.lower.layout`).
"""

from __future__ import annotations

import ast
import builtins
import keyword
from typing import Any, Sequence

import attrs

from snndsl.lower import layout
from snndsl.source import Span, visible

#: Names the emitted module does not choose, so no user identifier may take them: Python's keywords and
#: builtins, the module's imports, its public functions, the emitted classes' own API (constructor arguments,
#: methods, ``dt``) and brainstate's ``Module`` API (``tests/test_naming.py`` keeps this in step with the
#: installed brainstate and prelude).
OWNED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | frozenset({
    "self", "u", "bs", "bt", "jax", "jnp", "np", "math", "braintrace", "hashlib",  # imports
    "simulate", "loss_fn", "make_trainer",                                      # the module's functions
    "size", "surrogate", "unit", "dt", "precision", "output", "project",        # the emitted classes' API
    "check_valid_context", "children", "desc", "graph_invisible_attrs", "in_size", "init_all_states",
    "init_state", "modules", "name", "named_children", "named_modules", "named_param_modules",
    "named_parameters", "nodes", "non_hashable_params", "out_size", "param_modules", "param_precompute",
    "parameters", "reg_loss", "reset_state", "state_trees", "states", "update"})  # brainstate.nn.Module

#: The kinds of names derived from a user name (``hidden__syn``); none is a suffix of another.
KINDS = frozenset({"syn", "delay", "out", "shape", "init", "dt", "in", "slope", "fused", "noise", "merged"})


def py_name(name: str) -> str:
    """A user identifier as it appears in the emitted module (the one map from user names to Python).

    The emitted module's names live in two namespaces that cannot meet:

    * **user names** are *plain* (no leading or trailing ``_``, no ``__``, not in :data:`OWNED`) and kept as
      written, or else get one ``_`` appended (``lambda`` → ``lambda_``, ``lambda_`` → ``lambda__``,
      ``_loop`` → ``_loop_``, ``name`` → ``name_``): so every user name either is plain or ends with ``_``,
      and two user names never map to one;
    * **generated names** never end with ``_``: fixed ones (helpers, locals such as ``_spike`` or
      ``_projected``, private attributes) start with a single ``_`` and contain no ``__``; names derived
      from a user name are :func:`derived` (``hidden__syn``: they contain ``__``); the rest are
      :data:`OWNED`.
    """
    if name.startswith("_") or name.endswith("_") or "__" in name or name in OWNED:
        return name + "_"
    return name


def derived(base: str, kind: str) -> str:
    """A generated name belonging to the emitted name ``base`` (already a :func:`py_name` or a projection's
    attribute): ``hidden__syn``, ``V__init``, ``x__shape``. Distinct from every user name (it contains
    ``__`` and does not end with ``_``) and, per ``kind`` (one of :data:`KINDS`), one-to-one in ``base``."""
    assert kind in KINDS, kind
    return f"{base}__{kind}"


def where(span: Span | None) -> str:
    """``file.snn:LINE`` for a source comment."""
    if span is None:
        return ""
    return f"{visible(span.source.path)}:{span.line}"


@attrs.frozen
class Line:
    """One simple statement: ``node`` (an ``ast.stmt`` such as ``Assign`` or ``Return``) and the source
    ``comment`` rendered after it (``file.snn:LINE``, or a few words such as ``reset soft, file.snn:12``;
    empty for none)."""

    node: ast.stmt
    comment: str = ""


@attrs.frozen
class Block:
    """A compound statement: ``header`` is the ``ast`` node with an empty body, filled from ``body``."""

    header: ast.stmt
    body: tuple["Line | Block | Blank | Doc", ...]
    comment: str = ""


@attrs.frozen
class Blank:
    """An empty line between definitions."""


@attrs.frozen
class Doc:
    """A docstring: paragraphs separated by blank lines; lines indented by four spaces are kept as written
    (:func:`snndsl.lower.layout.docstring`)."""

    text: str


Stmt = Line | Block | Blank | Doc


def render(stmts: Sequence[Stmt], indent: int = 0) -> list[str]:
    """The source lines of ``stmts`` at nesting level ``indent`` (four spaces each), without newlines.

    A :class:`Line` is unparsed and laid out by :func:`snndsl.lower.layout.statement` (its comment after
    it, or above it when it does not fit); a :class:`Block` renders its header (decorators included) the same
    way and then its body one level deeper (``pass`` when empty); a :class:`Doc` becomes a docstring
    (:func:`snndsl.lower.layout.docstring`) and a :class:`Blank` an empty line. Every line is within
    :data:`~snndsl.lower.layout.WIDTH` characters where a statement can be broken at all.
    """
    out: list[str] = []
    col = 4 * indent
    for st in stmts:
        if isinstance(st, Blank):
            out.append("")
        elif isinstance(st, Doc):
            out.extend(layout.docstring(st.text, col))
        elif isinstance(st, Line):
            out.extend(layout.statement(ast.unparse(ast.fix_missing_locations(st.node)), col, st.comment))
        else:
            node = st.header
            node.body = [ast.Pass()]
            header = ast.unparse(ast.fix_missing_locations(node)).split("\n")
            head = [h for h in header if h.strip() != "pass"]
            out.extend(" " * col + h for h in head[:-1])      # decorators
            out.extend(layout.statement(head[-1], col, st.comment))
            body = render(st.body, indent + 1) if st.body else [" " * col + "    pass"]
            out.extend(body)
    return out


def names(stmts: Sequence[Stmt]) -> set[str]:
    """Every name the statements read (``ast.Name`` in a load context), nested blocks included."""
    out: set[str] = set()
    for st in stmts:
        if isinstance(st, (Line, Block)):
            node = st.node if isinstance(st, Line) else st.header
            out |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        if isinstance(st, Block):
            out |= names(st.body)
    return out


# ---------------------------------------------------------------- expression builders


def name(n: str) -> ast.expr:
    """The expression ``n`` (a variable read)."""
    return ast.Name(n, ast.Load())


def store(n: str) -> ast.expr:
    """The assignment target ``n``."""
    return ast.Name(n, ast.Store())


def attr(base: str | ast.expr, *fields: str, ctx=None) -> ast.expr:
    """``base.f1.f2...``: ``attr("bs", "nn", "Module")`` is ``bs.nn.Module``. ``base`` is a name or an
    expression; ``ctx`` (e.g. ``ast.Store()``) applies to the last attribute, every other one is read."""
    node = name(base) if isinstance(base, str) else base
    for i, f in enumerate(fields):
        last = i == len(fields) - 1
        node = ast.Attribute(node, f, ctx if (last and ctx is not None) else ast.Load())
    return node


def const(v: Any) -> ast.expr:
    """A literal (number, string, bool, ``None``); a negative float is emitted as ``-(abs value)``, the form
    ``ast.parse`` gives for ``-2.0``, so the emitted text parses back to the same tree."""
    if isinstance(v, float) and v < 0:
        return ast.UnaryOp(ast.USub(), ast.Constant(-v))
    return ast.Constant(v)


def call(func: ast.expr | str, *args: ast.expr, **kwargs: ast.expr) -> ast.expr:
    """``func(args..., key=value...)``; ``func`` is a name or an expression (e.g. from :func:`attr`)."""
    f = name(func) if isinstance(func, str) else func
    return ast.Call(f, list(args), [ast.keyword(k, v) for k, v in kwargs.items()])


_BIN = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "^": ast.Pow, "**": ast.Pow}


def binop(op: str, left: ast.expr, right: ast.expr) -> ast.expr:
    """``left op right`` for ``op`` in ``+ - * /`` and the power, written ``^`` (as in .snn) or ``**``."""
    return ast.BinOp(left, _BIN[op](), right)


def neg(x: ast.expr) -> ast.expr:
    """``-x``."""
    return ast.UnaryOp(ast.USub(), x)


def assign(target: str | ast.expr, value: ast.expr, comment: str = "") -> Line:
    """``target = value`` with a source comment; ``target`` is a name or a store expression."""
    t = store(target) if isinstance(target, str) else target
    return Line(ast.Assign([t], value), comment)


def set_attr(base: str, fields: Sequence[str], value: ast.expr, comment: str = "") -> Line:
    """``base.f1.f2 = value``: ``set_attr("self", ["V", "value"], x)`` is ``self.V.value = x``."""
    return Line(ast.Assign([attr(base, *fields, ctx=ast.Store())], value), comment)


def ret(value: ast.expr, comment: str = "") -> Line:
    """``return value``."""
    return Line(ast.Return(value), comment)


def expr_stmt(value: ast.expr, comment: str = "") -> Line:
    """An expression evaluated for its effect (a call such as ``super().__init__()``)."""
    return Line(ast.Expr(value), comment)


def docstring(text: str) -> Doc:
    """A docstring of ``text`` (see :class:`Doc` for its paragraphs and kept lines)."""
    return Doc(text)


def arguments(args: Sequence[str] = (), defaults: Sequence[ast.expr] = (), kwonly: Sequence[str] = (),
              kw_defaults: Sequence[ast.expr | None] = (), kwarg: str | None = None) -> ast.arguments:
    """A parameter list: positional ``args`` (the last ``len(defaults)`` of them with ``defaults``), then
    keyword-only ``kwonly`` with ``kw_defaults`` (one each, ``None`` for a required one), then ``**kwarg``.
    """
    return ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in args], vararg=None,
                         kwonlyargs=[ast.arg(a) for a in kwonly], kw_defaults=list(kw_defaults),
                         kwarg=ast.arg(kwarg) if kwarg else None, defaults=list(defaults))


def def_(fname: str, args: ast.arguments, body: Sequence[Stmt], comment: str = "") -> Block:
    """``def fname(args): body`` (no decorators, no annotations)."""
    return Block(ast.FunctionDef(fname, args, [], [], None, None, []), tuple(body), comment)


def class_(cname: str, bases: Sequence[ast.expr], body: Sequence[Stmt], comment: str = "") -> Block:
    """``class cname(bases): body``."""
    return Block(ast.ClassDef(cname, list(bases), [], [], [], []), tuple(body), comment)


def with_(ctx: ast.expr, body: Sequence[Stmt], comment: str = "") -> Block:
    """``with ctx: body`` (no ``as``), e.g. ``with bs.environ.context(dt=self.dt):``."""
    return Block(ast.With([ast.withitem(ctx, None)], [], None), tuple(body), comment)


def if_(test: ast.expr, body: Sequence[Stmt], comment: str = "") -> Block:
    """``if test: body`` (no ``else``)."""
    return Block(ast.If(test, [], []), tuple(body), comment)


def import_(module: str, alias: str | None = None) -> Line:
    """``import module`` or ``import module as alias``."""
    return Line(ast.Import([ast.alias(module, alias)]))
