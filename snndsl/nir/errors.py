"""The two ways NIR interop fails: a construct of the model has no NIR counterpart (export), or the graph uses
something snndsl cannot represent (import)."""

from __future__ import annotations


class NotExpressible(Exception):
    """A construct with no NIR counterpart; the message says what, the caller adds where (SNN701)."""


class NirImportError(Exception):
    """The graph uses something snndsl cannot represent, or is malformed."""
