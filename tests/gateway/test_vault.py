"""The token vault: contract suite over backends (SQLite, PostgreSQL), keys, rotation, erasure."""

from __future__ import annotations

import base64
import multiprocessing
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from egressguard.errors import VaultError
from egressguard.gateway.vault import SqliteVault, TokenCollision, Vault, VaultEntry
from egressguard.gateway.vault_keys import Keyring, key_id, load_keyring, new_key, read_key_file
from egressguard.gateway.vault_ops import forget_subject, rotate_vault_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


OpenVault = Callable[[Keyring], Vault]


def _sqlite(tmp_path: Path, clock: Clock) -> OpenVault:
    return lambda keyring: SqliteVault(tmp_path / "vault.sqlite3", keyring, clock=clock)


def _postgresql(tmp_path: Path, clock: Clock) -> OpenVault:
    from egressguard.gateway.vault_postgres import PostgresVault
    from tests.store.backends import pg_dsn_for

    dsn = pg_dsn_for(tmp_path)  # this test's own schema on the session's real server
    return lambda keyring: PostgresVault(dsn, keyring, clock=clock)


BACKENDS = {"sqlite": _sqlite, "postgresql": _postgresql}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(BACKENDS))
def open_vault(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> OpenVault:
    """Every vault backend; the contract tests run once per backend (PostgreSQL: a real
    server started once per session)."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_dsn")
    return BACKENDS[request.param](tmp_path, clock)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(new_key())


@pytest.fixture
def vault(open_vault: OpenVault, keyring: Keyring) -> Iterator[Vault]:
    opened = open_vault(keyring)
    yield opened
    opened.close()


# -- contract ------------------------------------------------------------------------------
def test_ping_answers_while_the_vault_can_be_read(open_vault: OpenVault, keyring: Keyring) -> None:
    """The readiness check (`/healthz`): a read that fails raises VaultError, nothing else."""
    opened = open_vault(keyring)
    opened.ping()
    opened.close()
    with pytest.raises(VaultError):
        opened.ping()


def test_round_trip(vault: Vault) -> None:
    vault.put("shop1", "[EMAIL_7f3a9c]", "anna@example.de", "email", 3600)
    assert vault.get("shop1", "[EMAIL_7f3a9c]") == "anna@example.de"
    assert vault.get("shop1", "[EMAIL_000000]") is None


def test_unicode_values_round_trip(vault: Vault) -> None:
    vault.put("shop1", "[NAME_1]", "Zoë Łukasiewicz-Müller", "name", None)
    assert vault.get("shop1", "[NAME_1]") == "Zoë Łukasiewicz-Müller"


def test_another_tenant_reads_nothing(vault: Vault) -> None:
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 3600)
    assert vault.get("shop2", "[EMAIL_1]") is None
    vault.put("shop2", "[EMAIL_1]", "bob@example.fr", "email", 3600)  # same token, own space
    assert vault.get("shop1", "[EMAIL_1]") == "anna@example.de"
    assert vault.get("shop2", "[EMAIL_1]") == "bob@example.fr"


def test_put_again_is_idempotent_and_a_collision_is_refused(vault: Vault) -> None:
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 3600)
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 3600)
    with pytest.raises(TokenCollision):
        vault.put("shop1", "[EMAIL_1]", "eve@example.de", "email", 3600)
    assert vault.get("shop1", "[EMAIL_1]") == "anna@example.de"


def test_put_many_is_all_or_nothing(vault: Vault) -> None:
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 3600)
    entries = [
        VaultEntry("[EMAIL_2]", "b@example.de", "email"),
        VaultEntry("[EMAIL_1]", "eve@example.de", "email"),
    ]
    with pytest.raises(TokenCollision):
        vault.put_many("shop1", entries, 3600)
    assert vault.get("shop1", "[EMAIL_2]") is None


def test_ttl_expiry_and_purge(vault: Vault, clock: Clock) -> None:
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 60)
    vault.put("shop1", "[EMAIL_2]", "bob@example.de", "email", None)
    clock.now += 59
    assert vault.get("shop1", "[EMAIL_1]") == "anna@example.de"
    clock.now += 1
    assert vault.get("shop1", "[EMAIL_1]") is None
    vault.put("shop1", "[EMAIL_1]", "someone@else.de", "email", 60)  # expired: may be reused
    clock.now += 61
    assert vault.purge_expired() == 1
    assert vault.get("shop1", "[EMAIL_2]") == "bob@example.de"
    with pytest.raises(ValueError):
        vault.put("shop1", "[EMAIL_3]", "x@example.de", "email", 0)


def test_putting_again_extends_the_ttl(vault: Vault, clock: Clock) -> None:
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 60)
    clock.now += 50
    vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", 60)
    clock.now += 50
    assert vault.get("shop1", "[EMAIL_1]") == "anna@example.de"


def test_forget_erases_every_token_of_one_subject_in_one_tenant(vault: Vault) -> None:
    vault.put("shop1", "[EMAIL_a1]", "Anna@Example.de", "email", None)  # conversation 1
    vault.put("shop1", "[EMAIL_b2]", "anna@example.de ", "email", None)  # conversation 2
    vault.put("shop1", "[EMAIL_c3]", "bob@example.de", "email", None)
    vault.put("shop2", "[EMAIL_a1]", "anna@example.de", "email", None)
    assert vault.forget("shop1", "ANNA@example.DE") == 2
    assert vault.get("shop1", "[EMAIL_a1]") is None
    assert vault.get("shop1", "[EMAIL_b2]") is None
    assert vault.get("shop1", "[EMAIL_c3]") == "bob@example.de"
    assert vault.get("shop2", "[EMAIL_a1]") == "anna@example.de"  # another controller's data
    assert vault.forget("shop1", "anna@example.de") == 0


def test_erasures_are_counted_for_every_process(open_vault: OpenVault, keyring: Keyring) -> None:
    """A running gateway reads the count to notice `vault forget` run by another process."""
    gateway, cli = open_vault(keyring), open_vault(keyring)
    try:
        before = gateway.erasures()
        gateway.put("shop1", "[EMAIL_a1]", "anna@example.de", "email", None)
        assert cli.forget("shop1", "nobody@example.de") == 0
        assert gateway.erasures() == before  # nothing erased, nothing to notice
        assert cli.forget("shop1", "anna@example.de") == 1
        assert gateway.erasures() == before + 1
    finally:
        cli.close()
        gateway.close()


def test_rotation_keeps_old_entries_readable_and_rotate_reencrypts(
    open_vault: OpenVault, keyring: Keyring
) -> None:
    first = open_vault(keyring)
    first.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
    first.close()
    rotated = keyring.with_new_current(new_key())
    second = open_vault(rotated)
    second.put("shop1", "[EMAIL_2]", "bob@example.de", "email", None)
    assert second.get("shop1", "[EMAIL_1]") == "anna@example.de"  # old key, still readable
    assert second.forget("shop1", "nobody") == 0
    assert second.rotate() == 1
    assert second.rotate() == 0
    second.close()
    only_new = open_vault(Keyring(rotated.current))  # the old key can now be dropped
    assert only_new.get("shop1", "[EMAIL_1]") == "anna@example.de"
    assert only_new.forget("shop1", "anna@example.de") == 1  # digests were recomputed too
    only_new.close()


def test_wrong_key_is_a_clear_error(open_vault: OpenVault, keyring: Keyring) -> None:
    first = open_vault(keyring)
    first.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
    first.close()
    with pytest.raises(VaultError, match=rf"{keyring.current_id}.*wrong or lost vault key"):
        open_vault(Keyring(new_key()))


def test_threads_share_one_vault(vault: Vault) -> None:
    def work(n: int) -> None:
        for i in range(50):
            vault.put(f"t{n}", f"[T_{i}]", f"value {n} {i}", "name", 3600)
            assert vault.get(f"t{n}", f"[T_{i}]") == f"value {n} {i}"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(vault.get(f"t{n}", "[T_49]") == f"value {n} 49" for n in range(6))


# -- SQLite specifics: what is stored, tampering --------------------------------------------
def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_nothing_readable_is_stored(tmp_path: Path, keyring: Keyring) -> None:
    with SqliteVault(tmp_path / "v.sqlite3", keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna.secret@example.de", "email", None)
        vault.put("shop1", "[EMAIL_2]", "anna.secret@example.de", "email", None)
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"anna.secret" not in data
    rows = _raw(tmp_path / "v.sqlite3").execute("SELECT nonce, ciphertext FROM vault").fetchall()
    assert len(rows[0][0]) == 12 and rows[0][0] != rows[1][0]  # a fresh 96-bit nonce each
    assert rows[0][1] != rows[1][1]


def test_a_ciphertext_moved_to_another_row_or_tenant_raises(
    tmp_path: Path, keyring: Keyring
) -> None:
    """Decision: a row that fails authentication raises VaultError (tampering is loud); a
    token the tenant simply does not have is None."""
    path = tmp_path / "v.sqlite3"
    with SqliteVault(path, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
        vault.put("shop2", "[EMAIL_9]", "mallory@example.de", "email", None)
    conn = _raw(path)
    stolen = conn.execute("SELECT nonce, ciphertext FROM vault WHERE tenant='shop1'").fetchone()
    conn.execute("UPDATE vault SET nonce=?, ciphertext=? WHERE tenant='shop2'", stolen)
    conn.execute("UPDATE vault SET token='[EMAIL_2]' WHERE tenant='shop1'")
    conn.close()
    with SqliteVault(path, keyring) as vault:
        with pytest.raises(VaultError, match="failed authentication"):
            vault.get("shop2", "[EMAIL_9]")
        with pytest.raises(VaultError, match="failed authentication"):
            vault.get("shop1", "[EMAIL_2]")
        assert vault.get("shop1", "[EMAIL_1]") is None


def test_erasure_overwrites_the_deleted_ciphertext(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "v.sqlite3"
    with SqliteVault(path, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
        (blob,) = _raw(path).execute("SELECT ciphertext FROM vault").fetchone()
        assert vault.forget("shop1", "anna@example.de") == 1
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert blob not in data


# -- keys --------------------------------------------------------------------------------------
def test_a_missing_key_is_generated_0600_and_reported(tmp_path: Path) -> None:
    first = load_keyring(tmp_path / "state")
    path = tmp_path / "state" / "vault.key"
    assert first.generated == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_keyring(tmp_path / "state")
    assert again.generated is None and again.current == first.current
    assert str(first.current) not in repr(first)  # keys stay out of reprs and tracebacks


def test_generation_does_not_depend_on_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_keyring(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "vault.key").stat().st_mode) == 0o600


def test_erasure_never_generates_a_key(tmp_path: Path) -> None:
    with pytest.raises(VaultError, match=r"vault\.key"):
        forget_subject(tmp_path, "shop1", "anna@example.de")
    assert not (tmp_path / "vault.key").exists()


def test_key_from_the_environment_value_with_old_keys(tmp_path: Path) -> None:
    new, old = new_key(), new_key()
    text = f"{base64.b64encode(new).decode()},{base64.b64encode(old).decode()}"
    keyring = load_keyring(tmp_path, key_text=text.encode())
    assert (keyring.current, keyring.older, keyring.generated) == (new, (old,), None)
    assert not (tmp_path / "vault.key").exists()


def test_key_from_a_file(tmp_path: Path) -> None:
    key = new_key()
    path = tmp_path / "my.key"
    path.write_text(f"# comment\n{base64.b64encode(key).decode()}\n")
    assert load_keyring(tmp_path, key_file=path).current == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no vault key"),
        ("not base64!", "key 1 is not valid base64"),
        (base64.b64encode(b"short").decode(), "5 bytes, not 32"),
    ],
)
def test_bad_keys_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(VaultError, match=message):
        load_keyring(tmp_path, key_text=text)


def test_key_ids_are_stable_and_distinct() -> None:
    key = new_key()
    assert key_id(key) == key_id(bytes(key)) != key_id(new_key())
    assert len(key_id(key)) == 16


# -- CLI-facing operations ------------------------------------------------------------------------
def test_forget_subject_uses_the_state_dir(tmp_path: Path) -> None:
    with SqliteVault(tmp_path / "vault.sqlite3", load_keyring(tmp_path)) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
    assert forget_subject(tmp_path, "shop1", "anna@example.de") == 1


def test_rotate_vault_key_with_a_key_file(tmp_path: Path) -> None:
    old = load_keyring(tmp_path)
    with SqliteVault(tmp_path / "vault.sqlite3", old) as vault:
        for i in range(3):
            vault.put("shop1", f"[EMAIL_{i}]", f"p{i}@example.de", "email", None)
    report = rotate_vault_key(tmp_path)
    assert report.reencrypted == 3 and report.new_key_id != old.current_id
    keys = read_key_file(tmp_path / "vault.key")
    assert [key_id(k) for k in keys] == [report.new_key_id, old.current_id]
    assert stat.S_IMODE((tmp_path / "vault.key").stat().st_mode) == 0o600
    retired = rotate_vault_key(tmp_path, retire_old_keys=True)
    assert retired.reencrypted == 3
    assert [key_id(k) for k in read_key_file(tmp_path / "vault.key")] == [retired.new_key_id]
    with SqliteVault(tmp_path / "vault.sqlite3", load_keyring(tmp_path)) as vault:
        assert vault.get("shop1", "[EMAIL_2]") == "p2@example.de"


def test_rotate_vault_key_with_environment_keys(tmp_path: Path) -> None:
    old, new = new_key(), new_key()
    with SqliteVault(tmp_path / "vault.sqlite3", Keyring(old)) as vault:
        vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
    text = ",".join(base64.b64encode(k).decode() for k in (new, old))
    report = rotate_vault_key(tmp_path, key_text=text)
    assert (report.reencrypted, report.key_file, report.new_key_id) == (1, None, key_id(new))
    with SqliteVault(tmp_path / "vault.sqlite3", Keyring(new)) as vault:
        assert vault.get("shop1", "[EMAIL_1]") == "anna@example.de"


def test_vault_files_are_private(tmp_path: Path, keyring: Keyring) -> None:
    old = os.umask(0)
    try:
        with SqliteVault(tmp_path / "v.sqlite3", keyring) as vault:
            vault.put("shop1", "[EMAIL_1]", "anna@example.de", "email", None)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    finally:
        os.umask(old)
    assert modes == dict.fromkeys(modes, 0o600) and "v.sqlite3-wal" in modes


def _put_from_process(path: str, key: bytes, worker: int, start: Any) -> None:
    with SqliteVault(Path(path), Keyring(key)) as vault:
        start.wait(60)
        for i in range(100):
            vault.put(f"t{worker}", f"[T_{i}]", f"value {worker} {i}", "name", 3600)
            vault.put("shared", f"[S_{i}]", f"shared {i}", "name", 3600)  # same value everywhere


def test_processes_share_one_vault_file(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "v.sqlite3"
    SqliteVault(path, keyring).close()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [
        context.Process(target=_put_from_process, args=(str(path), keyring.current, w, start))
        for w in range(3)
    ]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    with SqliteVault(path, keyring) as vault:
        assert vault.count() == 3 * 100 + 100
        assert vault.get("t2", "[T_99]") == "value 2 99"
        assert vault.get("shared", "[S_5]") == "shared 5"


# --- conversations ------------------------------------------------------------------------------


def test_a_token_names_one_value_in_one_conversation(vault: Vault) -> None:
    vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "anna@example.de", "email", "conv-a")], 60)
    assert vault.get("shop1", "[EMAIL_1]", conversation="conv-a") == "anna@example.de"
    assert vault.get("shop1", "[EMAIL_1]", conversation="conv-b") is None
    assert vault.get("shop2", "[EMAIL_1]", conversation="conv-a") is None
    assert vault.tokens("shop1", "conv-a") == ["[EMAIL_1]"]
    assert vault.tokens("shop1", "conv-b") == [] and vault.tokens("shop2", "conv-a") == []
    binding = vault.binding("shop1", "[EMAIL_1]")
    assert binding is not None and binding.conversation == "conv-a"
    # the same value in another conversation under the same token: refused like another value
    with pytest.raises(TokenCollision) as caught:
        vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "anna@example.de", "email", "conv-b")], 60)
    assert caught.value.token == "[EMAIL_1]" and "anna" not in str(caught.value)
    # the same binding again only refreshes it
    vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "anna@example.de", "email", "conv-a")], 60)


def test_expired_tokens_leave_the_conversation(vault: Vault, clock: Clock) -> None:
    vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "a@example.de", "email", "c")], 60)
    clock.now += 61
    assert vault.tokens("shop1", "c") == [] and vault.get("shop1", "[EMAIL_1]") is None


def test_a_conversations_tokens_are_read_through_its_index(
    tmp_path: Path, keyring: Keyring
) -> None:
    """Not the tenant's whole key range: that read grew with the vault, on every request."""
    from egressguard.gateway.vault import _CONVERSATION_TOKENS  # the query `tokens` runs

    path = tmp_path / "v.sqlite3"
    with SqliteVault(path, keyring) as vault:
        entries = [
            VaultEntry(f"[EMAIL_{i}]", f"u{i}@example.de", "email", f"c{i % 50}")
            for i in range(500)
        ]
        vault.put_many("shop1", entries, None)
        assert sorted(vault.tokens("shop1", "c7")) == sorted(
            f"[EMAIL_{i}]" for i in range(7, 500, 50)
        )
    plan = _raw(path).execute("EXPLAIN QUERY PLAN " + _CONVERSATION_TOKENS, ("s", "c", 0.0))
    assert "vault_conversation" in " ".join(str(row[-1]) for row in plan)


def test_a_background_thread_checkpoints_writes_into_the_database_file(
    tmp_path: Path, keyring: Keyring
) -> None:
    """The writing connection never checkpoints (no fsync on a request); the thread does, soon
    after a write, and once more on close."""
    path = tmp_path / "v.sqlite3"

    def rows_in_main_file() -> int:
        copy = tmp_path / "copy.sqlite3"  # the database file alone, without its WAL
        copy.write_bytes(path.read_bytes())
        try:
            return int(_raw(copy).execute("SELECT COUNT(*) FROM vault").fetchone()[0])
        except sqlite3.OperationalError:  # not even the table is checkpointed yet
            return 0
        finally:
            copy.unlink()

    vault = SqliteVault(path, keyring, checkpoint_interval_s=0.05)
    vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "a@example.de", "email", "c")], None)
    deadline = time.monotonic() + 10
    while rows_in_main_file() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rows_in_main_file() == 1
    slow = SqliteVault(path, keyring, checkpoint_interval_s=3600)
    slow.put_many("shop1", [VaultEntry("[EMAIL_2]", "b@example.de", "email", "c")], None)
    slow.close()  # a last checkpoint, without waiting for the interval
    assert rows_in_main_file() == 2
    vault.close()
    assert not [t for t in threading.enumerate() if t.name == "vault-checkpoint"]


