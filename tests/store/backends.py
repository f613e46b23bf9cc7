"""Chain backends for the contract suite, each with a raw 'attacker' handle for tampering.

SQLite: one file per test directory. PostgreSQL: the real server the session started
(tests/pg_server.py, DSN in $EGRESSGUARD_TEST_PG_DSN), one schema per test directory.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from egressguard.store.backend import ChainStore
from egressguard.store.chain import Record
from egressguard.store.sqlite import SqliteChain
from tests.pg_server import ENV_DSN


class Raw(Protocol):
    """Direct access to a backend's storage, bypassing the store (an attacker with the file)."""

    def try_update(self, seq: int) -> None: ...
    def try_delete(self, seq: int) -> None: ...
    def drop_guards(self) -> None: ...
    def set_column(self, seq: int, column: str, value: object) -> None: ...
    def delete(self, seq: int) -> None: ...
    def insert(self, record: Record, tenant: str | None) -> None: ...


class SqliteRaw:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> None:
        conn = sqlite3.connect(self.path)
        try:
            with conn:
                conn.execute(sql, params)
        finally:
            conn.close()

    def try_update(self, seq: int) -> None:
        self._run("UPDATE audit_chain SET payload = '{}' WHERE seq = ?", (seq,))

    def try_delete(self, seq: int) -> None:
        self._run("DELETE FROM audit_chain WHERE seq = ?", (seq,))

    def drop_guards(self) -> None:
        for name in ("audit_chain_no_update", "audit_chain_no_delete", "audit_chain_extend_head"):
            self._run(f"DROP TRIGGER IF EXISTS {name}")

    def set_column(self, seq: int, column: str, value: object) -> None:
        assert column in {"v", "seq", "ts", "prev_hash", "hash", "tenant", "payload"}
        self._run(f"UPDATE audit_chain SET {column} = ? WHERE seq = ?", (value, seq))

    def delete(self, seq: int) -> None:
        self._run("DELETE FROM audit_chain WHERE seq = ?", (seq,))

    def insert(self, record: Record, tenant: str | None) -> None:
        self._run(
            "INSERT INTO audit_chain (seq, v, ts, prev_hash, hash, tenant, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.seq,
                record.v,
                record.ts,
                record.prev,
                record.hash,
                tenant,
                record.payload_json,
            ),
        )


def pg_dsn_for(directory: Path) -> str:
    """The session server's DSN with a search_path of this test directory's own schema."""
    import psycopg

    base = os.environ[ENV_DSN]
    schema = "t_" + hashlib.sha1(str(directory).encode()).hexdigest()[:16]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return psycopg.conninfo.make_conninfo(base, options=f"-csearch_path={schema}")


def pg_url_for(directory: Path) -> str:
    """`pg_dsn_for` as a postgresql:// URL (what `database = …` in a config file takes)."""
    from urllib.parse import quote

    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(pg_dsn_for(directory))
    return (
        f"postgresql://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"
        f"?options={quote(str(info['options']))}"
    )


def _pg_open(directory: Path) -> ChainStore:
    from egressguard.store.postgres import PostgresChain

    return PostgresChain(pg_dsn_for(directory))


class PgRaw:
    def __init__(self, directory: Path) -> None:
        self.dsn = pg_dsn_for(directory)

    def _run(self, sql: str, params: tuple[object, ...] = ()) -> None:
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            conn.execute(sql, params)

    def try_update(self, seq: int) -> None:
        self._run("UPDATE audit_chain SET payload = '{}' WHERE seq = %s", (seq,))

    def try_delete(self, seq: int) -> None:
        self._run("DELETE FROM audit_chain WHERE seq = %s", (seq,))

    def drop_guards(self) -> None:
        for name in ("audit_chain_no_update", "audit_chain_no_delete", "audit_chain_extend_head"):
            self._run(f"DROP TRIGGER IF EXISTS {name} ON audit_chain")

    def set_column(self, seq: int, column: str, value: object) -> None:
        assert column in {"v", "seq", "ts", "prev_hash", "hash", "tenant", "payload"}
        self._run(f"UPDATE audit_chain SET {column} = %s WHERE seq = %s", (value, seq))

    def delete(self, seq: int) -> None:
        self._run("DELETE FROM audit_chain WHERE seq = %s", (seq,))

    def insert(self, record: Record, tenant: str | None) -> None:
        self._run(
            "INSERT INTO audit_chain (seq, v, ts, prev_hash, hash, tenant, payload) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                record.seq,
                record.v,
                record.ts,
                record.prev,
                record.hash,
                tenant,
                record.payload_json,
            ),
        )


def _pg_integrity_error() -> type[Exception]:
    import psycopg

    return psycopg.IntegrityError


@dataclass(frozen=True)
class Backend:
    name: str
    open: Callable[[Path], ChainStore]  # a fresh or existing store at a location in tmp
    raw: Callable[[Path], Raw]
    error: Callable[[], type[Exception]]  # what the database raises on a refused write

    @property
    def integrity_error(self) -> type[Exception]:
        return self.error()


BACKENDS = (
    Backend(
        "sqlite",
        lambda d: SqliteChain(d / "audit.sqlite3"),
        lambda d: SqliteRaw(d / "audit.sqlite3"),
        lambda: sqlite3.IntegrityError,
    ),
    Backend("postgresql", _pg_open, PgRaw, _pg_integrity_error),
)


def append_from_worker(
    backend_name: str,
    directory: str,
    worker: int,
    count: int,
    start: Any = None,
    pause_s: float = 0.0,
) -> None:
    """Run in a child process or thread: open the backend's store, wait for ``start`` (an
    Event shared by every writer), append ``count`` records."""
    backend = next(b for b in BACKENDS if b.name == backend_name)
    store = backend.open(Path(directory))
    if start is not None:
        start.wait(60)
    try:
        for n in range(count):
            store.append({"tenant": f"w{worker}", "n": n})
            if pause_s:
                time.sleep(pause_s)  # like requests, not a tight loop (see test_concurrency)
    finally:
        store.close()
