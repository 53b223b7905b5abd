"""Diagnostics as data, and the one renderer.

A :class:`Diagnostic` is ``(code, message, span, hint, severity)``. Front-end phases collect them in a
:class:`Diagnostics` and raise them together as one :class:`SnnError`; :meth:`Diagnostic.render` is the only
place their text form is made::

    model.snn:7:12: error[SNN301]: dV/dt has unit mA/ms, but V changes in mV/ms
        dV/dt = I / tau
                ^~~~~~~
    hint: multiply the current by a resistance
"""

from __future__ import annotations

import difflib
from typing import Iterable

import attrs

from snndsl.source import Span, visible

#: Every diagnostic code with its one-line title. docs/errors.md documents each, and a test keeps the two in step.
CODES: dict[str, str] = {
    # 0xx: files and imports
    "SNN001": "file or import not found",
    "SNN002": "import cycle",
    "SNN003": "file is not valid UTF-8 text",
    "SNN004": "import is not a regular .snn file",
    "SNN005": "file too large",
    # 1xx: syntax
    "SNN101": "unexpected token",
    "SNN102": "unexpected character",
    "SNN103": "file ended unexpectedly",
    "SNN104": "invalid number",
    "SNN105": "nesting too deep",
    # 2xx: names and arguments
    "SNN201": "undefined name",
    "SNN202": "duplicate definition",
    "SNN203": "unknown argument",
    "SNN204": "missing or extra argument",
    "SNN205": "unknown surrogate",
    "SNN206": "unknown initialiser",
    "SNN207": "unknown loss or reduction",
    "SNN208": "unknown optimizer",
    "SNN209": "unknown unit",
    "SNN210": "name shadows a unit",
    "SNN211": "unknown model",
    "SNN212": "unknown connectivity",
    "SNN213": "unknown or duplicate setting",
    "SNN214": "unknown loop policy",
    "SNN215": "unknown integration method",
    "SNN216": "unknown data source",
    "SNN217": "unknown encoder or input kind",
    "SNN218": "unknown function",
    "SNN219": "wrong kind of name",
    "SNN220": "incomplete model",
    "SNN221": "reserved identifier",
    "SNN222": "unknown synaptic output",
    "SNN230": "bad population choice",
    "SNN231": "bool and number mixed",
    # 27x: arrays and precision
    "SNN270": "array not allowed here",
    "SNN271": "array items do not fit together",
    "SNN272": "per-neuron array has the wrong shape",
    "SNN273": "weight or bias array has the wrong shape",
    "SNN274": "array file cannot be read",
    "SNN275": "array file has no such key",
    "SNN276": "array file holds non-finite numbers",
    "SNN277": "array file does not hold real numbers",
    "SNN278": "weight matrix on a connectivity that draws its pairs",
    "SNN279": "unknown or repeated precision",
    # 26x: noise, stimuli and spike detection (standard library additions)
    "SNN260": "noise term has the wrong unit",
    "SNN261": "noise outside an ODE",
    "SNN262": "noise enters non-linearly",
    "SNN263": "threshold crossing with a reset",
    # 24x: plasticity
    "SNN240": "a spike handler changes what it cannot",
    "SNN241": "a plasticity expression reads a state its scope cannot see",
    "SNN242": "misplaced transmit",
    "SNN243": "the weight w is not per connection",
    "SNN244": "unit mismatch in a plasticity model",
    "SNN245": "weight bounds in the wrong unit",
    "SNN246": "plasticity on a projection it cannot work on",
    "SNN247": "not a plasticity model",
    # 3xx: units
    "SNN301": "derivative has the wrong unit",
    "SNN302": "incompatible units",
    "SNN303": "comparison of unlike quantities",
    "SNN304": "function needs a dimensionless argument",
    "SNN305": "value has the wrong unit",
    "SNN306": "reset or update has the wrong unit",
    "SNN307": "projection delivers the wrong unit",
    "SNN308": "exponent must be a dimensionless number",
    "SNN309": "method exact needs a linear equation",
    # 4xx: network graph
    "SNN401": "bad projection endpoint",
    "SNN402": "size mismatch",
    "SNN403": "zero-delay cycle",
    "SNN404": "output is not driven",
    "SNN405": "unused population",
    "SNN406": "network has no output",
    # 5xx: values
    "SNN501": "time constant must be positive",
    "SNN502": "dt must be positive",
    "SNN503": "probability outside [0, 1]",
    "SNN504": "size must be a positive integer",
    "SNN505": "delay is not a multiple of dt",
    "SNN506": "value must be finite",
    "SNN507": "value out of range",
    "SNN508": "network too large",
    # 6xx: training
    "SNN601": "train block names no network",
    "SNN602": "missing training setting",
    "SNN603": "invalid training setting",
    "SNN604": "the loop policy cannot train this model",
    "SNN605": "loss does not fit the data",
    "SNN606": "loss term is not a number",
    "SNN701": "not expressible in NIR",
}

ERROR = "error"
WARNING = "warning"