def _largest_wal(tmp_path: Path, keyring: Keyring, limit: int, seconds: float) -> int:
    """Write 16-token batches without a pause for `seconds` (or until the WAL passes 32 MiB);
    the largest size the WAL reached."""
    path = tmp_path / f"v{limit}.sqlite3"
    wal = path.with_name(path.name + "-wal")
    vault = SqliteVault(path, keyring, checkpoint_interval_s=0.01, wal_limit_bytes=limit)
    largest = n = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and largest <= 32 << 20:
            batch = [
                VaultEntry(f"[EMAIL_{n}_{i}]", f"user{n}.{i}@example.de", "email", f"c{n}")
                for i in range(16)
            ]
            vault.put_many("shop1", batch, None)
            n += 1
            largest = max(largest, wal.stat().st_size)
        assert vault.count() == 16 * n
    finally:
        vault.close()
    return largest


def test_the_wal_stays_bounded_under_writes_that_never_pause(
    tmp_path: Path, keyring: Keyring
) -> None:
    """A passive checkpoint never reaches the end of a WAL that grows without a pause, so the
    WAL is never reused (here it passes 32 MiB within seconds: ~100 MB/s measured); past
    `wal_limit_bytes` the thread truncates it, so it stays near one interval's writes."""
    assert _largest_wal(tmp_path, keyring, 1 << 40, seconds=10) > 32 << 20
    assert _largest_wal(tmp_path, keyring, 256 << 10, seconds=1.5) < 32 << 20


