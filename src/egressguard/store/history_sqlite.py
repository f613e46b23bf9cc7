"""Scan history on SQLite (the default; one file under the state directory)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from egressguard.errors import HistoryError
from egressguard.sqlite_wal import enable_wal
from egressguard.store.history import FindingRow, ScanRecord

SCHEMA_VERSION = 2  # 2: scan_findings.provider

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scans (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        target       TEXT NOT NULL,
        source       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        tool_version TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS scans_target ON scans (target, id)",
    """CREATE TABLE IF NOT EXISTS scan_findings (
        scan_id     INTEGER NOT NULL REFERENCES scans (id),
        fingerprint TEXT NOT NULL,
        rule        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        file        TEXT NOT NULL,
        provider    TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (scan_id, fingerprint))""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a history written by an older version up to this schema (additive only)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(scan_findings)")}
    if "provider" not in columns:
        conn.execute("ALTER TABLE scan_findings ADD COLUMN provider TEXT NOT NULL DEFAULT ''")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


class SqliteHistory:
    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None)
            enable_wal(self._conn)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(f"{path}: history schema {version} is newer than this tool")
            for statement in _SCHEMA:
                self._conn.execute(statement)
            _migrate(self._conn)
        except (sqlite3.Error, OSError) as exc:
            raise HistoryError(f"{path}: cannot open the scan history ({exc})") from exc
        self._path = path

    def add(self, record: ScanRecord) -> ScanRecord:
        try:
            with self._conn:
                self._conn.execute("BEGIN IMMEDIATE")
                cur = self._conn.execute(
                    "INSERT INTO scans (target, source, started_at, tool_version) VALUES (?,?,?,?)",
                    (record.target, record.source, record.started_at, record.tool_version),
                )
                scan_id = int(cur.lastrowid or 0)
                self._conn.executemany(
                    "INSERT INTO scan_findings VALUES (?,?,?,?,?,?)",
                    [
                        (scan_id, f.fingerprint, f.rule, f.severity, f.file, f.provider)
                        for f in record.findings
                    ],
                )
        except sqlite3.Error as exc:
            raise HistoryError(f"{self._path}: cannot store the scan ({exc})") from exc
        return ScanRecord(
            scan_id,
            record.target,
            record.source,
            record.started_at,
            record.tool_version,
            record.findings,
        )

    def scans(self, target: str) -> Sequence[ScanRecord]:
        rows = self._conn.execute(
            "SELECT id, source, started_at, tool_version FROM scans WHERE target = ? ORDER BY id",
            (target,),
        ).fetchall()
        return [
            ScanRecord(sid, target, source, started, version, self._findings(sid))
            for sid, source, started, version in rows
        ]

    def targets(self) -> Sequence[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT target FROM scans ORDER BY 1")]

    def close(self) -> None:
        self._conn.close()

    def _findings(self, scan_id: int) -> tuple[FindingRow, ...]:
        rows = self._conn.execute(
            "SELECT fingerprint, rule, severity, file, provider FROM scan_findings "
            "WHERE scan_id = ? ORDER BY rule, file, fingerprint",
            (scan_id,),
        )
        return tuple(FindingRow(*row) for row in rows)
