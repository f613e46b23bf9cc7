"""The chain contract, run against every backend in tests/store/backends.py."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from egressguard.errors import ChainError
from egressguard.store.chain import GENESIS_HASH, link, verify
from egressguard.store.chain import Record as Rec
from tests.store.backends import Backend


def _fill(backend: Backend, tmp_path: Path, n: int = 6) -> list[Rec]:
    store = backend.open(tmp_path)
    try:
        return [store.append({"tenant": f"t{i % 2}", "i": i}) for i in range(n)]
    finally:
        store.close()


def _report(backend: Backend, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = backend.open(tmp_path)
    try:
        return store.verify()
    finally:
        store.close()


def test_append_links_records_and_verifies(backend: Backend, tmp_path: Path) -> None:
    records = _fill(backend, tmp_path)
    assert [r.seq for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0].prev == GENESIS_HASH
    assert all(b.prev == a.hash for a, b in itertools.pairwise(records))
    report = _report(backend, tmp_path)
    assert (report.ok, report.count, report.head_hash) == (True, 6, records[-1].hash)


def test_records_reads_back_what_was_appended(backend: Backend, tmp_path: Path) -> None:
    records = _fill(backend, tmp_path)
    store = backend.open(tmp_path)
    try:
        assert list(store.records()) == records
        assert [r.seq for r in store.records(tenant="t1")] == [2, 4, 6]
        assert [r.seq for r in store.records(since_seq=4)] == [5, 6]
        assert store.head() == records[-1]
    finally:
        store.close()


def test_empty_chain_verifies(backend: Backend, tmp_path: Path) -> None:
    report = _report(backend, tmp_path)
    assert (report.ok, report.count) == (True, 0)


def test_append_many_is_one_ordered_batch(backend: Backend, tmp_path: Path) -> None:
    store = backend.open(tmp_path)
    try:
        store.append({"tenant": "a"})
        batch = store.append_many([{"tenant": "a", "n": n} for n in range(5)])
        assert [r.seq for r in batch] == [2, 3, 4, 5, 6]
        assert store.verify().ok
    finally:
        store.close()


def test_unencodable_payload_is_a_chain_error_and_appends_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    store = backend.open(tmp_path)
    try:
        store.append({"tenant": "a"})
        with pytest.raises(ChainError):
            store.append_many([{"tenant": "a"}, {"bad": float("nan")}])
        assert [r.seq for r in store.records()] == [1]
    finally:
        store.close()


@pytest.mark.parametrize("operation", ["try_update", "try_delete"])
def test_database_refuses_update_and_delete(
    backend: Backend, tmp_path: Path, operation: str
) -> None:
    _fill(backend, tmp_path, 2)
    with pytest.raises(backend.integrity_error, match="append-only"):
        getattr(backend.raw(tmp_path), operation)(1)
    assert _report(backend, tmp_path).count == 2


def test_database_refuses_an_insert_that_does_not_extend_the_head(
    backend: Backend, tmp_path: Path
) -> None:
    records = _fill(backend, tmp_path, 3)
    fork = link(records[0], {"tenant": "t0", "forged": True}, _ts())  # seq 2, prev = hash(1)
    with pytest.raises(backend.integrity_error):
        backend.raw(tmp_path).insert(fork, "t0")


def test_unique_prev_hash_refuses_a_fork_even_without_triggers(
    backend: Backend, tmp_path: Path
) -> None:
    records = _fill(backend, tmp_path, 3)
    raw = backend.raw(tmp_path)
    raw.drop_guards()
    fork = link(records[0], {"tenant": "t0", "forged": True}, _ts())
    forged = Rec(fork.v, 99, fork.ts, fork.prev, fork.payload_json, fork.hash)
    with pytest.raises(backend.integrity_error, match=r"(?i)unique"):
        raw.insert(forged, "t0")


# -- tampering by someone who dropped the triggers: verify names the first broken record -----
def _tampered(backend: Backend, tmp_path: Path) -> tuple[list[Rec], object]:
    records = _fill(backend, tmp_path, 6)
    raw = backend.raw(tmp_path)
    raw.drop_guards()
    return records, raw


def test_edited_payload_is_named(backend: Backend, tmp_path: Path) -> None:
    records, raw = _tampered(backend, tmp_path)
    edited = records[2].payload_json.replace('"i":2', '"i":7')
    raw.set_column(3, "payload", edited)  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert (report.ok, report.first_bad_seq, report.count) == (False, 3, 2)
    assert "changed" in report.reason


def test_edited_and_rehashed_record_is_caught_at_the_next_link(
    backend: Backend, tmp_path: Path
) -> None:
    records, raw = _tampered(backend, tmp_path)
    rehashed = link(records[1], {"tenant": "t0", "i": 99}, _ts())
    raw.set_column(3, "payload", rehashed.payload_json)  # type: ignore[attr-defined]
    raw.set_column(3, "ts", rehashed.ts)  # type: ignore[attr-defined]
    raw.set_column(3, "hash", rehashed.hash)  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "prev" in report.reason


def test_deleted_record_is_named(backend: Backend, tmp_path: Path) -> None:
    _records, raw = _tampered(backend, tmp_path)
    raw.delete(4)  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert "missing" in report.reason


def test_reordered_records_are_named(backend: Backend, tmp_path: Path) -> None:
    _records, raw = _tampered(backend, tmp_path)
    for old, new in ((3, 1003), (4, 3), (1003, 4)):  # swap records 3 and 4
        raw.set_column(old, "seq", new)  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert (report.ok, report.first_bad_seq) == (False, 3)


def test_forged_record_at_the_end_is_named(backend: Backend, tmp_path: Path) -> None:
    records, raw = _tampered(backend, tmp_path)
    genuine = link(records[-1], {"tenant": "t0", "i": 6}, _ts())
    forged = Rec(
        genuine.v, genuine.seq, genuine.ts, genuine.prev, '{"i":6,"tenant":"t1"}', genuine.hash
    )
    raw.insert(forged, "t1")  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_forged_fork_is_named(backend: Backend, tmp_path: Path) -> None:
    records, raw = _tampered(backend, tmp_path)
    raw.delete(5)  # type: ignore[attr-defined]
    raw.delete(6)  # type: ignore[attr-defined]
    branch = link(records[3], {"tenant": "t0", "other": True}, _ts())  # a second record 5
    raw.insert(branch, "t0")  # type: ignore[attr-defined]
    report = _report(backend, tmp_path)
    assert report.ok  # a rewritten tail verifies on its own ...
    anchored = verify(backend.open(tmp_path).records(), anchor=(5, records[4].hash))
    assert (anchored.ok, anchored.first_bad_seq) == (False, 5)  # ... but not against an anchor


def _ts():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)
