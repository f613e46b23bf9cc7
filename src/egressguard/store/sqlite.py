"""The audit chain on SQLite: one file, WAL, any number of threads and processes.

Every append runs ``BEGIN IMMEDIATE`` (the database write lock) *before* reading the head,
so two writers can never link to the same record. The schema makes a fork impossible to
store anyway (``UNIQUE(prev_hash)``, ``seq`` the primary key, an insert trigger that only
accepts the record extending the head) and aborts every UPDATE and DELETE with a trigger.

Durability: ``synchronous=NORMAL`` by default: a commit is written to the WAL before
``append_many`` returns (it survives the process being killed) and ``sync()`` (a WAL
checkpoint) fsyncs it. The writing connection does not checkpoint by itself (no fsync ever
lands on an append, so on a request), so whoever appends calls ``sync()`` regularly
(``ChainSink`` does, at most a second after a write). ``synchronous="FULL"`` fsyncs on every
commit instead and keeps SQLite's automatic checkpoints.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from egressguard.errors import ChainError
from egressguard.sqlite_wal import enable_wal
from egressguard.store.chain import (
    GENESIS_HASH,
    Record,
    VerifyReport,
    seal,
    tenant_records,
    verify_stored,
)
from egressguard.store.sink import ChainSink

__all__ = ["ChainSink", "SqliteChain"]

SCHEMA_VERSION = 1

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_chain (
        seq       INTEGER PRIMARY KEY CHECK (seq >= 1),
        v         INTEGER NOT NULL,
        ts        TEXT    NOT NULL,
        prev_hash TEXT    NOT NULL UNIQUE,
        hash      TEXT    NOT NULL UNIQUE,
        tenant    TEXT,
        payload   TEXT    NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_chain_tenant ON audit_chain (tenant, seq)",
    """CREATE TRIGGER IF NOT EXISTS audit_chain_no_update BEFORE UPDATE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'audit chain is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_chain_no_delete BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'audit chain is append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_chain_extend_head BEFORE INSERT ON audit_chain
    WHEN NEW.seq != COALESCE((SELECT MAX(seq) FROM audit_chain), 0) + 1
      OR NEW.prev_hash != COALESCE(
            (SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
    BEGIN SELECT RAISE(ABORT, 'audit chain: an insert must extend the head'); END""",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

_GUARDS = ("audit_chain_extend_head", "audit_chain_no_delete", "audit_chain_no_update")

_INSERT = (
    "INSERT INTO audit_chain (seq, v, ts, prev_hash, hash, tenant, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = "v, seq, ts, prev_hash, payload, hash, tenant"

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_int(value: object) -> int:
    """A stored integer; a tampered non-integer becomes 0 so ``verify`` reports it."""
    return value if isinstance(value, int) else 0


def _as_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _row_record(row: tuple[object, ...]) -> Record:
    v, seq, ts, prev, payload, digest = row[:6]
    return Record(
        _as_int(v), _as_int(seq), _as_text(ts), _as_text(prev), _as_text(payload), _as_text(digest)
    )


class SqliteChain:
    """An append-only hash chain in one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Clock = _utc_now,
        busy_timeout_s: float = 30.0,
        readonly: bool = False,
        synchronous: str = "NORMAL",
    ) -> None:
        """Open (and create) the chain; ``readonly``: open an existing file for reading only,
        creating and repairing nothing (what ``verify_chain`` uses)."""
        self.path = Path(path)
        self._clock = clock
        self._timeout = busy_timeout_s
        self._readonly = readonly
        self._lock = threading.Lock()
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        if readonly and not self.path.is_file():
            raise ChainError(f"no audit chain at {self.path}")
        try:
            if not readonly:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._conn = self._connect()
            if not readonly:
                self._conn.execute(f"PRAGMA synchronous = {synchronous}")
                if synchronous == "NORMAL":
                    self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # sync() does it
                self._init_schema()
        except sqlite3.Error as exc:
            raise ChainError(f"cannot open the audit chain {self.path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        target = f"{self.path.resolve().as_uri()}?mode=ro" if self._readonly else str(self.path)
        return sqlite3.connect(
            target,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=self._readonly,
        )

    def _init_schema(self) -> None:
        enable_wal(self._conn)
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ChainError(f"{self.path}: audit schema {version} is newer than this program")
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self._conn.execute("COMMIT")
        finally:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")

    # -- writing -----------------------------------------------------------------------------
    def append(self, payload: Mapping[str, Any]) -> Record:
        return self.append_many([payload])[0]

    def append_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Record]:
        if self._readonly:
            raise ChainError(f"{self.path} was opened read-only")
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")  # the write lock, before reading the head
                row = conn.execute(
                    "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (row[0], row[1]) if row else (0, GENESIS_HASH)
                out = []
                for payload in payloads:
                    seq += 1
                    record = seal(seq, prev, self._clock(), payload)
                    tenant = payload.get("tenant")
                    conn.execute(
                        _INSERT,
                        (
                            record.seq,
                            record.v,
                            record.ts,
                            record.prev,
                            record.hash,
                            tenant if isinstance(tenant, str) else None,
                            record.payload_json,
                        ),
                    )
                    out.append(record)
                    prev = record.hash
                conn.execute("COMMIT")
            except (sqlite3.Error, ValueError, TypeError) as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise ChainError(f"cannot append to the audit chain {self.path}: {exc}") from exc
            return out

    def sync(self) -> None:
        """Checkpoint the WAL on a connection of its own (appends go on meanwhile): SQLite
        fsyncs the WAL before copying it into the database file, and that file after."""
        if self._readonly:
            return
        try:
            conn = self._connect()
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise ChainError(f"cannot checkpoint the audit chain {self.path}: {exc}") from exc

    # -- reading -----------------------------------------------------------------------------
    def _rows(self, tenant: str | None, since_seq: int) -> Iterator[tuple[object, ...]]:
        query = f"SELECT {_COLUMNS} FROM audit_chain WHERE seq > ?"
        params: tuple[object, ...] = (since_seq,)
        if tenant is not None:
            query, params = query + " AND tenant = ?", (since_seq, tenant)
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise ChainError(f"cannot read the audit chain {self.path}: {exc}") from exc
        try:
            yield from conn.execute(query + " ORDER BY seq", params)
        except sqlite3.Error as exc:
            raise ChainError(f"cannot read the audit chain {self.path}: {exc}") from exc
        finally:
            conn.close()

    def records(self, tenant: str | None = None, since_seq: int = 0) -> Iterator[Record]:
        """Records in ``seq`` order; with ``tenant``, only that tenant's (checked twice)."""
        rows = self._rows(tenant, since_seq)
        return tenant_records((_row_record(row) for row in rows), tenant)

    def head(self) -> Record | None:
        try:
            with self._lock:  # not inside another thread's open transaction
                row = self._conn.execute(
                    f"SELECT {_COLUMNS} FROM audit_chain ORDER BY seq DESC LIMIT 1"
                ).fetchone()
        except sqlite3.Error as exc:
            raise ChainError(f"cannot read the audit chain {self.path}: {exc}") from exc
        return _row_record(row) if row else None

    def verify(self) -> VerifyReport:
        """Verify every record, and that the tenant index column matches each payload."""
        rows = ((_row_record(row), row[6]) for row in self._rows(None, 0))
        return verify_stored(rows, self.missing_guards)

    def missing_guards(self) -> list[str]:
        """The append-only triggers that are not in the database (dropped by someone)."""
        try:
            with self._lock:
                rows = self._conn.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name = 'audit_chain'"
                ).fetchall()
        except sqlite3.Error as exc:
            raise ChainError(f"cannot read the audit chain {self.path}: {exc}") from exc
        return sorted(set(_GUARDS) - {row[0] for row in rows})

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