def test_a_vault_from_before_conversations_is_upgraded(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "old.sqlite3"
    with SqliteVault(path, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "a@example.de", "email", None)
    conn = sqlite3.connect(path)  # the first release's table: no conversation column
    conn.executescript(
        "CREATE TABLE old (tenant TEXT NOT NULL, token TEXT NOT NULL, key_id TEXT NOT NULL,"
        " nonce BLOB NOT NULL, ciphertext BLOB NOT NULL, category TEXT NOT NULL,"
        " subject BLOB NOT NULL, created_at REAL NOT NULL, expires_at REAL,"
        " PRIMARY KEY (tenant, token)) WITHOUT ROWID;"
        " INSERT INTO old SELECT tenant, token, key_id, nonce, ciphertext, category, subject,"
        " created_at, expires_at FROM vault; DROP TABLE vault; ALTER TABLE old RENAME TO vault;"
    )
    conn.close()
    with SqliteVault(path, keyring) as vault:
        assert vault.get("shop1", "[EMAIL_1]") == "a@example.de"
        assert vault.get("shop1", "[EMAIL_1]", conversation="c") is None  # never across turns
        vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "a@example.de", "email", "c")], None)
        assert vault.get("shop1", "[EMAIL_1]", conversation="c") == "a@example.de"


