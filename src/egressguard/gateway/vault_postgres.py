"""The token vault on PostgreSQL: one vault shared by several gateway instances.

It behaves exactly like ``SqliteVault`` (``vault.py``): the same AES-256-GCM encryption with
the tenant and token as associated data, the same keyed subject digests for erasure, the same
per-tenant and per-conversation tokens, TTLs measured on the caller's clock, ``TokenCollision``
when a token is bound to another value or conversation, rotation by batches.

Several writers: a ``put_many`` takes one transaction-level advisory lock per (tenant, token)
it writes, in sorted order (no deadlock between two requests writing overlapping tokens),
before it reads the existing entries, so two instances racing for one token serialise and the
second sees the first's binding (``TokenCollision``, which the gateway answers by minting a
longer token). COMMIT returns after the WAL is flushed (``synchronous_commit = on`` is forced
on each connection), so a token an instance has used in a request is readable by every other.

Erasure: ``forget`` deletes the rows. Unlike SQLite's ``secure_delete``, PostgreSQL leaves a
deleted row's bytes (ciphertext, nonce, subject digest; never plaintext) in dead tuples and
the WAL until VACUUM and later writes reuse the space (docs/deployment.md, "Erasure").

Schema migrations are applied by ``upgrade`` (idempotent, under the advisory lock the audit
chain's migration takes too, as both create ``egressguard_schema``); the gateway runs it on
start and ``egressguard db upgrade`` runs it on demand.

The encryption, digests and TTL arithmetic are vault.py's (``Cipher``, ``expiry``), shared.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from egressguard.errors import VaultError
from egressguard.gateway.tokens import Binding
from egressguard.gateway.vault import (
    Cipher,
    TokenCollision,
    VaultEntry,
    expiry,
)
from egressguard.gateway.vault_keys import Keyring

__all__ = ["SCHEMA_VERSION", "PostgresVault", "migrate", "redact_dsn", "upgrade"]

SCHEMA_VERSION = 1
# The audit chain's migration lock (store/postgres.py: CHAIN_LOCK_ID + 1): both migrations
# create egressguard_schema, which concurrent CREATE TABLE IF NOT EXISTS cannot do safely.
MIGRATION_LOCK_ID = 0x4547_4349
_TOKEN_LOCK_CLASS = 0x4547_5654  # "EGVT": the class of the per-token advisory locks
_ROTATE_BATCH = 500

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS vault (
        tenant       TEXT             NOT NULL,
        token        TEXT             NOT NULL,
        key_id       TEXT             NOT NULL,
        nonce        BYTEA            NOT NULL,
        ciphertext   BYTEA            NOT NULL,
        category     TEXT             NOT NULL,
        subject      BYTEA            NOT NULL,
        created_at   DOUBLE PRECISION NOT NULL,
        expires_at   DOUBLE PRECISION,
        conversation TEXT,
        PRIMARY KEY (tenant, token))""",
    "CREATE INDEX IF NOT EXISTS vault_subject ON vault (tenant, subject)",
    "CREATE INDEX IF NOT EXISTS vault_key ON vault (key_id)",
    "CREATE INDEX IF NOT EXISTS vault_expiry ON vault (expires_at) WHERE expires_at IS NOT NULL",
    """CREATE INDEX IF NOT EXISTS vault_conversation ON vault (tenant, conversation)
        WHERE conversation IS NOT NULL""",
    """CREATE TABLE IF NOT EXISTS vault_responses (
        tenant       TEXT NOT NULL,
        response_id  TEXT NOT NULL,
        conversation TEXT NOT NULL,
        expires_at   DOUBLE PRECISION,
        PRIMARY KEY (tenant, response_id))""",
    """CREATE TABLE IF NOT EXISTS vault_erasures (
        id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS egressguard_schema (
        component TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
    f"""INSERT INTO egressguard_schema VALUES ('vault', {SCHEMA_VERSION})
        ON CONFLICT (component) DO NOTHING""",
)
_SELECT_ENTRY = (
    "SELECT key_id, nonce, ciphertext, expires_at, conversation FROM vault "
    "WHERE tenant = %s AND token = %s"
)
_SELECT_ENTRIES = (
    "SELECT token, key_id, nonce, ciphertext, expires_at, conversation FROM vault "
    "WHERE tenant = %s AND token = ANY(%s::text[])"
)
_REFRESH = "UPDATE vault SET expires_at = %s, conversation = %s WHERE tenant = %s AND token = %s"
_UPSERT = (
    "INSERT INTO vault (tenant, token, key_id, nonce, ciphertext, category, subject, "
    "created_at, expires_at, conversation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
    "ON CONFLICT (tenant, token) DO UPDATE SET key_id = EXCLUDED.key_id, "
    "nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, category = EXCLUDED.category, "
    "subject = EXCLUDED.subject, created_at = EXCLUDED.created_at, "
    "expires_at = EXCLUDED.expires_at, conversation = EXCLUDED.conversation"
)

Conn = psycopg.Connection[Any]


def redact_dsn(dsn: str) -> str:
    """The DSN or URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable database URL)"
    info.pop("password", None)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})


