"""``python -m snndsl``: the ``snndsl`` command (:func:`snndsl.cli.main`); exits with its code."""

from snndsl.cli import main

raise SystemExit(main())
