"""Command-line entry point (the only module that prints, reads argv/env and exits)."""

from __future__ import annotations


def run(argv: list[str] | None = None) -> int:
    """Entry point of the `egressguard` console script."""
    return 2
