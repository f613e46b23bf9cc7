"""The token vault: token -> original value, encrypted at rest, with TTL and erasure.

Each value is encrypted with AES-256-GCM under the keyring's current key and a fresh random
96-bit nonce. The associated data binds the tenant and the token, so a ciphertext copied to
another row or tenant fails authentication: ``get`` then raises ``VaultError`` (tampering is
loud, never a quiet "unknown token"). A tenant is part of the primary key, so asking for
another tenant's token simply finds nothing (``None``).

Next to each ciphertext the vault keeps a *subject digest*: HMAC-SHA-256, under a key derived
(HKDF) from the encryption key, of the tenant and the normalised value. ``forget`` (GDPR
Art. 17) computes that digest under every key of the keyring and deletes the matching rows
without decrypting anything; SQLite's ``secure_delete`` and a WAL checkpoint then overwrite
the deleted cells.

Conversations: each entry records the conversation id its token was minted for (a keyed
digest, no personal data; ``tokens.Tokenizer.conversation_id``). A token names one value in one
tenant *and* one conversation: ``put`` refuses (``TokenCollision``) a binding to another value
or to another conversation, and ``get(..., conversation=c)`` and ``tokens(tenant, c)`` only see
that conversation's entries, which is what restoring a token from an earlier turn relies on.
Entries written before this column existed have no conversation and are never restored across
turns. ``link_response`` remembers which conversation an upstream answer (a Responses API
response id, no personal data) belonged to, per tenant, so a later request that only names it
(``previous_response_id``) continues that conversation.

Writing: ``put_many`` writes one request's tokens in one transaction, one ``INSERT ... ON
CONFLICT DO NOTHING`` run over all of them (``executemany``); only when some token was already
stored is each read back (to refresh its TTL, or to refuse it with ``TokenCollision``). A
commit's cost is the B-tree pages it dirties, and new tokens have random keys, so every index
costs about one page per token: the table keeps the primary key, the subject index (erasure),
the expiry index (purging; its keys grow with time, so it dirties one page) and the
conversation index (one page per request). The key ids in use are kept in the small
``vault_key_ids`` table (the start-up check and rotation), which replaced an index on
``key_id`` that cost a page per new token (dropped when an older file is opened).

The writing connection never checkpoints (``wal_autocheckpoint = 0``: no fsync lands on a
request); a background thread checkpoints the WAL at most ``checkpoint_interval_s`` after a
write, which fsyncs it, so a power loss can lose at most the last interval's tokens (with
SQLite's automatic checkpoints that window was "until the WAL reached 1,000 pages"). A commit
itself survives the process being killed.

Rotation: new writes use the current key; ``rotate()`` re-encrypts (and re-digests) every
entry still under an older key. Opening a vault whose entries use a key the keyring does not
hold fails at once with ``VaultError`` (a wrong or lost key is reported, not discovered later
as silently failing erasures).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from json.encoder import encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from egressguard.errors import VaultError
from egressguard.gateway.tokens import Binding
from egressguard.gateway.vault_keys import Keyring
from egressguard.sqlite_wal import SyncAfterWrites, enable_wal

__all__ = [
    "Binding",
    "Cipher",
    "Keyring",
    "SqliteVault",
    "TokenCollision",
    "Vault",
    "VaultEntry",
    "expiry",
    "normalise_subject",
]

NONCE_BYTES = 12
_AAD_LABEL = "egressguard-vault/v1"
_SUBJECT_INFO = b"egressguard-vault subject digest v1"
_ROTATE_BATCH = 500
CHECKPOINT_INTERVAL_S = 1.0
WAL_LIMIT_BYTES = 64 << 20
"""Past this size the checkpoint thread resets the WAL with this process's writers held back:
a passive checkpoint never catches up with writes that never pause, and the WAL would grow
without bound (measured: 600-780 MB in a write loop without gaps)."""


class TokenCollision(VaultError):
    """A token is already stored for a different value or conversation (it is too short)."""

    def __init__(self, tenant: str, token: str) -> None:
        super().__init__(f"token {token} of tenant {tenant} is bound to another value")
        self.tenant = tenant
        self.token = token


class VaultEntry(NamedTuple):
    token: str
    value: str
    category: str
    conversation: str | None = None


class Vault(Protocol):
    """What the gateway needs from a vault (SQLite now; PostgreSQL in issue 7)."""

    def put(self, tenant: str, token: str, value: str, category: str, ttl_s: int | None) -> None:
        """Store (or refresh the TTL of) one token; ``TokenCollision`` if it names another
        value. ``ttl_s=None``: never expires."""
        ...

    def put_many(self, tenant: str, entries: Iterable[VaultEntry], ttl_s: int | None) -> None:
        """``put`` for several tokens in one transaction."""
        ...

    def get(self, tenant: str, token: str, *, conversation: str | None = None) -> str | None:
        """The value, or ``None`` if unknown to this tenant (and, when given, conversation) or
        expired."""
        ...

    def binding(self, tenant: str, token: str) -> Binding | None:
        """The value and conversation of a live token of this tenant (a minting check)."""
        ...

    def tokens(self, tenant: str, conversation: str) -> list[str]:
        """The live tokens minted for one conversation of one tenant."""
        ...

    def link_response(
        self, tenant: str, response_id: str, conversation: str, ttl_s: int | None
    ) -> None:
        """Remember that this tenant's answer ``response_id`` belongs to ``conversation``."""
        ...

    def response_conversation(self, tenant: str, response_id: str) -> str | None:
        """The conversation of one of this tenant's answers, if known and not expired."""
        ...

    def forget(self, tenant: str, value: str) -> int:
        """Erase every token of one value for one tenant; the number of entries erased."""
        ...

    def purge_expired(self) -> int: ...

    def erasures(self) -> int:
        """How many erasures (`forget` calls that erased something) the vault has seen, by any
        process: a running gateway drops what it remembers of stored tokens when it changes."""
        ...

    def ping(self) -> None:
        """Raise `VaultError` when the vault cannot be read now (the readiness check)."""
        ...

    def rotate(self) -> int:
        """Re-encrypt every entry not under the current key; the number re-encrypted."""
        ...

    def close(self) -> None: ...