@attrs.frozen
class Diagnostic:
    """One finding about a model: a stable ``code``, a ``message`` in the user's terms, the ``span`` of the
    culprit (``None`` only for whole-file problems), an optional ``hint`` and a ``severity``."""

    code: str = attrs.field(validator=attrs.validators.in_(CODES))
    message: str
    span: Span | None = attrs.field(default=None, eq=False)
    hint: str | None = None
    severity: str = attrs.field(default=ERROR, validator=attrs.validators.in_((ERROR, WARNING)))
    path: str = attrs.field(default="<input>", eq=False)

    @property
    def line(self) -> int:
        """The 1-based line of the culprit's start; 1 when there is no span."""
        return self.span.line if self.span else 1

    @property
    def column(self) -> int:
        """The 1-based column of the culprit's start; 1 when there is no span."""
        return self.span.column if self.span else 1

    @property
    def file(self) -> str:
        """The path the culprit's source is reported under; :attr:`path` when there is no span."""
        return self.span.source.path if self.span else self.path

    def render(self) -> str:
        """``file:LINE:COL: severity[CODE]: message``, the source line, a caret line, then ``hint:``; text
        from the model or its path is shown escaped where a terminal would act on it
        (:func:`snndsl.source.visible`)."""
        out = [f"{visible(self.file)}:{self.line}:{self.column}: {self.severity}[{self.code}]: "
               f"{visible(self.message)}"]
        if self.span is not None:
            out.extend("    " + ln for ln in self.span.excerpt().split("\n"))
        if self.hint:
            out.append(f"hint: {visible(self.hint)}")
        return "\n".join(out)

    def to_json(self) -> dict:
        """The diagnostic as plain data, with 1-based positions and a 0-based LSP ``range``.

        Keys: ``file``, ``line``, ``column``, ``end_line``, ``end_column`` (1-based; 1 without a span),
        ``severity``, ``code``, ``message``, ``hint`` (``None`` without one) and, with a span, ``range``
        (``{"start": {"line", "character"}, "end": ...}``, 0-based, as the Language Server Protocol has it).
        This is what ``snndsl check --format json`` prints.
        """
        d = {
            "file": self.file, "line": self.line, "column": self.column,
            "end_line": self.span.end_line if self.span else 1,
            "end_column": self.span.end_column if self.span else 1,
            "severity": self.severity, "code": self.code, "message": self.message, "hint": self.hint,
        }
        if self.span is not None:
            d["range"] = self.span.lsp_range()
        return d


class SnnError(Exception):
    """A model is invalid: one or more error diagnostics (warnings may ride along)."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__(self.render())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The error diagnostics only (warnings left out), in report order."""
        return tuple(d for d in self.diagnostics if d.severity == ERROR)

    @property
    def codes(self) -> list[str]:
        """The error codes, in report order (handy in tests)."""
        return [d.code for d in self.errors]

    def render(self) -> str:
        """Every diagnostic (warnings too) rendered with :meth:`Diagnostic.render`, one after another; the
        exception's ``str``."""
        return "\n".join(d.render() for d in self.diagnostics)


class Diagnostics:
    """Collects diagnostics during a phase; :meth:`raise_if_errors` ends the phase."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record an error. ``code`` must be a key of :data:`CODES` (else attrs raises ``ValueError``)."""
        self.items.append(Diagnostic(code, message, span, hint))

    def warning(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        """Record a warning: reported, but it never makes :meth:`raise_if_errors` raise on its own."""
        self.items.append(Diagnostic(code, message, span, hint, WARNING))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        """Record diagnostics made elsewhere (e.g. those of a caught :class:`SnnError`), in their order."""
        self.items.extend(items)

    @property
    def has_errors(self) -> bool:
        """Whether any recorded diagnostic is an error."""
        return any(d.severity == ERROR for d in self.items)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The recorded warnings, in the order they were recorded."""
        return tuple(d for d in self.items if d.severity == WARNING)

    def raise_if_errors(self) -> None:
        """Raise :class:`SnnError` if any error was recorded; otherwise do nothing.

        The exception carries every recorded diagnostic, warnings included, sorted by file, line, column and
        code, with exact repeats (same code, message and position) kept once.
        """
        if self.has_errors:
            seen, unique = set(), []
            for d in sorted(self.items, key=_order):
                key = (d.code, d.message, d.file, d.line, d.column)
                if key not in seen:
                    seen.add(key)
                    unique.append(d)
            raise SnnError(unique)


def _order(d: Diagnostic) -> tuple:
    return (d.file, d.line, d.column, d.code)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint ``did you mean `x`?`` naming the closest candidate, or ``None`` when nothing is close.

    A candidate differing from ``name`` only in letter case wins; otherwise the best
    :func:`difflib.get_close_matches` match with a similarity ratio of at least 0.6.
    """
    pool = sorted(set(candidates))
    same_letters = [c for c in pool if c.lower() == name.lower() and c != name]
    match = same_letters or difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return f"did you mean `{match[0]}`?" if match else None


def one_of(candidates: Iterable[str]) -> str:
    """``valid names are: a, b, c`` (sorted, duplicates removed), for hints listing every registry entry."""
    return "valid names are: " + ", ".join(sorted(set(candidates)))