def test_response_ids_link_to_a_conversation_per_tenant(vault: Vault, clock: Clock) -> None:
    vault.link_response("shop1", "resp_1", "conv-a", 60)
    assert vault.response_conversation("shop1", "resp_1") == "conv-a"
    assert vault.response_conversation("shop2", "resp_1") is None
    assert vault.response_conversation("shop1", "resp_2") is None
    clock.now += 61
    assert vault.response_conversation("shop1", "resp_1") is None
    vault.purge_expired()


def test_one_put_many_naming_a_token_twice_sees_its_own_first_binding(
    vault: Vault, clock: Clock
) -> None:
    same = [VaultEntry("[EMAIL_1]", "a@example.de", "email", "c")] * 2
    vault.put_many("shop1", [*same, VaultEntry("[EMAIL_1]", "a@example.de", "email")], 60)
    assert vault.tokens("shop1", "c") == ["[EMAIL_1]"]
    clash = [VaultEntry("[EMAIL_2]", "b@example.de", "email"), VaultEntry("[EMAIL_2]", "x", "e")]
    with pytest.raises(TokenCollision):
        vault.put_many("shop1", clash, 60)
    assert vault.get("shop1", "[EMAIL_2]") is None
    vault.put_many("shop1", [same[0], VaultEntry("[EMAIL_3]", "c@example.de", "email")], 90)
    clock.now += 61
    assert vault.get("shop1", "[EMAIL_1]") == "a@example.de"  # refreshed to 90 s
    clock.now += 30
    assert vault.tokens("shop1", "c") == [] and vault.get("shop1", "[EMAIL_3]") is None


