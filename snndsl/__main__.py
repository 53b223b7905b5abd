from snndsl.cli import main

raise SystemExit(main())
