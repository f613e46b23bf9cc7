"""Scan history: every scan's findings by fingerprint, and the trend since the last run.

A backend (SQLite now, PostgreSQL in issue 7) stores `ScanRecord`s; `trend()` is pure and
compares two of them: new, fixed and still-open findings by fingerprint (fingerprints carry
no line numbers, so a moved finding stays the same finding).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from egressguard.model import ScanResult


@dataclass(frozen=True, slots=True)
class FindingRow:
    fingerprint: str
    rule: str
    severity: str
    file: str
    provider: str = ""


@dataclass(frozen=True, slots=True)
class ScanRecord:
    id: int  # 0 until stored
    target: str  # what was scanned: a store's name, or its roots
    source: str  # "audit" | "crawl" | "har" | "logs" | "merge"
    started_at: str  # ISO 8601, UTC
    tool_version: str
    findings: tuple[FindingRow, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    previous: ScanRecord | None
    current: ScanRecord
    new: tuple[FindingRow, ...]
    fixed: tuple[FindingRow, ...]
    still_open: tuple[FindingRow, ...]


class HistoryStore(Protocol):
    def add(self, record: ScanRecord) -> ScanRecord:
        """Store a scan; return it with its id."""
        ...

    def scans(self, target: str) -> Sequence[ScanRecord]:
        """The target's scans, oldest first."""
        ...

    def targets(self) -> Sequence[str]: ...

    def close(self) -> None: ...


def record_of(result: ScanResult, target: str, source: str, started_at: str) -> ScanRecord:
    rows = {
        f.fingerprint: FindingRow(f.fingerprint, f.rule, f.severity.value, f.file, f.provider or "")
        for f in result.findings
    }
    return ScanRecord(
        0, target, source, started_at, result.tool.version, tuple(sorted(rows.values(), key=_k))
    )


def trend(previous: ScanRecord | None, current: ScanRecord) -> Trend:
    before = {f.fingerprint: f for f in previous.findings} if previous else {}
    now = {f.fingerprint: f for f in current.findings}
    return Trend(
        previous,
        current,
        new=tuple(sorted((f for k, f in now.items() if k not in before), key=_k)),
        fixed=tuple(sorted((f for k, f in before.items() if k not in now), key=_k)),
        still_open=tuple(sorted((f for k, f in now.items() if k in before), key=_k)),
    )


def latest_trend(store: HistoryStore, target: str) -> Trend | None:
    """The trend of the target's last scan against the one before it (None: no scans)."""
    scans = store.scans(target)
    if not scans:
        return None
    return trend(scans[-2] if len(scans) > 1 else None, scans[-1])


def _k(row: FindingRow) -> tuple[str, str, str]:
    return (row.rule, row.file, row.fingerprint)


def is_database_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def display_location(location: str) -> str:
    """A history location fit for messages: a database URL without its password."""
    if not is_database_url(location):
        return location
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def open_history(location: str) -> HistoryStore:
    """A `postgresql://` URL opens the PostgreSQL history; anything else is a SQLite file."""
    if is_database_url(location):
        from egressguard.store.history_postgres import PostgresHistory

        return PostgresHistory(location)
    from pathlib import Path

    from egressguard.store.history_sqlite import SqliteHistory

    return SqliteHistory(Path(location))