@pytest.mark.parametrize(
    "text",
    [
        "shop1",
        "[EMAIL_7f3a9c]",
        'quo"te\\back',
        "tab\tnew\nline\x00",
        "Müller ÄÖÜ ß",
        "名前 😀",
        "",
    ],
)
def test_aad_and_subject_bytes_are_exactly_the_json_arrays(text: str) -> None:
    """Stored rows depend on these bytes (SQLite and PostgreSQL share them)."""
    import hashlib
    import hmac
    import json

    from egressguard.gateway.vault import Cipher, _aad, normalise_subject

    label = "egressguard-vault/v1"
    assert _aad(text, text[::-1]) == json.dumps(
        [label, text, text[::-1]], separators=(",", ":")
    ).encode("utf-8")
    keyring = Keyring(new_key())
    cipher = Cipher(keyring)
    message = json.dumps([text, normalise_subject(text + " Value")], ensure_ascii=False)
    key = cipher._subject[keyring.current_id]
    expected = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    assert cipher.subject(keyring.current_id, text, text + " Value") == expected


def _names(path: Path, kind: str) -> set[str]:
    rows = _raw(path).execute("SELECT name FROM sqlite_master WHERE type=?", (kind,))
    return {row[0] for row in rows}


def _key_ids(path: Path) -> set[str]:
    return {row[0] for row in _raw(path).execute("SELECT key_id FROM vault_key_ids")}