def normalise_subject(value: str) -> str:
    """The form erasure matches on: NFKC, case-folded, whitespace collapsed and trimmed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


# The AAD and the subject-digest message are JSON arrays of strings, byte for byte what
# `json.dumps([...], separators=(",", ":"))` and `json.dumps([...], ensure_ascii=False)` write
# (stored rows depend on it; tests/gateway/test_vault.py checks the equality), built from the
# json module's own string encoders: a tenth of the cost of `json.dumps` with arguments, which
# ran twice per stored token.
_AAD_HEAD = "[" + encode_basestring_ascii(_AAD_LABEL) + ","


def _aad(tenant: str, token: str) -> bytes:
    text = _AAD_HEAD + encode_basestring_ascii(tenant) + "," + encode_basestring_ascii(token) + "]"
    return text.encode("utf-8")


def _subject_message(tenant: str, value: str) -> bytes:
    normalised = normalise_subject(value)
    return ("[" + encode_basestring(tenant) + ", " + encode_basestring(normalised) + "]").encode(
        "utf-8"
    )


class Cipher:
    """The keyring turned into AEADs and subject-digest keys, by key id (every vault backend
    encrypts and digests through it, so their rows are interchangeable)."""

    def __init__(self, keyring: Keyring) -> None:
        keys = keyring.keys()
        self.current_id = keyring.current_id
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        self._subject = {
            kid: HKDF(hashes.SHA256(), 32, None, _SUBJECT_INFO).derive(key)
            for kid, key in keys.items()
        }

    def known(self, kid: str) -> bool:
        return kid in self._aead

    def encrypt(self, tenant: str, token: str, value: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        aead = self._aead[self.current_id]
        return nonce, aead.encrypt(nonce, value.encode("utf-8"), _aad(tenant, token))

    def decrypt(self, kid: str, nonce: bytes, blob: bytes, tenant: str, token: str) -> str:
        aead = self._aead.get(kid)
        if aead is None:
            raise VaultError(f"vault entry is encrypted with key {kid}, not in the keyring")
        try:
            return aead.decrypt(nonce, blob, _aad(tenant, token)).decode("utf-8")
        except (InvalidTag, ValueError) as exc:
            raise VaultError(
                f"vault entry {tenant}/{token} failed authentication (wrong key, or the row "
                "was altered or moved)"
            ) from exc

    def subject(self, kid: str, tenant: str, value: str) -> bytes:
        message = _subject_message(tenant, value)
        return hmac.new(self._subject[kid], message, hashlib.sha256).digest()

    def subjects(self, tenant: str, value: str) -> list[bytes]:
        return [self.subject(kid, tenant, value) for kid in self._subject]


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS vault (
        tenant     TEXT    NOT NULL,
        token      TEXT    NOT NULL,
        key_id     TEXT    NOT NULL,
        nonce      BLOB    NOT NULL,
        ciphertext BLOB    NOT NULL,
        category   TEXT    NOT NULL,
        subject    BLOB    NOT NULL,
        created_at REAL    NOT NULL,
        expires_at REAL,
        conversation TEXT,
        PRIMARY KEY (tenant, token)) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS vault_subject ON vault (tenant, subject)",
    "CREATE INDEX IF NOT EXISTS vault_expiry ON vault (expires_at) WHERE expires_at IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS vault_responses (
        tenant       TEXT NOT NULL,
        response_id  TEXT NOT NULL,
        conversation TEXT NOT NULL,
        expires_at   REAL,
        PRIMARY KEY (tenant, response_id)) WITHOUT ROWID""",
    "CREATE TABLE IF NOT EXISTS vault_erasures (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER)",
)
_COUNT_ERASURE = (
    "INSERT INTO vault_erasures (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1"
)
# Added after the first release: run after the table exists (old files get the column).
_CONVERSATION_INDEX = (
    "CREATE INDEX IF NOT EXISTS vault_conversation ON vault (tenant, conversation) "
    "WHERE conversation IS NOT NULL"
)


