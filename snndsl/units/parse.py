"""Unit spellings → :class:`~snndsl.units.core.Unit`, accepting exactly what brainunit's ``Unit(text)`` accepts.

Grammar (``/`` binds looser than ``*``, so ``a / b * c`` is ``a / (b * c)``)::

    expr     := product ('/' product)*
    product  := power (('*' | '·' | '⋅' | '×') power)*
    power    := primary ('^' exponent | SUPERSCRIPTS)?
    primary  := NUMBER | '-' NUMBER | NAME | SYMBOL | '(' expr ')'
    exponent := ['+' | '-'] NUMBER | '(' ['+' | '-'] NUMBER ['/' NUMBER] ')'

``NAME`` is a name of the table (Unicode letters allowed, ``µ``/``μ`` read as ``u``); ``SYMBOL`` a name that
is not an identifier (``km/h``, ``oz t``), matched longest first; ``10^n`` is a pure scale, another number a
factor. Unknown names and malformed text raise ``ValueError``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from snndsl.units.core import DIMENSIONLESS, TABLE, UNITLESS, Exp, Unit, anonymous, compose, norm_exp

_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_FROM_SUPERSCRIPT = str.maketrans(_SUPERSCRIPT_DIGITS + "⁻⁺", "0123456789-+")
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)"
    rf"|(?P<name>[^\W\d{_SUPERSCRIPT_DIGITS}][^\W{_SUPERSCRIPT_DIGITS}]*)"
    r"|(?P<op>[*·⋅×/^()+-])"
)
_NAME_RE = re.compile(rf"[^\W\d{_SUPERSCRIPT_DIGITS}][^\W{_SUPERSCRIPT_DIGITS}]*")
_MUL_OPS = frozenset("*·⋅×")


@lru_cache(maxsize=1)
def _specials() -> tuple[str, ...]:
    """Names that are not identifiers (``km/h``, ``oz t``, ``°``), longest first."""
    keys = [k for k in TABLE.names if _NAME_RE.fullmatch(k) is None and set("^*()").isdisjoint(k)
            and " / " not in k and not k[:1].isdigit()]
    return tuple(sorted(keys, key=lambda k: (-len(k), k)))


def _lookup(name: str) -> Unit | None:
    unit = TABLE.names.get(name)
    if unit is None and name[:1] in ("µ", "μ"):
        unit = TABLE.names.get("u" + name[1:])
    return unit


def _tokenize(s: str) -> list[tuple[str, str]]:
    tokens, pos, n = [], 0, len(s)
    while pos < n:
        for sym in _specials():
            end = pos + len(sym)
            if s.startswith(sym, pos) and (end == n or _NAME_RE.match(s[end]) is None):
                tokens.append(("name", sym))
                pos = end
                break
        else:
            m = _TOKEN_RE.match(s, pos)
            if m is None:
                raise ValueError(f"Unexpected character {s[pos]!r} in unit string {s!r}.")
            if m.lastgroup != "ws":
                tokens.append((m.lastgroup, m.group()))
            pos = m.end()
    return tokens


class _Parser:
    def __init__(self, s: str, tokens: list[tuple[str, str]]):
        self.s, self.tokens, self.i = s, tokens, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ValueError(f"Unexpected end of unit string {self.s!r}.")
        self.i += 1
        return tok

    def expect(self, value: str) -> None:
        if self.take()[1] != value:
            raise ValueError(f"Expected {value!r} in unit string {self.s!r}.")

    def at_op(self, values) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] in values

    def parse(self) -> Unit:
        result = self.expr()
        if self.peek() is not None:
            raise ValueError(f"Unexpected token {self.peek()[1]!r} in unit string {self.s!r}.")
        return result

    def expr(self) -> Unit:
        result = self.product()
        while self.at_op("/"):
            self.take()
            result = compose(result, 1, self.product(), -1)
        return result

    def product(self) -> Unit:
        result = self.power()
        while self.at_op(_MUL_OPS):
            self.take()
            result = compose(result, 1, self.power(), 1)
        return result

    def power(self) -> Unit:
        value = self.primary()
        exp: Exp = 1
        has_exp = True
        tok = self.peek()
        if tok is not None and tok[0] == "sup":
            self.take()
            exp = _number_exp(tok[1].translate(_FROM_SUPERSCRIPT))
        elif self.at_op("^"):
            self.take()
            exp = self.exponent()
        else:
            has_exp = False
        if not isinstance(value, str):
            return value if exp == 1 else value ** exp
        number = float(value)
        if number == 10. and has_exp:
            return _checked(DIMENSIONLESS, exp if type(exp) is int else float(exp), 1.0)
        try:
            factor = number if exp == 1 else number ** (exp if type(exp) is int else float(exp))
        except OverflowError:
            raise ValueError(f"unit factor {number} ** {exp} overflows the float range") from None
        return _checked(DIMENSIONLESS, 0, factor)

    def primary(self) -> Unit | str:
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "op" and value in "+-":
            kind, number = self.take()
            if kind != "num":
                raise ValueError(f"Expected a number after {value!r} in unit string {self.s!r}.")
            return value + number
        if kind == "name":
            unit = _lookup(value)
            if unit is None:
                raise ValueError(f"Unknown unit: {value!r} in {self.s!r}.")
            return unit
        if kind == "op" and value == "(":
            if self.at_op(")"):
                raise ValueError(f"Empty parenthesised group in {self.s!r}.")
            inner = self.expr()
            self.expect(")")
            return inner
        raise ValueError(f"Unexpected token {value!r} in unit string {self.s!r}.")

    def _signed_number(self) -> str:
        sign = self.take()[1] if self.at_op("+-") else ""
        kind, value = self.take()
        if kind != "num":
            raise ValueError(f"Invalid exponent {value!r} in unit string {self.s!r}.")
        return sign + value

    def exponent(self) -> Exp:
        if not self.at_op("("):
            return _number_exp(self._signed_number())
        self.take()
        num = self._signed_number()
        if self.at_op("/"):
            self.take()
            den = self._signed_number()
            self.expect(")")
            try:
                return norm_exp(Fraction(int(num), int(den)))
            except (ValueError, ZeroDivisionError):
                raise ValueError(f"Invalid exponent ({num}/{den}) in unit string {self.s!r}.") from None
        self.expect(")")
        return _number_exp(num)


def _number_exp(text: str) -> Exp:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return norm_exp(float(text))
    except ValueError:
        raise ValueError(f"Invalid exponent {text!r} in unit string.") from None


def _checked(dim: tuple, scale, factor: float) -> Unit:
    """An anonymous dimensionless unit, refusing what brainunit refuses (non-finite, factor <= 0)."""
    if not (abs(float(scale)) < float("inf") and abs(factor) < float("inf")) or factor <= 0:
        raise ValueError(f"invalid unit scale {scale!r} or factor {factor!r}")
    return anonymous(dim, scale, factor)


def parse_unit(s: str) -> Unit:
    """The unit spelled ``s`` (``mV``, ``nS/mm^2``, ``mS*cm^-2``, ``1 / (mM * ms)``, ``Unit("mV")``); raises
    ``ValueError`` where brainunit does."""
    s = s.strip()
    if (s.startswith('Unit("') and s.endswith('")')) or (s.startswith("Unit('") and s.endswith("')")):
        s = s[6:-2]
    if not s:
        raise ValueError("Cannot parse an empty unit string.")
    if s == "1":
        return UNITLESS
    unit = TABLE.names.get(s)
    if unit is None:
        s = " ".join(s.split())
        unit = TABLE.names.get(s)
    if unit is not None:
        return unit
    s = s.replace("Ω", "Ω")
    return _Parser(s, _tokenize(s)).parse()


Unit.parse = parse_unit