def test_key_ids_are_listed_in_their_own_table_not_an_index(
    tmp_path: Path, keyring: Keyring
) -> None:
    """An index on vault(key_id) cost one B-tree page per new token on every commit."""
    path = tmp_path / "v.sqlite3"
    with SqliteVault(path, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "a@example.de", "email", None)
    assert "vault_key" not in _names(path, "index")
    assert _key_ids(path) == {keyring.current_id}
    rotated = keyring.with_new_current(new_key())
    with SqliteVault(path, rotated) as vault:
        vault.put("shop1", "[EMAIL_2]", "b@example.de", "email", None)
        assert _key_ids(path) == {keyring.current_id, rotated.current_id}
        assert vault.rotate() == 1
    assert _key_ids(path) == {rotated.current_id}
    with SqliteVault(path, Keyring(rotated.current)) as vault:  # the old key can be dropped
        assert vault.get("shop1", "[EMAIL_1]") == "a@example.de"


def test_a_vault_with_the_key_index_is_upgraded(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "old.sqlite3"
    with SqliteVault(path, keyring) as vault:
        vault.put("shop1", "[EMAIL_1]", "a@example.de", "email", None)
    conn = _raw(path)  # the file as the releases before vault_key_ids wrote it
    conn.executescript(
        "DROP TABLE vault_key_ids; CREATE INDEX vault_key ON vault (key_id);"
        " PRAGMA wal_checkpoint(TRUNCATE);"
    )
    conn.close()
    with pytest.raises(VaultError, match="wrong or lost vault key"):
        SqliteVault(path, Keyring(new_key()))  # the upgrade found the entries' key
    assert "vault_key" not in _names(path, "index")
    with SqliteVault(path, keyring) as vault:
        assert vault.get("shop1", "[EMAIL_1]") == "a@example.de"
    assert _key_ids(path) == {keyring.current_id}


def test_a_listed_key_without_entries_is_not_required(
    tmp_path: Path, keyring: Keyring, clock: Clock
) -> None:
    path = tmp_path / "v.sqlite3"
    with SqliteVault(path, keyring, clock=clock) as vault:
        vault.put("shop1", "[EMAIL_1]", "a@example.de", "email", 60)
        clock.now += 61
        assert vault.purge_expired() == 1
    other = Keyring(new_key())
    with SqliteVault(path, other, clock=clock) as vault:  # nothing is under the old key now
        vault.put("shop1", "[EMAIL_2]", "b@example.de", "email", None)
    assert _key_ids(path) == {other.current_id}


def test_a_batch_of_new_and_stored_tokens_settles_each(vault: Vault, clock: Clock) -> None:
    """One statement for the new tokens; a batch that meets stored ones reads each back."""
    vault.put_many("shop1", [VaultEntry("[EMAIL_1]", "a@example.de", "email", "c")], 60)
    clock.now += 61  # [EMAIL_1] expired: replaced; [EMAIL_3]: new; [EMAIL_2]: refreshed below
    vault.put_many("shop1", [VaultEntry("[EMAIL_2]", "b@example.de", "email", "c")], 60)
    mixed = [
        VaultEntry("[EMAIL_1]", "other@example.de", "email", "c"),
        VaultEntry("[EMAIL_2]", "b@example.de", "email", "c"),
        VaultEntry("[EMAIL_3]", "c@example.de", "email", "c"),
    ]
    vault.put_many("shop1", mixed, 120)
    assert vault.get("shop1", "[EMAIL_1]", conversation="c") == "other@example.de"
    clock.now += 100
    assert sorted(vault.tokens("shop1", "c")) == ["[EMAIL_1]", "[EMAIL_2]", "[EMAIL_3]"]
    with pytest.raises(TokenCollision):
        vault.put_many(
            "shop1", [VaultEntry("[EMAIL_4]", "d", "e", "c"), mixed[2]._replace(value="x")], 60
        )
    assert vault.get("shop1", "[EMAIL_4]") is None  # all or nothing
