"""ChainSink: durable emit (committed before it returns) or queued batches with retries;
nothing acknowledged lost, fails closed, body digests keyed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from egressguard.errors import ChainError
from egressguard.gateway.audit_events import AuditEvent, DigestKey, body_digest, verify_body
from egressguard.store.chain import Record, VerifyReport
from egressguard.store.sink import ChainSink
from egressguard.store.sqlite import SqliteChain

KEY = DigestKey(b"audit-digest-key-for-tests-32by!")


def event(n: int, tenant: str = "shop1") -> AuditEvent:
    return AuditEvent(
        ts=datetime.now(UTC),
        tenant=tenant,
        client="magento",
        route="/v1/chat/completions",
        upstream="local-llm",
        region="local",
        request_id=f"req-{n}",
        status=200,
        categories={"email": 1},
        actions={"email": "tokenize"},
        latency_ms=1.25,
    )


class FlakyStore:
    """A ChainStore double whose append fails ``failures`` times, optionally blocking first."""

    def __init__(self, failures: int = 0, gate: threading.Event | None = None) -> None:
        self.failures = failures
        self.gate = gate
        self.stored: list[Mapping[str, Any]] = []

    def append_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[Record]:
        if self.gate is not None:
            self.gate.wait(10)
        if self.failures:
            self.failures -= 1
            raise ChainError("disk full")
        self.stored.extend(payloads)
        return []

    def append(self, payload: Mapping[str, Any]) -> Record:
        raise NotImplementedError

    def records(self, tenant: str | None = None, since_seq: int = 0) -> Iterator[Record]:
        raise NotImplementedError

    def head(self) -> Record | None:
        raise NotImplementedError

    def verify(self) -> VerifyReport:
        raise NotImplementedError

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_every_emitted_event_is_stored_in_order(tmp_path: Path) -> None:
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain, max_batch=16, durable=False)
    for n in range(500):
        sink.emit(event(n))
    sink.close()
    records = list(chain.records())
    assert [r.payload()["request_id"] for r in records] == [f"req-{n}" for n in range(500)]
    assert chain.verify().ok
    chain.close()


def test_emit_after_close_is_refused(tmp_path: Path) -> None:
    sink = ChainSink(SqliteChain(tmp_path / "audit.sqlite3"))
    sink.close()
    with pytest.raises(ChainError, match="closed"):
        sink.emit(event(1))


def test_a_failing_store_is_retried_and_nothing_is_lost() -> None:
    store = FlakyStore(failures=3)
    sink = ChainSink(store, retry_delays_s=(0.001,), durable=False)
    for n in range(20):
        sink.emit(event(n))
    sink.close()
    assert [p["request_id"] for p in store.stored] == [f"req-{n}" for n in range(20)]
    assert sink.error is None


def test_a_store_that_keeps_failing_fails_closed() -> None:
    store = FlakyStore(failures=10**9)
    sink = ChainSink(store, retry_delays_s=(0.001,), durable=False)
    sink.emit(event(1))
    deadline = time.monotonic() + 5
    while sink.error is None and time.monotonic() < deadline:
        time.sleep(0.001)
    with pytest.raises(ChainError, match="failing"):
        sink.emit(event(2))
    with pytest.raises(ChainError, match="1 audit event"):
        sink.close()


def test_a_full_queue_raises_instead_of_dropping() -> None:
    gate = threading.Event()
    sink = ChainSink(
        FlakyStore(gate=gate), max_queue=2, max_batch=1, put_timeout_s=0.05, durable=False
    )
    with pytest.raises(ChainError, match="full"):
        for n in range(10):
            sink.emit(event(n))
    gate.set()
    sink.close()


def test_queued_emit_is_cheap_on_the_request_path(tmp_path: Path) -> None:
    """The budget is 0.2 ms per request on average; a queued emit costs microseconds."""
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain, durable=False)
    events = [event(n) for n in range(2000)]
    start = time.perf_counter()
    for item in events:
        sink.emit(item)
    mean_ms = (time.perf_counter() - start) / len(events) * 1000
    sink.close()
    assert chain.verify().count == 2000
    chain.close()
    assert mean_ms < 0.2, f"emit took {mean_ms:.4f} ms on average"


# --- durable mode (the gateway's) ---------------------------------------------------------------


def test_a_durable_emit_has_committed_when_it_returns(tmp_path: Path) -> None:
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain, digest_key=KEY)
    for n in range(50):
        sink.emit(event(n))
        # another connection (another process would see the same) reads it at once
        with SqliteChain(tmp_path / "audit.sqlite3", readonly=True) as reader:
            head = reader.head()
            assert head is not None and head.payload()["request_id"] == f"req-{n}"
    sink.close()
    assert chain.verify().ok and chain.verify().count == 50
    chain.close()


def test_a_durable_emit_that_fails_raises_and_the_next_success_clears_it() -> None:
    store = FlakyStore(failures=1)
    sink = ChainSink(store)
    with pytest.raises(ChainError, match="disk full"):
        sink.emit(event(1))
    assert sink.error is not None
    sink.emit(event(2))
    assert sink.error is None
    assert [p["request_id"] for p in store.stored] == ["req-2"]
    sink.close()


def test_a_durable_emit_encodes_its_payload_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checked and stored from one canonical encoding (sorted keys), not two."""
    calls: list[int] = []
    real = json.dumps

    def counting(value: Any, **kwargs: Any) -> str:
        if kwargs.get("sort_keys"):
            calls.append(1)
        return real(value, **kwargs)

    chain = SqliteChain(tmp_path / "audit.sqlite3")
    sink = ChainSink(chain, digest_key=KEY)
    monkeypatch.setattr(json, "dumps", counting)
    sink.emit(event(1))
    monkeypatch.undo()
    assert len(calls) == 1
    sink.close()
    assert chain.verify().ok
    chain.close()


def test_an_unencodable_event_is_refused_without_failing_the_store() -> None:
    store = FlakyStore()
    sink = ChainSink(store, payload=lambda e: {"request_id": e.request_id, "x": float("nan")})
    with pytest.raises(ChainError, match="cannot be encoded"):
        sink.emit(event(1))
    assert sink.error is None and store.stored == []  # the next exchange is not refused
    sink.close()


def test_durable_mode_syncs_what_it_wrote(tmp_path: Path) -> None:
    synced = threading.Event()

    class Counting(FlakyStore):
        def sync(self) -> None:
            synced.set()

    sink = ChainSink(Counting(), sync_interval_s=0.01)
    assert not synced.wait(0.05)  # nothing written: nothing to sync
    sink.emit(event(1))
    assert synced.wait(5)
    sink.close()


def test_digests_are_keyed_and_never_stored_plain(tmp_path: Path) -> None:
    body = b'{"messages":[{"role":"user","content":"hi [EMAIL_7f3a9c]"}]}'
    plain = body_digest(body)
    chain = SqliteChain(tmp_path / "audit.sqlite3")
    for key in (KEY, None):
        sink = ChainSink(chain, digest_key=key)
        sink.emit(replace(event(1), request_digest=plain, response_digest=plain))
        sink.close()
    keyed, unkeyed = (r.payload() for r in chain.records())
    chain.close()
    assert keyed["ev"] == 2 and keyed["digest_key"] == KEY.id
    assert verify_body(KEY, body, keyed["request_digest"])
    assert not verify_body(
        DigestKey(b"another key of 32 bytes........."), body, keyed["request_digest"]
    )
    assert plain not in json.dumps(keyed)
    assert unkeyed["request_digest"] == unkeyed["response_digest"] == unkeyed["digest_key"] == ""
