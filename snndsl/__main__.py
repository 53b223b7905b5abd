"""``python -m snndsl``: the ``snndsl`` command (:func:`snndsl.cli.entry`); exits with its code."""

from snndsl.cli import entry

entry()
