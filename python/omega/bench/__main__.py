"""`python -m omega.bench`: see omega.bench.cli."""

from omega.bench.cli import main

raise SystemExit(main())
