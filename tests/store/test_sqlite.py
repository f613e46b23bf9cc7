"""SQLite specifics: read-only verify, dropped guards, the tenant column, byte-level tamper."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.errors import ChainError
from egressguard.store.ops import verify_chain
from egressguard.store.sqlite import SqliteChain
from tests.store.backends import SqliteRaw


def _chain(path: Path, n: int = 5) -> None:
    with SqliteChain(path) as chain:
        for i in range(n):
            chain.append({"tenant": f"t{i % 2}", "i": i, "note": "plain ascii text"})


def test_verify_chain_is_read_only_and_needs_the_file(tmp_path: Path) -> None:
    with pytest.raises(ChainError, match="no audit chain"):
        verify_chain(tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()
    _chain(tmp_path / "a.sqlite3")
    assert verify_chain(tmp_path / "a.sqlite3").ok
    with SqliteChain(tmp_path / "a.sqlite3", readonly=True) as chain, pytest.raises(ChainError):
        chain.append({})


def test_dropped_triggers_fail_verification(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    _chain(path)
    SqliteRaw(path).drop_guards()
    report = verify_chain(path)
    assert (report.ok, report.first_bad_seq) == (False, None)
    assert "triggers are missing" in report.reason


def test_edited_tenant_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    _chain(path)
    raw = SqliteRaw(path)
    raw.drop_guards()
    raw.set_column(3, "tenant", "t1")
    with SqliteChain(path) as chain:  # reopening restores the triggers
        report = chain.verify()
        assert (report.ok, report.first_bad_seq) == (False, 3)
        with pytest.raises(ChainError, match="record 3: tenant column"):
            list(chain.records(tenant="t1"))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    _chain(path, 1)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 9")
    conn.close()
    with pytest.raises(ChainError, match="newer"):
        SqliteChain(path)


_COLUMNS = ("v", "seq", "ts", "prev_hash", "hash", "tenant", "payload")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_single_byte_change_in_the_file_is_named(data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.sqlite3"
        _chain(path)
        seq = data.draw(st.integers(1, 5))
        column = data.draw(st.sampled_from(_COLUMNS))
        conn = sqlite3.connect(path)
        old = conn.execute(f"SELECT {column} FROM audit_chain WHERE seq = ?", (seq,)).fetchone()[0]
        conn.close()
        if isinstance(old, int):
            delta = data.draw(st.sampled_from([1000, -1000, 1, 7]))
            new: object = 1000 + seq if column == "seq" else old + delta  # CHECK (seq >= 1)
        else:
            position = data.draw(st.integers(0, len(old) - 1))
            char = data.draw(st.characters(min_codepoint=32, max_codepoint=126))
            char = char if char != old[position] else chr(33 + (ord(char) - 32) % 94)
            new = old[:position] + char + old[position + 1 :]
        raw = SqliteRaw(path)
        raw.drop_guards()
        raw.set_column(seq, column, new)
        with SqliteChain(path) as chain:
            report = chain.verify()
        assert not report.ok
        assert report.first_bad_seq == seq, (column, report.reason)


def test_normal_mode_leaves_checkpoints_to_sync(tmp_path: Path) -> None:
    """No fsync lands on an append: the writer never checkpoints; sync() moves the WAL."""
    path = tmp_path / "audit.sqlite3"
    with SqliteChain(path) as chain:
        before = path.stat().st_size
        for n in range(2000):  # far more than SQLite's automatic checkpoint (1000 pages)
            chain.append({"n": n, "pad": "x" * 2000})
        assert path.stat().st_size == before  # every record is still only in the WAL
        chain.sync()
        assert path.stat().st_size > 2000 * 2000  # checkpointed into the database file
        assert chain.verify().count == 2000
    with pytest.raises(ValueError, match="NORMAL or FULL"):
        SqliteChain(tmp_path / "other.sqlite3", synchronous="OFF")
