"""PostgresVault specifics on a real server: what is stored, tampering, racing processes,
migrations and messages (the shared contract is in test_vault.py)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from egressguard.errors import VaultError
from egressguard.gateway.vault import TokenCollision, VaultEntry
from egressguard.gateway.vault_keys import Keyring, new_key
from egressguard.gateway.vault_postgres import PostgresVault, redact_dsn, upgrade
from tests.store.backends import pg_dsn_for

pytestmark = pytest.mark.usefixtures("pg_dsn")


@pytest.fixture
def dsn(tmp_path: Path) -> str:
    return pg_dsn_for(tmp_path)


def _sql(dsn: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def test_nothing_readable_is_stored(dsn: str) -> None:
    keyring = Keyring(new_key())
    with PostgresVault(dsn, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna.secret@example.de", "email", None)
        vault.put("shop1", "[EMAIL_2]", "anna.secret@example.de", "email", None)
    rows = _sql(dsn, "SELECT nonce, ciphertext, subject, category FROM vault ORDER BY token")
    dump = repr(rows).encode()
    assert b"anna" not in dump and b"secret" not in dump
    assert all(b"anna" not in bytes(cell) for row in rows for cell in row[:3])
    assert len(rows[0][0]) == 12 and rows[0][0] != rows[1][0]  # a fresh 96-bit nonce each
    assert rows[0][1] != rows[1][1] and rows[0][2] == rows[1][2]  # one subject digest


def test_a_ciphertext_moved_to_another_row_or_tenant_raises(dsn: str) -> None:
    keyring = Keyring(new_key())
    with PostgresVault(dsn, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
        vault.put("shop2", "[EMAIL_9]", "mallory@example.de", "email", None)
        _sql(
            dsn,
            "UPDATE vault SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM vault "
            "WHERE tenant = 'shop1') WHERE tenant = 'shop2'",
        )
        _sql(dsn, "UPDATE vault SET token = '[EMAIL_2]' WHERE tenant = 'shop1'")
        with pytest.raises(VaultError, match="failed authentication"):
            vault.get("shop2", "[EMAIL_9]")
        with pytest.raises(VaultError, match="failed authentication"):
            vault.get("shop1", "[EMAIL_2]")
        assert vault.get("shop1", "[EMAIL_1]") is None


def _race(dsn: str, key: bytes, worker: int, start: threading.Barrier, won: list[int]) -> None:
    with PostgresVault(dsn, Keyring(key)) as vault:  # its own pool: like another instance
        start.wait(60)
        for i in range(60):
            try:  # every worker claims the same tokens for its own value
                vault.put_many("shop1", [VaultEntry(f"[T_{i}]", f"w{worker}", "name", "c")], 60)
                won.append(i)
            except TokenCollision:
                pass
            vault.put("shared", f"[S_{i}]", f"shared {i}", "name", 60)  # same value everywhere


def test_instances_racing_for_one_token_bind_it_once(dsn: str) -> None:
    """Three vaults, each with its own connections (to the server, three instances): each
    token is won by exactly one, the others get TokenCollision, the shared value is stored
    once."""
    keyring = Keyring(new_key())
    PostgresVault(dsn, keyring).close()
    start, won = threading.Barrier(3), list[int]()
    threads = [
        threading.Thread(target=_race, args=(dsn, keyring.current, w, start, won)) for w in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(won) == list(range(60))  # one winner per token
    with PostgresVault(dsn, keyring) as vault:
        assert vault.count("shop1") == 60 and vault.count("shared") == 60
        assert vault.get("shared", "[S_7]") == "shared 7"
        binding = vault.binding("shop1", "[T_3]")
        assert binding is not None and binding.value in {"w0", "w1", "w2"}


def test_migration_is_idempotent_and_refuses_a_newer_schema(dsn: str) -> None:
    keyring = Keyring(new_key())
    with psycopg.connect(dsn) as conn:
        upgrade(conn)
        upgrade(conn)
    with PostgresVault(dsn, keyring, migrate=False) as vault:  # tables already there
        vault.put("shop1", "[EMAIL_1]", "a@example.de", "email", None)
    _sql(dsn, "UPDATE egressguard_schema SET version = 99 WHERE component = 'vault'")
    with pytest.raises(VaultError, match="vault schema 99 is newer"):
        PostgresVault(dsn, keyring)


def test_messages_never_name_the_password(dsn: str) -> None:
    url = "postgresql://eg:hunter2-secret@127.0.0.1:9/egressguard?connect_timeout=1"
    assert "hunter2" not in redact_dsn(url) and "127.0.0.1" in redact_dsn(url)
    with pytest.raises(VaultError) as caught:
        PostgresVault(url, Keyring(new_key()), timeout_s=1)
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value.__cause__ or "")