# Added later: the key ids that entries use (filled from the table when it is created; an older
# file's `vault_key` index on vault(key_id), one B-tree page per new token, is dropped then).
_KEY_IDS = "CREATE TABLE IF NOT EXISTS vault_key_ids (key_id TEXT PRIMARY KEY) WITHOUT ROWID"
_RECORD_KEY_ID = "INSERT OR IGNORE INTO vault_key_ids (key_id) VALUES (?)"


# Without statistics SQLite's planner prefers the primary key's `tenant` prefix over this partial
# index, i.e. it read every token of the tenant on every request (1.6 ms at 8,000 tokens, growing
# with the vault); `INDEXED BY` keeps it to the conversation's own entries.
_CONVERSATION_TOKENS = (
    "SELECT token FROM vault INDEXED BY vault_conversation WHERE tenant=? AND conversation=? "
    "AND (expires_at IS NULL OR expires_at > ?)"
)


_COLUMNS = (
    "(tenant, token, key_id, nonce, ciphertext, category, subject, created_at, expires_at, "
    "conversation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_NEW = f"INSERT INTO vault {_COLUMNS} ON CONFLICT DO NOTHING"
_REPLACE_EXPIRED = f"INSERT OR REPLACE INTO vault {_COLUMNS}"


def expiry(now: float, ttl_s: int | None) -> float | None:
    """When an entry written at ``now`` with ``ttl_s`` expires (``None``: never)."""
    if ttl_s is None:
        return None
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive (or None: never expires)")
    return now + ttl_s


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 (SQLite gives its -wal/-shm files the same)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as exc:
        raise VaultError(f"cannot create the vault {path}: {exc}") from exc


class SqliteVault:
    """The vault in one SQLite file (WAL; one connection behind a lock; safe across threads
    and processes)."""

    def __init__(
        self,
        path: str | Path,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 30.0,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
        wal_limit_bytes: int = WAL_LIMIT_BYTES,
    ) -> None:
        self.path = Path(path)
        self._wal_limit = wal_limit_bytes
        self._cipher = Cipher(keyring)
        self._clock = clock
        self._busy_timeout = busy_timeout_s
        self._lock = threading.Lock()
        # checkpoints (and fsyncs) the WAL at most `checkpoint_interval_s` after a commit
        self._syncer = SyncAfterWrites(
            self._sync, checkpoint_interval_s, name="vault-checkpoint", retry_on=(sqlite3.Error,)
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(self.path)
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._init_schema()
        except sqlite3.Error as exc:
            raise VaultError(f"cannot open the vault {self.path}: {exc}") from exc
        self._check_keys()
        self._syncer.start()

    def _init_schema(self) -> None:
        enable_wal(self._conn)
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpoint thread does it
        self._conn.execute("PRAGMA secure_delete = ON")
        with self._write():
            for statement in _SCHEMA:
                self._conn.execute(statement)
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(vault)")}
            if "conversation" not in columns:
                self._conn.execute("ALTER TABLE vault ADD COLUMN conversation TEXT")
            self._conn.execute(_CONVERSATION_INDEX)
            self._init_key_ids()

    def _init_key_ids(self) -> None:
        """Create ``vault_key_ids`` (filled from the entries once) and drop the old index."""
        conn = self._conn
        query = "SELECT 1 FROM sqlite_master WHERE type='table' AND name='vault_key_ids'"
        if conn.execute(query).fetchone() is None:
            conn.execute(_KEY_IDS)
            conn.execute("INSERT OR IGNORE INTO vault_key_ids SELECT DISTINCT key_id FROM vault")
        conn.execute("DROP INDEX IF EXISTS vault_key")

    def _check_keys(self) -> None:
        with self._read() as conn:
            kids = [row[0] for row in conn.execute("SELECT key_id FROM vault_key_ids")]
        unknown = sorted(kid for kid in kids if not self._cipher.known(kid) and self._uses(kid))
        if unknown:
            raise VaultError(
                f"the vault {self.path} holds entries under key(s) {', '.join(unknown)} that the "
                "configured keyring lacks: wrong or lost vault key? (keep old keys after the "
                "current one in the key file or variable)"
            )

    def _uses(self, kid: str) -> bool:
        """Whether an entry is still under ``kid`` (a listed key whose entries all expired or
        were erased is forgotten; the scan runs only for a key the keyring lacks)."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM vault WHERE key_id=? LIMIT 1", (kid,)).fetchone():
                return True
            conn.execute("DELETE FROM vault_key_ids WHERE key_id=?", (kid,))
            return False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
                self._syncer.wrote()
            except sqlite3.Error as exc:
                raise VaultError(f"vault {self.path}: {exc}") from exc
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise VaultError(f"vault {self.path}: {exc}") from exc

    # -- writing -----------------------------------------------------------------------------
    def put(self, tenant: str, token: str, value: str, category: str, ttl_s: int | None) -> None:
        self.put_many(tenant, [VaultEntry(token, value, category)], ttl_s)

    def put_many(self, tenant: str, entries: Iterable[VaultEntry], ttl_s: int | None) -> None:
        now = self._clock()
        expires = expiry(now, ttl_s)
        kid = self._cipher.current_id
        cipher = self._cipher
        batch = list(entries)
        rows: list[tuple[object, ...]] = []
        for entry in batch:
            nonce, blob = cipher.encrypt(tenant, entry.token, entry.value)
            subject = cipher.subject(kid, tenant, entry.value)
            head = (tenant, entry.token, kid, nonce, blob, entry.category, subject, now)
            rows.append((*head, expires, entry.conversation))
        if not rows:
            return
        with self._write() as conn:
            conn.execute(_RECORD_KEY_ID, (kid,))
            if conn.executemany(_INSERT_NEW, rows).rowcount == len(rows):
                return  # only new tokens (the common case): one statement
            for entry, row in zip(batch, rows, strict=True):  # some were stored already
                self._settle(conn, tenant, entry, row, now, expires)

    def _settle(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        entry: VaultEntry,
        row: tuple[object, ...],
        now: float,
        expires: float | None,
    ) -> None:
        """One token of a batch not all new: refresh it, refuse it, or replace an expired one
        (a token this batch just inserted reads back as itself and is left as it is)."""
        existing = conn.execute(
            "SELECT key_id, nonce, ciphertext, expires_at, conversation FROM vault "
            "WHERE tenant=? AND token=?",
            (tenant, entry.token),
        ).fetchone()
        if existing is not None and (existing[3] is None or existing[3] > now):
            old = self._cipher.decrypt(existing[0], existing[1], existing[2], tenant, entry.token)
            theirs, ours = existing[4], entry.conversation
            if old != entry.value or (theirs is not None and ours is not None and theirs != ours):
                raise TokenCollision(tenant, entry.token)
            keep = None if existing[3] is None or expires is None else max(existing[3], expires)
            conn.execute(
                "UPDATE vault SET expires_at=?, conversation=? WHERE tenant=? AND token=?",
                (keep, theirs if theirs is not None else ours, tenant, entry.token),
            )
            return
        conn.execute(_REPLACE_EXPIRED, row)

    # -- reading -----------------------------------------------------------------------------
    def get(self, tenant: str, token: str, *, conversation: str | None = None) -> str | None:
        found = self.binding(tenant, token)
        if found is None or (conversation is not None and found.conversation != conversation):
            return None
        return found.value

    def binding(self, tenant: str, token: str) -> Binding | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT key_id, nonce, ciphertext, expires_at, conversation FROM vault "
                "WHERE tenant=? AND token=?",
                (tenant, token),
            ).fetchone()
        if row is None or (row[3] is not None and row[3] <= self._clock()):
            return None
        return Binding(self._cipher.decrypt(row[0], row[1], row[2], tenant, token), row[4])

    def tokens(self, tenant: str, conversation: str) -> list[str]:
        with self._read() as conn:
            query = _CONVERSATION_TOKENS
            rows = conn.execute(query, (tenant, conversation, self._clock())).fetchall()
        return [row[0] for row in rows]

    def link_response(
        self, tenant: str, response_id: str, conversation: str, ttl_s: int | None
    ) -> None:
        now = self._clock()
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO vault_responses (tenant, response_id, conversation, "
                "expires_at) VALUES (?, ?, ?, ?)",
                (tenant, response_id, conversation, expiry(now, ttl_s)),
            )

    def response_conversation(self, tenant: str, response_id: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT conversation, expires_at FROM vault_responses "
                "WHERE tenant=? AND response_id=?",
                (tenant, response_id),
            ).fetchone()
        if row is None or (row[1] is not None and row[1] <= self._clock()):
            return None
        return str(row[0])

    # -- erasure, expiry, rotation -------------------------------------------------------------
    def forget(self, tenant: str, value: str) -> int:
        subjects = self._cipher.subjects(tenant, value)
        marks = ",".join("?" * len(subjects))
        with self._write() as conn:
            count = conn.execute(
                f"DELETE FROM vault WHERE tenant=? AND subject IN ({marks})", (tenant, *subjects)
            ).rowcount
            if count:
                conn.execute(_COUNT_ERASURE)
        self._checkpoint()
        return count

    def erasures(self) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT n FROM vault_erasures WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def purge_expired(self) -> int:
        with self._write() as conn:
            count = conn.execute(
                "DELETE FROM vault WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (self._clock(),),
            ).rowcount
            conn.execute(
                "DELETE FROM vault_responses WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (self._clock(),),
            )
        self._checkpoint()
        return count

    def _checkpoint(self) -> None:
        """Move deleted cells out of the WAL so secure_delete overwrites them in the file."""
        with self._read() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def rotate(self) -> int:
        total = 0
        while True:
            done = self._rotate_batch()
            total += done
            if done < _ROTATE_BATCH:
                return total

    def _rotate_batch(self) -> int:
        kid = self._cipher.current_id
        with self._write() as conn:
            conn.execute(_RECORD_KEY_ID, (kid,))
            rows = conn.execute(
                "SELECT tenant, token, key_id, nonce, ciphertext FROM vault WHERE key_id != ? "
                "LIMIT ?",
                (kid, _ROTATE_BATCH),
            ).fetchall()
            for tenant, token, old_kid, old_nonce, old_blob in rows:
                value = self._cipher.decrypt(old_kid, old_nonce, old_blob, tenant, token)
                nonce, blob = self._cipher.encrypt(tenant, token, value)
                conn.execute(
                    "UPDATE vault SET key_id=?, nonce=?, ciphertext=?, subject=? "
                    "WHERE tenant=? AND token=?",
                    (kid, nonce, blob, self._cipher.subject(kid, tenant, value), tenant, token),
                )
            if len(rows) < _ROTATE_BATCH:  # the last batch: no entry is under another key now
                conn.execute("DELETE FROM vault_key_ids WHERE key_id != ?", (kid,))
        return len(rows)

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute("SELECT 1 FROM vault LIMIT 1").fetchall()

    def count(self, tenant: str | None = None) -> int:
        """Entries stored (expired ones included until purged)."""
        with self._read() as conn:
            if tenant is None:
                return int(conn.execute("SELECT COUNT(*) FROM vault").fetchone()[0])
            query = "SELECT COUNT(*) FROM vault WHERE tenant=?"
            return int(conn.execute(query, (tenant,)).fetchone()[0])

    def _sync(self) -> None:
        """A passive checkpoint on a connection of its own: writers go on meanwhile. When the
        WAL has outgrown `wal_limit_bytes` (writes that never pause: a passive checkpoint never
        reaches the WAL's end, so it is never reused), a TRUNCATE checkpoint follows with this
        process's writers held back; it copies only what the passive one left and empties the
        file (other processes' writers wait for it through their busy timeout)."""
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if self._wal_bytes() > self._wal_limit:
                with self._lock:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()

    def _wal_bytes(self) -> int:
        try:
            return self.path.with_name(self.path.name + "-wal").stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        """Stop the checkpoint thread (after a last checkpoint), then close the connection."""
        self._syncer.stop()
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteVault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
