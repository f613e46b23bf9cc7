"""Scan history on PostgreSQL: one history shared by a fleet's parallel audits and hosts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from egressguard.errors import HistoryError
from egressguard.store.history import FindingRow, ScanRecord

SCHEMA_VERSION = 1
_LOCK_ID = 0x4547_4849  # "EGHI": serialises the migration across instances

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS scans (
        id           BIGSERIAL PRIMARY KEY,
        target       TEXT NOT NULL,
        source       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        tool_version TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS scans_target ON scans (target, id)",
    """CREATE TABLE IF NOT EXISTS scan_findings (
        scan_id     BIGINT NOT NULL REFERENCES scans (id),
        fingerprint TEXT NOT NULL,
        rule        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        file        TEXT NOT NULL,
        provider    TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (scan_id, fingerprint))""",
    """CREATE TABLE IF NOT EXISTS egressguard_schema (
        component TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    f"""INSERT INTO egressguard_schema VALUES ('scan_history', {SCHEMA_VERSION})
        ON CONFLICT (component) DO NOTHING""",
)


class PostgresHistory:
    def __init__(self, dsn: str, *, timeout_s: float = 30.0) -> None:
        from egressguard.store.postgres import redact

        self._where = redact(dsn)
        try:
            self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                dsn, min_size=1, max_size=2, open=True, timeout=timeout_s
            )
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
                for statement in _SCHEMA:
                    conn.execute(statement)
                row = conn.execute(
                    "SELECT version FROM egressguard_schema WHERE component = 'scan_history'"
                ).fetchone()
                if row and int(row[0]) > SCHEMA_VERSION:
                    raise HistoryError(f"history schema {row[0]} is newer than this tool")
        except (psycopg.Error, HistoryError) as exc:
            pool = getattr(self, "_pool", None)
            if pool is not None:
                pool.close()
            if isinstance(exc, HistoryError):
                raise
            raise HistoryError(f"cannot open the scan history at {self._where}: {exc}") from exc

    def add(self, record: ScanRecord) -> ScanRecord:
        try:
            with self._pool.connection() as conn, conn.transaction():
                row = conn.execute(
                    "INSERT INTO scans (target, source, started_at, tool_version) "
                    "VALUES (%s, %s, %s, %s) RETURNING id",
                    (record.target, record.source, record.started_at, record.tool_version),
                ).fetchone()
                scan_id = int(row[0]) if row else 0
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO scan_findings VALUES (%s, %s, %s, %s, %s, %s)",
                        [
                            (scan_id, f.fingerprint, f.rule, f.severity, f.file, f.provider)
                            for f in record.findings
                        ],
                    )
        except psycopg.Error as exc:
            raise HistoryError(f"cannot store the scan at {self._where}: {exc}") from exc
        return ScanRecord(
            scan_id,
            record.target,
            record.source,
            record.started_at,
            record.tool_version,
            record.findings,
        )

    def scans(self, target: str) -> Sequence[ScanRecord]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT id, source, started_at, tool_version FROM scans WHERE target = %s "
                "ORDER BY id",
                (target,),
            ).fetchall()
            findings: dict[int, list[FindingRow]] = {int(r[0]): [] for r in rows}
            for sid, *cols in conn.execute(
                "SELECT scan_id, fingerprint, rule, severity, file, provider FROM scan_findings "
                "WHERE scan_id = ANY(%s) ORDER BY rule, file, fingerprint",
                (list(findings),),
            ):
                findings[int(sid)].append(FindingRow(*(str(c) for c in cols)))
        return [
            ScanRecord(int(sid), target, str(src), str(at), str(ver), tuple(findings[int(sid)]))
            for sid, src, at, ver in rows
        ]

    def targets(self) -> Sequence[str]:
        with self._pool.connection() as conn:
            return [str(r[0]) for r in conn.execute("SELECT DISTINCT target FROM scans ORDER BY 1")]

    def close(self) -> None:
        self._pool.close()
