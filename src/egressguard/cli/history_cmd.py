"""Scan history in the CLI: record each scan and show the trend (`egressguard history`).

Where the history lives, first match wins: `--no-history` (nowhere), `--history FILE|URL`,
`database = "postgresql://…"` in .egressguard.toml, `history = false | "FILE"` there, else
`history.sqlite` in the state directory: `$EGRESSGUARD_STATE_DIR`,
`$XDG_STATE_HOME/egressguard`, `~/.local/state/egressguard`.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egressguard.cli.outputs import EXIT_OK, err
from egressguard.config import AuditSettings
from egressguard.errors import HistoryError
from egressguard.model import ScanResult

HISTORY_FILE = "history.sqlite"


def add_history_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--history", metavar="FILE|URL", help="scan history: SQLite file or postgresql:// URL"
    )
    p.add_argument("--no-history", action="store_true", help="do not record this scan")
    p.add_argument("--target", help="name of what is scanned in the history (default: paths)")


def add_parsers(sub: Any) -> None:
    show = sub.add_parser("history", help="recorded scans and the trend since the last one")
    show.add_argument(
        "--history", metavar="FILE|URL", help="scan history: SQLite file or postgresql:// URL"
    )
    show.add_argument("--target", help="one target's scans (default: list the targets)")
    show.set_defaults(handler=_show)


def state_dir() -> Path:
    explicit = os.environ.get("EGRESSGUARD_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "egressguard"


def history_path(args: argparse.Namespace, settings: AuditSettings) -> str | None:
    """Where to record scans: a SQLite file path or a postgresql:// URL (None: nowhere)."""
    if getattr(args, "no_history", False):
        return None
    if getattr(args, "history", None) is not None:
        return str(args.history)
    if settings.database:
        return settings.database
    if settings.history is False:
        return None
    if isinstance(settings.history, str):
        config_dir = Path(settings.source).parent if settings.source != "defaults" else Path()
        return str(config_dir / settings.history)
    return default_location()


def default_location() -> str:
    return str(state_dir() / HISTORY_FILE)


def record_scan(
    args: argparse.Namespace, settings: AuditSettings, result: ScanResult, source: str
) -> None:
    """Store the scan and say, on stderr, what changed since the target's previous scan."""
    path = history_path(args, settings)
    if path is None:
        return
    target = args.target or " + ".join(str(Path(p).resolve()) for p in args.paths)
    try:
        trend = record(path, target, result, source)
    except HistoryError as exc:  # the reports are written: a history problem is not a failed audit
        err(f"egressguard: warning: scan not recorded in the history: {exc}")
        return
    if trend is None:
        from egressguard.store.history import display_location

        where = display_location(path)
        err(f"egressguard: history: first scan of this target recorded in {where}")
        return
    new, fixed, still_open, since = trend
    err(
        f"egressguard: history: {new} new, {fixed} fixed, "
        f"{still_open} still open since the scan of {since}"
    )


def record(
    path: str, target: str, result: ScanResult, source: str
) -> tuple[int, int, int, str] | None:
    """Store one scan; (new, fixed, still open, previous scan's time), None for a first scan."""
    from egressguard.store.history import open_history, record_of, trend

    started = datetime.now(UTC).replace(microsecond=0).isoformat()
    store = open_history(path)
    try:
        previous = store.scans(target)
        current = store.add(record_of(result, target, source, started))
    finally:
        store.close()
    if not previous:
        return None
    t = trend(previous[-1], current)
    return len(t.new), len(t.fixed), len(t.still_open), previous[-1].started_at


def _show(args: argparse.Namespace) -> int:
    from egressguard.store.history import open_history, trend

    store = open_history(args.history or default_location())
    try:
        if args.target is None:
            for target in store.targets():
                print(target)
            return EXIT_OK
        scans = store.scans(args.target)
    finally:
        store.close()
    previous = None
    for scan in scans:
        t = trend(previous, scan)
        print(
            f"#{scan.id} {scan.started_at} {scan.source} {len(scan.findings)} finding(s): "
            f"{len(t.new)} new, {len(t.fixed)} fixed, {len(t.still_open)} still open"
        )
        previous = scan
    return EXIT_OK
