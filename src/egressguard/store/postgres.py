"""The audit chain on PostgreSQL: one linear chain shared by several gateway instances.

Every append takes ``pg_advisory_xact_lock`` (one lock id for the chain) *before* reading
the head, so writers on any host serialise; the lock is released by COMMIT/ROLLBACK. The
schema makes a fork impossible to store anyway: ``seq`` is the primary key, ``prev_hash`` is
UNIQUE, an insert trigger accepts only the record extending the head, and UPDATE and DELETE
are refused by triggers. The payload is stored as TEXT (its canonical JSON, byte for byte),
never ``jsonb``, which would re-encode it and break the hashes.

Durability: a COMMIT returns after the WAL is flushed (``synchronous_commit = on``, the
default, is forced on each connection), so an acknowledged record survives a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from egressguard.errors import ChainError
from egressguard.store.chain import (
    GENESIS_HASH,
    Record,
    VerifyReport,
    seal,
    tenant_records,
    verify_stored,
)

SCHEMA_VERSION = 1
CHAIN_LOCK_ID = 0x4547_4348  # "EGCH": the advisory lock that serialises appends

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit_chain (
        seq       BIGINT  PRIMARY KEY CHECK (seq >= 1),
        v         INTEGER NOT NULL,
        ts        TEXT    NOT NULL,
        prev_hash TEXT    NOT NULL UNIQUE,
        hash      TEXT    NOT NULL UNIQUE,
        tenant    TEXT,
        payload   TEXT    NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_chain_tenant ON audit_chain (tenant, seq)",
    """CREATE OR REPLACE FUNCTION audit_chain_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit chain is append-only'
        USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    f"""CREATE OR REPLACE FUNCTION audit_chain_extend() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE head_seq BIGINT; head_hash TEXT;
    BEGIN
      SELECT seq, hash INTO head_seq, head_hash FROM audit_chain ORDER BY seq DESC LIMIT 1;
      IF NEW.seq <> COALESCE(head_seq, 0) + 1
         OR NEW.prev_hash <> COALESCE(head_hash, '{GENESIS_HASH}') THEN
        RAISE EXCEPTION 'audit chain: an insert must extend the head'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$""",
    # CREATE OR REPLACE TRIGGER needs PostgreSQL 14 or newer.
    """CREATE OR REPLACE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
        FOR EACH ROW EXECUTE FUNCTION audit_chain_refuse()""",
    """CREATE OR REPLACE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
        FOR EACH ROW EXECUTE FUNCTION audit_chain_refuse()""",
    """CREATE OR REPLACE TRIGGER audit_chain_extend_head BEFORE INSERT ON audit_chain
        FOR EACH ROW EXECUTE FUNCTION audit_chain_extend()""",
    """CREATE TABLE IF NOT EXISTS egressguard_schema (
        component TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    f"""INSERT INTO egressguard_schema VALUES ('audit_chain', {SCHEMA_VERSION})
        ON CONFLICT (component) DO NOTHING""",
)
_GUARDS = ("audit_chain_extend_head", "audit_chain_no_delete", "audit_chain_no_update")
_INSERT = (
    "INSERT INTO audit_chain (seq, v, ts, prev_hash, hash, tenant, payload) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_COLUMNS = "v, seq, ts, prev_hash, payload, hash, tenant"

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _row_record(row: Sequence[Any]) -> Record:
    v, seq, ts, prev, payload, digest = row[:6]
    return Record(int(v), int(seq), str(ts), str(prev), str(payload), str(digest))


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET synchronous_commit = on")
    conn.commit()


class PostgresChain:
    """An append-only hash chain in a PostgreSQL table, safe for several writers anywhere."""

    def __init__(
        self,
        dsn: str,
        *,
        clock: Clock = _utc_now,
        pool_size: int = 4,
        migrate: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        self._clock = clock
        self._where = redact(dsn)
        try:
            self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
                dsn,
                min_size=1,
                max_size=pool_size,
                configure=_configure,
                open=True,
                timeout=timeout_s,
            )
            if migrate:
                upgrade(self._pool)
        except psycopg.Error as exc:
            self._close_quietly()
            raise ChainError(f"cannot open the audit chain at {self._where}: {exc}") from exc

    def append(self, payload: Mapping[str, Any]) -> Record:
        return self.append_many([payload])[0]

    def append_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Record]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_ID,))
                row = conn.execute(
                    "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)
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
            return out
        except (psycopg.Error, ValueError, TypeError) as exc:
            raise ChainError(f"cannot append to the audit chain at {self._where}: {exc}") from exc

    def sync(self) -> None:
        """Nothing to do: every COMMIT already waited for the WAL flush."""

    def _rows(self, tenant: str | None, since_seq: int) -> Iterator[Sequence[Any]]:
        query = f"SELECT {_COLUMNS} FROM audit_chain WHERE seq > %s"
        params: tuple[object, ...] = (since_seq,)
        if tenant is not None:
            query, params = query + " AND tenant = %s", (since_seq, tenant)
        try:
            with self._pool.connection() as conn, conn.cursor(name="chain_rows") as cur:
                cur.itersize = 2000
                cur.execute(query + " ORDER BY seq", params)
                yield from cur
        except psycopg.Error as exc:
            raise ChainError(f"cannot read the audit chain at {self._where}: {exc}") from exc

    def records(self, tenant: str | None = None, since_seq: int = 0) -> Iterator[Record]:
        rows = self._rows(tenant, since_seq)
        return tenant_records((_row_record(row) for row in rows), tenant)

    def head(self) -> Record | None:
        try:
            with self._pool.connection() as conn:
                row = conn.execute(
                    f"SELECT {_COLUMNS} FROM audit_chain ORDER BY seq DESC LIMIT 1"
                ).fetchone()
        except psycopg.Error as exc:
            raise ChainError(f"cannot read the audit chain at {self._where}: {exc}") from exc
        return _row_record(row) if row else None

    def verify(self) -> VerifyReport:
        rows = ((_row_record(row), row[6]) for row in self._rows(None, 0))
        return verify_stored(rows, self.missing_guards)

    def missing_guards(self) -> list[str]:
        try:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_chain'::regclass"
                ).fetchall()
        except psycopg.Error as exc:
            raise ChainError(f"cannot read the audit chain at {self._where}: {exc}") from exc
        return sorted(set(_GUARDS) - {str(r[0]) for r in rows})

    def close(self) -> None:
        self._pool.close()

    def _close_quietly(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def __enter__(self) -> PostgresChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def upgrade(pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
    """Apply the schema (idempotent), serialised across instances by an advisory lock."""
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK_ID + 1,))
        exists = conn.execute("SELECT to_regclass('egressguard_schema')").fetchone()
        if exists and exists[0] is not None:
            row = conn.execute(
                "SELECT version FROM egressguard_schema WHERE component = 'audit_chain'"
            ).fetchone()
            if row and int(row[0]) > SCHEMA_VERSION:
                raise ChainError(f"audit schema {row[0]} is newer than this program")
        for statement in _SCHEMA:
            conn.execute(statement)


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable DSN)"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})
