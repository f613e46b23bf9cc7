"""Scan history: every scan stored by fingerprint; the trend (new / fixed / still open)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egressguard.cli.main import run
from egressguard.errors import HistoryError
from egressguard.store.history import FindingRow, ScanRecord, latest_trend, open_history, trend
from egressguard.store.history_sqlite import SqliteHistory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _scan(fps: set[str], sid: int = 0) -> ScanRecord:
    rows = tuple(FindingRow(fp, "rule", "high", "f.php") for fp in sorted(fps))
    return ScanRecord(sid, "shop", "audit", "2026-11-25T00:00:00+00:00", "t", rows)


@given(st.sets(st.text(min_size=1, max_size=4)), st.sets(st.text(min_size=1, max_size=4)))
def test_trend_partitions_both_scans(before: set[str], after: set[str]) -> None:
    t = trend(_scan(before), _scan(after))
    new = {f.fingerprint for f in t.new}
    fixed = {f.fingerprint for f in t.fixed}
    still = {f.fingerprint for f in t.still_open}
    assert new == after - before and fixed == before - after and still == after & before


def test_first_scan_has_everything_new() -> None:
    t = trend(None, _scan({"a", "b"}))
    assert len(t.new) == 2 and not t.fixed and not t.still_open


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same history contract on both backends (PostgreSQL: the session's real server)."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_dsn")
        from tests.store.backends import pg_url_for

        return pg_url_for(tmp_path)
    return str(tmp_path / "h.sqlite")


def test_round_trip_and_latest_trend(location: str) -> None:
    assert location.startswith("postgresql://") or location.endswith(".sqlite")
    store = open_history(location)
    store.add(_scan({"a", "b"}))
    stored = store.add(_scan({"b", "c"}))
    assert store.targets() == ["shop"]
    assert [s.id for s in store.scans("shop")] == [stored.id - 1, stored.id]
    t = latest_trend(store, "shop")
    store.close()
    assert t is not None
    assert [f.fingerprint for f in t.new] == ["c"]
    assert [f.fingerprint for f in t.fixed] == ["a"]
    assert [f.fingerprint for f in t.still_open] == ["b"]


def test_unusable_history_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "h.sqlite"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(HistoryError, match="cannot open the scan history"):
        SqliteHistory(bad)


def test_audit_records_each_scan_and_reports_what_was_fixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = tmp_path / "module"
    shutil.copytree(EXAMPLES / "magento2-module", shop)
    history = tmp_path / "history.sqlite"
    args = [
        "audit",
        str(shop),
        "--format",
        "json",
        "--output",
        str(tmp_path / "r.json"),
        "--fail-on",
        "none",
        "--no-progress",
        "--history",
        str(history),
        "--target",
        "shop1",
    ]
    assert run(args) == 0
    assert "first scan of this target recorded" in capsys.readouterr().err
    store = SqliteHistory(history)
    first = store.scans("shop1")[0]
    store.close()
    files = {f.file for f in first.findings}
    gone = sorted(files)[0]
    (shop / gone).unlink()  # finding paths are relative to the scanned root
    assert run(args) == 0
    line = capsys.readouterr().err
    store = SqliteHistory(history)
    t = latest_trend(store, "shop1")
    store.close()
    assert t is not None and t.fixed and not t.new
    assert all(f.file == gone for f in t.fixed)
    assert f"{len(t.fixed)} fixed" in line and "0 new" in line


def test_no_history_records_nothing(tmp_path: Path) -> None:
    history = tmp_path / "history.sqlite"
    args = [
        "audit",
        str(EXAMPLES / "shopify-theme"),
        "--format",
        "json",
        "--output",
        str(tmp_path / "r.json"),
        "--fail-on",
        "none",
        "--no-progress",
        "--no-history",
        "--history",
        str(history),
    ]
    assert run(args) == 0
    assert not history.exists()


def test_history_command_lists_targets_and_trend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "h.sqlite"
    store = SqliteHistory(history)
    store.add(_scan({"a"}))
    store.add(_scan({"a", "b"}))
    store.close()
    assert run(["history", "--history", str(history)]) == 0
    assert capsys.readouterr().out.strip() == "shop"
    assert run(["history", "--history", str(history), "--target", "shop"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].endswith("1 new, 0 fixed, 1 still open")


def test_findings_keep_rule_file_and_provider(location: str) -> None:
    row = FindingRow("fp1", "data-flow-to-ai", "critical", "app/code/A/B.php", "openai")
    store = open_history(location)
    store.add(ScanRecord(0, "shop", "audit", "2026-11-25T00:00:00+00:00", "t", (row,)))
    assert store.scans("shop")[0].findings == (row,)
    store.close()


def test_audit_records_into_postgresql_from_the_config(
    pg_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.store.backends import pg_url_for

    dsn = pg_url_for(tmp_path)
    shop = tmp_path / "theme"
    shutil.copytree(EXAMPLES / "shopify-theme", shop)
    (shop / ".egressguard.toml").write_text(f'database = "{dsn}"\n', encoding="utf-8")
    args = [
        "audit",
        str(shop),
        "--format",
        "json",
        "--output",
        str(tmp_path / "r.json"),
        "--fail-on",
        "none",
        "--no-progress",
        "--target",
        "pg-shop",
    ]
    assert run(args) == 0
    assert run(args) == 0
    assert "0 new, 0 fixed" in capsys.readouterr().err
    store = open_history(dsn)
    assert len(store.scans("pg-shop")) == 2
    store.close()


def test_history_from_schema_1_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE scans (id INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,"
        " source TEXT NOT NULL, started_at TEXT NOT NULL, tool_version TEXT NOT NULL);"
        "CREATE TABLE scan_findings (scan_id INTEGER NOT NULL, fingerprint TEXT NOT NULL,"
        " rule TEXT NOT NULL, severity TEXT NOT NULL, file TEXT NOT NULL,"
        " PRIMARY KEY (scan_id, fingerprint));"
        "INSERT INTO scans VALUES (1, 'shop', 'audit', '2026-11-01T00:00:00+00:00', '0.1');"
        "INSERT INTO scan_findings VALUES (1, 'a', 'rule', 'high', 'f.php');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    store = SqliteHistory(path)
    store.add(_scan({"a", "b"}))
    t = latest_trend(store, "shop")
    store.close()
    assert t is not None and [f.fingerprint for f in t.new] == ["b"]
    assert t.previous is not None and t.previous.findings[0].provider == ""


def test_unusable_history_warns_but_the_audit_still_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "h.sqlite"
    bad.write_bytes(b"not a database" * 100)
    report = tmp_path / "r.json"
    args = [
        "audit",
        str(EXAMPLES / "shopify-theme"),
        "--format",
        "json",
        "--output",
        str(report),
        "--fail-on",
        "none",
        "--no-progress",
        "--history",
        str(bad),
    ]
    assert run(args) == 0
    assert report.is_file()
    assert "warning: scan not recorded in the history" in capsys.readouterr().err


def test_messages_never_show_a_database_password() -> None:
    from egressguard.store.history import display_location

    shown = display_location("postgresql://eg:s3cret-pw@db.internal:5432/egressguard")
    assert shown == "postgresql://eg:***@db.internal:5432/egressguard"
    assert display_location("/var/lib/eg/history.sqlite") == "/var/lib/eg/history.sqlite"
