"""`python -m egressguard`."""

from egressguard.cli.main import run

raise SystemExit(run())