def _token_lock(tenant: str, token: str) -> int:
    """A signed 32-bit advisory-lock key for one (tenant, token)."""
    digest = hashlib.sha256(f"{tenant}\x00{token}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def _configure(conn: Conn) -> None:
    conn.execute("SET synchronous_commit = on")
    conn.commit()


def upgrade(conn: Conn) -> None:
    """Create or upgrade the vault's tables (idempotent; one instance at a time)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
        exists = conn.execute("SELECT to_regclass('egressguard_schema')").fetchone()
        if exists and exists[0] is not None:
            row = conn.execute(
                "SELECT version FROM egressguard_schema WHERE component = 'vault'"
            ).fetchone()
            if row and int(row[0]) > SCHEMA_VERSION:
                raise VaultError(f"vault schema {row[0]} is newer than this program")
        for statement in _SCHEMA:
            conn.execute(statement)


class _Plan:
    """The writes of one ``put_many``, decided in memory after one read of the stored entries,
    entry by entry as SqliteVault decides them (a token seen twice sees its first binding)."""

    def __init__(
        self,
        cipher: Cipher,
        tenant: str,
        now: float,
        expires: float | None,
        stored: dict[str, tuple[Any, ...]],
    ) -> None:
        self._cipher, self._tenant, self._now, self._expires = cipher, tenant, now, expires
        self._stored = stored  # token -> (key_id, nonce, ciphertext, expires_at, conversation)
        self._live: dict[str, list[Any]] = {}  # token -> [value, conversation, expires_at]
        self.fresh: dict[str, list[Any]] = {}  # token -> the row to insert
        self.touched: set[str] = set()  # stored live tokens whose TTL/conversation change

    def _known(self, token: str) -> list[Any] | None:
        if token in self._live:
            return self._live[token]
        row = self._stored.get(token)
        if row is None or (row[3] is not None and row[3] <= self._now):
            return None
        value = self._cipher.decrypt(row[0], bytes(row[1]), bytes(row[2]), self._tenant, token)
        self._live[token] = [value, row[4], row[3]]
        return self._live[token]

    def add(self, entry: VaultEntry) -> None:
        known = self._known(entry.token)
        if known is not None:
            value, theirs, old_expires = known
            ours = entry.conversation
            if value != entry.value or (theirs is not None and ours is not None and theirs != ours):
                raise TokenCollision(self._tenant, entry.token)
            expires = self._expires
            known[1] = theirs if theirs is not None else ours
            known[2] = None if old_expires is None or expires is None else max(old_expires, expires)
            if entry.token not in self.fresh:
                self.touched.add(entry.token)
            return
        kid = self._cipher.current_id
        nonce, blob = self._cipher.encrypt(self._tenant, entry.token, entry.value)
        subject = self._cipher.subject(kid, self._tenant, entry.value)
        self.fresh[entry.token] = [self._tenant, entry.token, kid, nonce, blob, entry.category]
        self.fresh[entry.token] += [subject, self._now]
        self._live[entry.token] = [entry.value, entry.conversation, self._expires]

    def fresh_rows(self) -> list[list[Any]]:
        # the row's last columns: expires_at and conversation, as the entry's last use left them
        return [[*row, self._live[t][2], self._live[t][1]] for t, row in self.fresh.items()]

    def refresh_rows(self) -> list[tuple[Any, ...]]:
        return [(self._live[t][2], self._live[t][1], self._tenant, t) for t in sorted(self.touched)]


class PostgresVault:
    """The vault in PostgreSQL tables (a connection pool; safe across threads, processes and
    hosts)."""

    def __init__(
        self,
        dsn: str,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
        pool_size: int = 4,
        migrate: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        self.where = redact_dsn(dsn)
        self._cipher = Cipher(keyring)
        self._clock = clock
        try:
            self._pool: ConnectionPool[Conn] = ConnectionPool(
                dsn,
                min_size=1,
                max_size=pool_size,
                configure=_configure,
                # No server-side prepared statements: their generic plans, made before autovacuum
                # first analyzed a new table, scanned the whole vault for `token = ANY(…)`, so
                # put_many grew linearly with it (5 -> 28 ms at 30,000 entries; flat without).
                kwargs={"prepare_threshold": None},
                open=True,
                timeout=timeout_s,
            )
        except psycopg.Error as exc:
            raise VaultError(f"cannot open the vault at {self.where}: {exc}") from exc
        try:
            if migrate:
                with self._conn() as conn:
                    upgrade(conn)
            self._check_keys()
        except VaultError:
            self._pool.close()
            raise

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise VaultError(f"vault at {self.where}: {exc}") from exc

    def _check_keys(self) -> None:
        with self._conn() as conn:
            kids = [row[0] for row in conn.execute("SELECT DISTINCT key_id FROM vault")]
        unknown = sorted(kid for kid in kids if not self._cipher.known(kid))
        if unknown:
            raise VaultError(
                f"the vault at {self.where} holds entries under key(s) {', '.join(unknown)} "
                "that the configured keyring lacks: wrong or lost vault key? (keep old keys "
                "after the current one in the key file or variable)"
            )

    # -- writing -----------------------------------------------------------------------------
    def put(self, tenant: str, token: str, value: str, category: str, ttl_s: int | None) -> None:
        self.put_many(tenant, [VaultEntry(token, value, category)], ttl_s)

    def put_many(self, tenant: str, entries: Iterable[VaultEntry], ttl_s: int | None) -> None:
        now = self._clock()
        expires = expiry(now, ttl_s)
        todo = list(entries)
        if not todo:
            return
        tokens = sorted({entry.token for entry in todo})
        locks = sorted({_token_lock(tenant, token) for token in tokens})
        with self._conn() as conn, conn.transaction():
            conn.execute(
                "SELECT pg_advisory_xact_lock(%s, k) FROM unnest(%s::int4[]) AS k",
                (_TOKEN_LOCK_CLASS, locks),
            )
            rows = conn.execute(_SELECT_ENTRIES, (tenant, tokens)).fetchall()
            plan = _Plan(self._cipher, tenant, now, expires, {str(r[0]): r[1:] for r in rows})
            for entry in todo:
                plan.add(entry)
            with conn.cursor() as cur:
                if plan.fresh:
                    cur.executemany(_UPSERT, plan.fresh_rows())
                if plan.touched:
                    cur.executemany(_REFRESH, plan.refresh_rows())

    # -- reading -----------------------------------------------------------------------------
    def get(self, tenant: str, token: str, *, conversation: str | None = None) -> str | None:
        found = self.binding(tenant, token)
        if found is None or (conversation is not None and found.conversation != conversation):
            return None
        return found.value

    def binding(self, tenant: str, token: str) -> Binding | None:
        with self._conn() as conn:
            row = conn.execute(_SELECT_ENTRY, (tenant, token)).fetchone()
        if row is None or (row[3] is not None and row[3] <= self._clock()):
            return None
        value = self._cipher.decrypt(row[0], bytes(row[1]), bytes(row[2]), tenant, token)
        return Binding(value, row[4])

    def tokens(self, tenant: str, conversation: str) -> list[str]:
        with self._conn() as conn:
            rows = conn.execute(
                "SELECT token FROM vault WHERE tenant = %s AND conversation = %s "
                "AND (expires_at IS NULL OR expires_at > %s)",
                (tenant, conversation, self._clock()),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def link_response(
        self, tenant: str, response_id: str, conversation: str, ttl_s: int | None
    ) -> None:
        expires = expiry(self._clock(), ttl_s)
        with self._conn() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO vault_responses (tenant, response_id, conversation, expires_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (tenant, response_id) DO UPDATE SET "
                "conversation = EXCLUDED.conversation, expires_at = EXCLUDED.expires_at",
                (tenant, response_id, conversation, expires),
            )

    def response_conversation(self, tenant: str, response_id: str) -> str | None:
        with self._conn() as conn:
            row = conn.execute(
                "SELECT conversation, expires_at FROM vault_responses "
                "WHERE tenant = %s AND response_id = %s",
                (tenant, response_id),
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return str(row[0])

    # -- erasure, expiry, rotation -------------------------------------------------------------
    def forget(self, tenant: str, value: str) -> int:
        subjects = self._cipher.subjects(tenant, value)
        with self._conn() as conn, conn.transaction():
            cur = conn.execute(
                "DELETE FROM vault WHERE tenant = %s AND subject = ANY(%s::bytea[])",
                (tenant, subjects),
            )
            if cur.rowcount:
                conn.execute(
                    "INSERT INTO vault_erasures (id, n) VALUES (1, 1) "
                    "ON CONFLICT (id) DO UPDATE SET n = vault_erasures.n + 1"
                )
            return cur.rowcount

    def erasures(self) -> int:
        with self._conn() as conn:
            row = conn.execute("SELECT n FROM vault_erasures WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def purge_expired(self) -> int:
        now = self._clock()
        with self._conn() as conn, conn.transaction():
            count = conn.execute(
                "DELETE FROM vault WHERE expires_at IS NOT NULL AND expires_at <= %s", (now,)
            ).rowcount
            conn.execute(
                "DELETE FROM vault_responses WHERE expires_at IS NOT NULL AND expires_at <= %s",
                (now,),
            )
        return count

    def rotate(self) -> int:
        total = 0
        while True:
            done = self._rotate_batch()
            total += done
            if done < _ROTATE_BATCH:
                return total

    def _rotate_batch(self) -> int:
        kid = self._cipher.current_id
        with self._conn() as conn, conn.transaction():
            rows = conn.execute(
                "SELECT tenant, token, key_id, nonce, ciphertext FROM vault WHERE key_id <> %s "
                "LIMIT %s FOR UPDATE",
                (kid, _ROTATE_BATCH),
            ).fetchall()
            for tenant, token, old_kid, old_nonce, old_blob in rows:
                value = self._cipher.decrypt(
                    old_kid, bytes(old_nonce), bytes(old_blob), tenant, token
                )
                nonce, blob = self._cipher.encrypt(tenant, token, value)
                conn.execute(
                    "UPDATE vault SET key_id = %s, nonce = %s, ciphertext = %s, subject = %s "
                    "WHERE tenant = %s AND token = %s",
                    (kid, nonce, blob, self._cipher.subject(kid, tenant, value), tenant, token),
                )
        return len(rows)

    def ping(self) -> None:
        with self._conn() as conn:
            conn.execute("SELECT 1 FROM vault LIMIT 1").fetchall()

    def count(self, tenant: str | None = None) -> int:
        """Entries stored (expired ones included until purged)."""
        with self._conn() as conn:
            if tenant is None:
                row = conn.execute("SELECT COUNT(*) FROM vault").fetchone()
            else:
                row = conn.execute(
                    "SELECT COUNT(*) FROM vault WHERE tenant = %s", (tenant,)
                ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def migrate(dsn: str, *, timeout_s: float = 30.0) -> None:
    """Apply the vault's schema to the database at ``dsn`` (``egressguard db upgrade``)."""
    where = redact_dsn(dsn)
    try:
        with psycopg.connect(dsn, connect_timeout=max(1, int(timeout_s))) as conn:
            upgrade(conn)
    except psycopg.Error as exc:
        raise VaultError(f"cannot upgrade the vault at {where}: {exc}") from exc
