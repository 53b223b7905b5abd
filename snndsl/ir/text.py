"""IR trees as text: :func:`dump`, the stable format of the golden IR files, and :func:`show_expr`, an
expression as ``.snn`` text that parses back to the same tree (the equations in emitted model docstrings).

Single values and units have their own printers in :mod:`snndsl.ir` (:func:`~snndsl.ir.show_value`,
:func:`~snndsl.ir.show_unit`), which messages use without importing this module.
"""

from __future__ import annotations

from typing import Any

import attrs

from snndsl import units as u
from snndsl.ir import BinOp, Const, Field, Func, Neg, Ref, show_value

_EXPRS = (Const, Ref, BinOp, Neg, Func, Field)


def _empty(v: Any) -> bool:
    """Whether a field value is left out of a dump: ``None``, an empty tuple or an empty string."""
    return v is None or (isinstance(v, (tuple, str)) and not v)


def dump(obj: Any, indent: int = 0) -> str:
    """Stable, readable text of an IR value: the golden IR format (``tests/golden/ir``).

    An attrs node becomes its class name and one ``field: value`` line per field, nested nodes indented
    by two spaces per level (``indent`` is the starting level); spans, fields excluded from equality (such
    as ``broken`` and the ``*_span`` fields) and empty fields (``None``, ``()``, ``""``) are left out.
    Expressions are written as ``.snn`` text (:func:`show_expr`), ``(name, value)`` pairs as
    ``name = value``, other tuples as ``-`` lists, and constants with :func:`snndsl.ir.show_value`.
    """
    pad = "  " * indent
    if isinstance(obj, _EXPRS):
        return pad + show_expr(obj)
    if attrs.has(type(obj)):
        lines = [pad + type(obj).__name__]
        for f in attrs.fields(type(obj)):
            v = getattr(obj, f.name)
            if not f.eq or _empty(v):
                continue
            body = dump(v, indent + 2)
            if "\n" in body or (attrs.has(type(v)) and not isinstance(v, _EXPRS)):
                lines.append(f"{pad}  {f.name}:\n{body}")
            else:
                lines.append(f"{pad}  {f.name}: {body.strip()}")
        return "\n".join(lines)
    if isinstance(obj, tuple):
        if len(obj) == 2 and isinstance(obj[0], str):
            body = dump(obj[1], indent + 1)
            return f"{pad}{obj[0]} = {body.strip()}" if "\n" not in body else f"{pad}{obj[0]} =\n{body}"
        return "\n".join(f"{pad}- {dump(v, indent + 1).strip()}" if "\n" not in dump(v, indent + 1)
                         else f"{pad}-\n{dump(v, indent + 1)}" for v in obj)
    return pad + show_value(obj)
# Binding strength, loosest first, as in grammars/snn.lark: sum (``+ -``, left-associative) < product
# (``* /``, left-associative) < unary minus < power < atom. The grammar's power rule is ``atom "^" unary``: the
# base must be an atom (``-a ^ b`` is ``-(a ^ b)``, ``a ^ b ^ c`` is ``a ^ (b ^ c)``) and the exponent may carry
# its own sign (``a ^ -b``).
_SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 6)
_PREC = {"+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT, "^": _POWER}


def _prec(e: Any) -> int:
    """How tightly ``e`` binds as printed: its operator's strength, unary for a minus sign (a ``Neg`` or a
    negative constant), atom for everything else."""
    if isinstance(e, BinOp):
        return _PREC[e.op]
    if isinstance(e, Neg) or (isinstance(e, Const) and show_value(e.value).startswith("-")):
        return _UNARY
    return _ATOM


def show_expr(e: Any, parent: int = _SUM) -> str:
    """An IR expression as .snn text that parses (and resolves) back to the same tree.

    Parentheses are the fewest the grammar needs, plus a few for the reader: an operand of a unary minus that
    is a power or itself signed (``-(a ^ b)``, ``-(-a)``), a power in an exponent (``a ^ (b ^ c)``) and a
    quantity as the base of a power (``(2.0 ms) ^ 2``). A negative constant is printed with its sign and
    treated like a unary minus (``(-2.0) ^ x``; it reads back as ``Neg(2.0)``: the language has no negative
    literals). ``parent`` is the binding strength the context needs; a looser expression is parenthesised.
    """
    text = _show_expr(e)
    return f"({text})" if _prec(e) < parent else text


def _show_expr(e: Any) -> str:
    """The text of ``e`` without outer parentheses; operands get theirs from :func:`show_expr`."""
    if isinstance(e, Const):
        return show_value(e.value)
    if isinstance(e, Ref):
        return e.name
    if isinstance(e, Field):
        return f"{e.pop}.{e.var}"
    if isinstance(e, Neg):
        return "-" + show_expr(e.operand, _ATOM)
    if isinstance(e, Func):
        return f"{e.name}(" + ", ".join(show_expr(a) for a in e.args) + ")"
    if isinstance(e, BinOp):
        if e.op == "^":
            base = show_expr(e.left, _ATOM)
            if isinstance(e.left, Const) and isinstance(e.left.value, u.Quantity) and base[0] != "(":
                base = f"({base})"
            exponent = show_expr(e.right, _UNARY if _prec(e.right) == _UNARY else _ATOM)
            return f"{base} ^ {exponent}"
        p = _PREC[e.op]
        # Left-associative: the left operand may bind as loosely as the operator, the right one must bind tighter.
        return f"{show_expr(e.left, p)} {e.op} {show_expr(e.right, p + 1)}"
    return show_value(e)
