"""Constructors for :mod:`snndsl.syntax.ast` nodes, as the NIR import writes its ``.snn`` file.

Nodes are built with a placeholder span (:data:`NOWHERE`); :mod:`snndsl.nir.layout` gives the statements and
items the positions the printer needs. Numbers are written as the shortest decimal that is the same float32
(what the compiled model computes in), negative ones as a unary minus (``-0.2`` parses as ``-(0.2)``), and a
unit text from :func:`snndsl.ir.show_unit` (``mV``, ``1/uA``, ``1 nA^-1``, ``mV/(ms*nA)``) becomes the node
that reads back as the same unit: a glued quantity (``5 ms``) where the language allows one, else an
expression (``3e-06 / nA``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from snndsl import ir
from snndsl.nir.errors import NirImportError
from snndsl.source import SourceFile
from snndsl.syntax import ast

#: The span of every node built here until :mod:`snndsl.nir.layout` places it.
NOWHERE = SourceFile("<nir import>", "").span(0, 0)
#: A unit the grammar glues to a number as one QUANTITY token (no spaces, no parentheses, no leading 1).
_GLUED = re.compile(r"[A-Za-z_]\w*(?:\^-?\d+)?(?:[*/][A-Za-z_]\w*(?:\^-?\d+)?)*")
_UNIT_TOKEN = re.compile(r"\s*(?:([A-Za-z_]\w*)|(\d+)|(\^-?\d+)|([*/()]))")


def ident(name: str) -> ast.Ident:
    """An identifier (a declared name, a model or function name, a keyword argument's name)."""
    return ast.Ident(name, span=NOWHERE)


def name(text: str) -> ast.Name:
    """A name in an expression (a parameter, a state, a unit such as ``second``)."""
    return ast.Name(ident(text), span=NOWHERE)


def binop(op: str, left: ast.Expr, right: ast.Expr) -> ast.BinOp:
    """``left op right`` (``+ - * / ^``); the printer adds the parentheses the precedence needs."""
    return ast.BinOp(op, left, right, span=NOWHERE)


def arg(value: ast.Expr, key: str | None = None, trainable: bool = False) -> ast.Arg:
    """A call argument ``[trainable] [key =] value``."""
    return ast.Arg(value, ident(key) if key is not None else None, trainable, span=NOWHERE)


def call(func: str, *args: ast.Arg) -> ast.Call:
    """``func(args...)``: a model, connectivity, initialiser or surrogate call."""
    return ast.Call(ident(func), tuple(args), span=NOWHERE)


def decimal(x: float) -> str:
    """The shortest decimal that is the same float32 (what the compiled model computes in)."""
    x = np.float32(x)
    if x != 0 and not 1e-4 <= abs(x) < 1e7:
        return np.format_float_scientific(x, trim="-")
    return np.format_float_positional(x, trim="-")


def number(x: float) -> ast.Expr:
    """``x`` as a literal: ``0.5``, ``1e-05``, ``-0.2`` (a minus applied to ``0.2``)."""
    text = decimal(x)
    if text.startswith("-"):
        return ast.Neg(ast.Number(text[1:], span=NOWHERE), span=NOWHERE)
    return ast.Number(text, span=NOWHERE)


def integer(n: int) -> ast.Number:
    """A whole number literal (sizes, ``0``, ``1``)."""
    return ast.Number(str(int(n)), span=NOWHERE)


def quantity(x: float, unit: Any) -> ast.Expr:
    """``x`` in ``unit`` (a brainunit unit or its text): ``5 ms``, ``0.7`` (dimensionless), ``3e-06 / nA``."""
    text = unit if isinstance(unit, str) else ir.show_unit(unit)
    value = number(x)
    if text == "1":
        return value
    if not _GLUED.fullmatch(text):
        return _scaled(value, unit_expr(text))
    if isinstance(value, ast.Neg):
        return ast.Neg(ast.Quantity(value.operand.text, text, span=NOWHERE), span=NOWHERE)
    return ast.Quantity(value.text, text, span=NOWHERE)


def _scaled(value: ast.Expr, unit: ast.Expr) -> ast.Expr:
    """``value * unit``, folding a leading ``1`` of the unit into the value (``1/nA`` → ``value / nA``)."""
    if isinstance(unit, ast.Number) and unit.text == "1":
        return value
    if isinstance(unit, ast.BinOp) and unit.op in "*/":
        return binop(unit.op, _scaled(value, unit.left), unit.right)
    return binop("*", value, unit)


# ---------------------------------------------------------------- units from their text


def _unit_tree(text: str) -> Any:
    """Parse a unit text into nested tuples: ``("name", n)``, ``("one",)``, ``("pow", n, k)``,
    ``(op, left, right)``; products and quotients associate to the left, as in the grammar."""
    tokens: list[str] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _UNIT_TOKEN.match(text, pos)
        if m is None:
            raise NirImportError(f"cannot write the unit {text!r}")
        tokens.append(m.group(0).strip())
        pos = m.end()
    tokens.reverse()

    def term() -> Any:
        """One factor: a parenthesised product, ``1``, a name, or a name with a ``^k`` exponent."""
        tok = tokens.pop() if tokens else ")"
        if tok == "(":
            inner = product()
            if not tokens or tokens.pop() != ")":
                raise NirImportError(f"cannot write the unit {text!r}")
            return inner
        if tok == "1":
            return ("one",)
        if not re.fullmatch(r"[A-Za-z_]\w*", tok):
            raise NirImportError(f"cannot write the unit {text!r}")
        if tokens and tokens[-1].startswith("^"):
            return ("pow", tok, int(tokens.pop()[1:]))
        return ("name", tok)

    def product() -> Any:
        """Factors joined by ``*`` and ``/`` (a space multiplies), left-associative, up to ``)`` or the end."""
        left = term()
        while tokens and tokens[-1] != ")":
            op = tokens.pop() if tokens[-1] in ("*", "/") else "*"     # `1 nA^-1`: a space multiplies
            left = (op, left, term())
        return left

    tree = product()
    if tokens:
        raise NirImportError(f"cannot write the unit {text!r}")
    return tree


def unit_type(unit: Any) -> ast.Unit:
    """A unit in type position (``param tau: ms``, ``input c: current[3] uA``, ``1/ms``)."""
    def build(t) -> ast.Unit:
        if t[0] == "one":
            return ast.UnitOne(span=NOWHERE)
        if t[0] == "name":
            return ast.UnitName(ident(t[1]), span=NOWHERE)
        if t[0] == "pow":
            return ast.UnitPow(ident(t[1]), t[2], span=NOWHERE)
        return ast.UnitOp(t[0], build(t[1]), build(t[2]), span=NOWHERE)
    return build(_unit_tree(unit if isinstance(unit, str) else ir.show_unit(unit)))


def unit_expr(unit: Any) -> ast.Expr:
    """A unit as an expression (``zeros(mA)``, ``zeros(1/uA)``, ``nA^-1``)."""
    def build(t) -> ast.Expr:
        if t[0] == "one":
            return integer(1)
        if t[0] == "name":
            return name(t[1])
        if t[0] == "pow":
            k = integer(abs(t[2]))
            return binop("^", name(t[1]), ast.Neg(k, span=NOWHERE) if t[2] < 0 else k)
        return binop(t[0], build(t[1]), build(t[2]))
    return build(_unit_tree(unit if isinstance(unit, str) else ir.show_unit(unit)))


# ---------------------------------------------------------------- calls written by snndsl's export


_CALL = re.compile(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*", re.S)
_SETTING = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*(-?)(\d+\.?\d*(?:[eE][+-]?\d+)?)\s*(.*?)\s*")


def spec_call(text: str) -> ast.Call:
    """A call such as ``sigmoid(alpha = 2.0)`` as written by :func:`snndsl.nir.recognise.surrogate_text`
    (keyword arguments, each a number with an optional unit); anything else raises :class:`NirImportError`."""
    m = _CALL.fullmatch(text)
    if m is None:
        raise NirImportError(f"cannot read the call {text!r} in the graph's metadata")
    args = []
    for part in filter(str.strip, m.group(2).split(",")):
        s = _SETTING.fullmatch(part)
        if s is None:
            raise NirImportError(f"cannot read the argument {part.strip()!r} of {text!r} in the graph's metadata")
        key, sign, digits, unit = s.groups()
        value: ast.Expr = ast.Number(digits, span=NOWHERE)
        if unit and not _GLUED.fullmatch(unit):
            value = _scaled(ast.Neg(value, span=NOWHERE) if sign else value, unit_expr(unit))
        else:
            value = ast.Quantity(digits, unit, span=NOWHERE) if unit else value
            value = ast.Neg(value, span=NOWHERE) if sign else value
        args.append(arg(value, key))
    return call(m.group(1), *args)
